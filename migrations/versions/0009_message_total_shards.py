"""message totals split into shards

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 19:40:00

One row per user made every send of that user wait for the previous send's commit (the
upsert locks the row until then); the count is now spread over several rows per user.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("message_totals") as table:
        table.add_column(
            sa.Column("shard", sa.SmallInteger(), nullable=False, server_default=sa.text("0"))
        )
        table.drop_constraint("pk_message_totals", type_="primary")
        table.create_primary_key("pk_message_totals", ["user_id", "shard"])


def downgrade() -> None:
    op.execute(
        "INSERT INTO message_totals (user_id, shard, total) "
        "SELECT user_id, -1, sum(total) FROM message_totals GROUP BY user_id"
    )
    op.execute("DELETE FROM message_totals WHERE shard <> -1")
    with op.batch_alter_table("message_totals") as table:
        table.drop_constraint("pk_message_totals", type_="primary")
        table.create_primary_key("pk_message_totals", ["user_id"])
        table.drop_column("shard")
