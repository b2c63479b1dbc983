"""a channel's health: quality, messaging limit tier, account status and restrictions

Revision ID: 0020_channel_health
Revises: 0017_message_received
Create Date: 2026-12-04 19:30:00

Meta tells a number's health through its account webhooks (phone_number_quality_update,
account_update, business_capability_update): each channel keeps the quality rating, the
messaging limit tier, the account status with the restrictions in force (and until when) and
why, and when that last changed. A callback delivery may announce a channel's change
(``channel_id``, in order per channel and endpoint). Existing channels start as Meta would show an unreported
number: quality UNKNOWN, status CONNECTED, no tier (NULL: nothing is held to a guessed tier).

A callback that took every event there was (``message.status``, ``template.updated``,
``message.received``) takes the new ``channel.updated`` too, as 0017 did for
``message.received``; one that chose a subset keeps its choice. Downgrading drops the columns
and takes ``channel.updated`` off every callback.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import herald.models.base

revision: str = "0020_channel_health"
down_revision: str | None = "0019_pricing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = herald.models.base.UtcDateTime(timezone=True)
CHANNEL_UPDATED = "channel.updated"
EVERY_EVENT_BEFORE = {"message.status", "template.updated", "message.received"}

endpoints = sa.table(
    "callback_endpoints", sa.column("id", sa.BigInteger()), sa.column("events", sa.JSON())
)


def _set_events(add: bool) -> None:
    connection = op.get_bind()
    for endpoint_id, events in connection.execute(sa.select(endpoints.c.id, endpoints.c.events)):
        kept = [e for e in events or [] if e != CHANNEL_UPDATED]
        took_every = set(kept) >= EVERY_EVENT_BEFORE
        wanted = [*kept, CHANNEL_UPDATED] if add and took_every else kept
        if wanted != events:
            connection.execute(
                sa.update(endpoints).where(endpoints.c.id == endpoint_id).values(events=wanted)
            )


def upgrade() -> None:
    # Added in place (constant defaults and nullable columns need no copy of the table).
    op.add_column(
        "channels",
        sa.Column("quality_rating", sa.String(length=16), server_default="UNKNOWN", nullable=False),
    )
    op.add_column("channels", sa.Column("messaging_limit_tier", sa.String(length=16)))
    op.add_column(
        "channels",
        sa.Column(
            "account_status", sa.String(length=16), server_default="CONNECTED", nullable=False
        ),
    )
    op.add_column("channels", sa.Column("restrictions", sa.JSON()))
    op.add_column("channels", sa.Column("restricted_until", UTC))
    op.add_column("channels", sa.Column("status_reason", sa.String(length=300)))
    op.add_column("channels", sa.Column("health_updated_at", UTC))
    with op.batch_alter_table("callback_deliveries") as table:
        table.add_column(sa.Column("channel_id", BIG_ID, nullable=True))
        table.create_foreign_key(
            op.f("fk_callback_deliveries_channel_id_channels"),
            "channels",
            ["channel_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.create_index(
        "ix_callback_deliveries_channel",
        "callback_deliveries",
        ["channel_id", "endpoint_id"],
        postgresql_where=sa.text("channel_id IS NOT NULL"),
        sqlite_where=sa.text("channel_id IS NOT NULL"),
    )
    _set_events(add=True)


def downgrade() -> None:
    _set_events(add=False)
    op.drop_index("ix_callback_deliveries_channel", table_name="callback_deliveries")
    op.execute("DELETE FROM callback_deliveries WHERE channel_id IS NOT NULL")
    with op.batch_alter_table("callback_deliveries") as table:
        table.drop_constraint(
            op.f("fk_callback_deliveries_channel_id_channels"), type_="foreignkey"
        )
        table.drop_column("channel_id")
    with op.batch_alter_table("channels") as table:
        for column in (
            "health_updated_at",
            "status_reason",
            "restricted_until",
            "restrictions",
            "account_status",
            "messaging_limit_tier",
            "quality_rating",
        ):
            table.drop_column(column)
