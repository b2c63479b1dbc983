"""dead letters: webhook events set aside

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import herald.models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("dead_at", herald.models.base.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_webhook_events_dead",
            ["id"],
            unique=False,
            postgresql_where=sa.text("dead_at IS NOT NULL"),
            sqlite_where=sa.text("dead_at IS NOT NULL"),
        )
    with op.batch_alter_table("callback_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_callback_deliveries_dead",
            ["endpoint_id", "id"],
            unique=False,
            postgresql_where=sa.text("delivered = false"),
            sqlite_where=sa.text("delivered = 0"),
        )
    # Events abandoned before this column existed were marked processed with their error.
    op.execute(
        "UPDATE webhook_events SET dead_at = processed_at "
        "WHERE processed_at IS NOT NULL AND attempts >= 5"
    )


def downgrade() -> None:
    with op.batch_alter_table("callback_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_callback_deliveries_dead")
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_events_dead")
        batch_op.drop_column("dead_at")
