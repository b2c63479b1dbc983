"""callbacks: one per (user, URL), URLs stored as the delivery's HTTP client reads them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 09:30:00

Two callbacks on one URL only deliver every event twice (a secret is rotated on the callback
itself since 0012), so a second create is 409 ``callback_exists``. Existing URLs are stored in
the form a create now stores (``urls.canonical``: scheme and host lower-cased, no default
port, no fragment).

Callbacks on the same URL made before this revision are merged, nothing dropped that a
receiver relies on: the oldest is kept (it has every event any of them was given, being
registered first); it signs with the newest one's secret from now on and with its own as the
previous secret for 7 days (the longest overlap a rotation grants), so a receiver that
verifies with either keeps accepting deliveries. The newer ones are deleted with their queued
deliveries, which the kept one has too. Downgrading drops the index only.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import herald.models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OVERLAP = timedelta(days=7)

endpoints = sa.table(
    "callback_endpoints",
    sa.column("id", sa.BigInteger()),
    sa.column("user_id", sa.BigInteger()),
    sa.column("url", sa.String()),
    sa.column("secret_encrypted", sa.Text()),
    sa.column("previous_secret_encrypted", sa.Text()),
    sa.column("previous_secret_expires_at", herald.models.base.UtcDateTime(timezone=True)),
)
deliveries = sa.table("callback_deliveries", sa.column("endpoint_id", sa.BigInteger()))


def _normalised(url: str) -> str:
    from herald.callback.urls import CallbackUrlRefused, canonical, parse

    try:
        return canonical(parse(url)[0])
    except CallbackUrlRefused:
        return url  # refused at its next delivery anyway; its spelling is kept


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            endpoints.c.id, endpoints.c.user_id, endpoints.c.url, endpoints.c.secret_encrypted
        ).order_by(endpoints.c.id)
    ).all()
    groups: dict[tuple[int, str], list[sa.Row[tuple[int, int, str, str]]]] = {}
    for row in rows:
        groups.setdefault((row.user_id, _normalised(row.url)), []).append(row)
    expires = datetime.now(UTC) + OVERLAP
    for (_, url), same in groups.items():
        kept, newest, dropped = same[0], same[-1], [row.id for row in same[1:]]
        values: dict[str, object] = {"url": url}
        if dropped:
            values.update(
                secret_encrypted=newest.secret_encrypted,
                previous_secret_encrypted=kept.secret_encrypted,
                previous_secret_expires_at=expires,
            )
            connection.execute(sa.delete(deliveries).where(deliveries.c.endpoint_id.in_(dropped)))
            connection.execute(sa.delete(endpoints).where(endpoints.c.id.in_(dropped)))
        if dropped or url != kept.url:
            connection.execute(
                sa.update(endpoints).where(endpoints.c.id == kept.id).values(**values)
            )
    op.create_index(
        "uq_callback_endpoints_user_id_url", "callback_endpoints", ["user_id", "url"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_callback_endpoints_user_id_url", table_name="callback_endpoints")
