"""message.received for the callbacks that took every event

Revision ID: 0017_message_received
Revises: 0016_two_way
Create Date: 2026-12-04 16:30:00

A callback registered before ``message.received`` existed and taking every event there was
(``message.status`` and ``template.updated``: the default) takes it too, as a new callback does
by default. A callback that chose a subset keeps its choice: its owner left something out on
purpose. Data only; downgrading takes ``message.received`` off every callback again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_message_received"
down_revision: str | None = "0016_two_way"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE_RECEIVED = "message.received"
EVERY_EVENT_BEFORE = {"message.status", "template.updated"}

endpoints = sa.table(
    "callback_endpoints", sa.column("id", sa.BigInteger()), sa.column("events", sa.JSON())
)


def _set_events(add: bool) -> None:
    connection = op.get_bind()
    for endpoint_id, events in connection.execute(sa.select(endpoints.c.id, endpoints.c.events)):
        kept = [e for e in events or [] if e != MESSAGE_RECEIVED]
        took_every = set(kept) >= EVERY_EVENT_BEFORE
        wanted = [*kept, MESSAGE_RECEIVED] if add and took_every else kept
        if wanted != events:
            connection.execute(
                sa.update(endpoints).where(endpoints.c.id == endpoint_id).values(events=wanted)
            )


def upgrade() -> None:
    _set_events(add=True)


def downgrade() -> None:
    _set_events(add=False)
