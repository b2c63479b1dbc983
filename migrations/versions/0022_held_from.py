"""messages held for the messaging limit remember when they were first due

Revision ID: 0022_held_from
Revises: 0021_messaging_limit
Create Date: 2026-12-04 22:20:00

A held message's ``scheduled_at`` is when the window frees; ``held_from`` keeps when it was due
before the hold (its ``send_at``, or when it was accepted), so that a tier upgrade releases it
no earlier than its sender asked. Messages held before this revision have none: they are
released at once, as before. Downgrading drops it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import herald.models.base

revision: str = "0022_held_from"
down_revision: str | None = "0021_messaging_limit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "messages",
        sa.Column("held_from", herald.models.base.UtcDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("messages") as table:
        table.drop_column("held_from")
