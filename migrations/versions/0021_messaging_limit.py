"""messaging limit: the customers each WABA reached, messages held for the limit

Revision ID: 0021_messaging_limit
Revises: 0020_channel_health
Create Date: 2026-12-04 19:40:00

Meta limits how many unique customers a business reaches with business-initiated templates in a
rolling 24 hours (its tier). Herald keeps, per user, WABA and number, the latest time a template
reached (or is due to reach) that customer: the rows of the last 24 hours are the tier's usage.
A message held back for the limit says so (``held_reason``), and the held ones of a WABA are
found by a small partial index. Existing data needs nothing: no WABA has a tier yet, so none
is limited, and no message was held. Downgrading drops both.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import herald.models.base

revision: str = "0021_messaging_limit"
down_revision: str | None = "0020_channel_health"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = herald.models.base.UtcDateTime(timezone=True)
HELD = "state = 'queued' AND held_reason IS NOT NULL"


def upgrade() -> None:
    op.add_column("messages", sa.Column("held_reason", sa.String(length=20), nullable=True))
    op.create_index(
        "ix_messages_held",
        "messages",
        ["channel_id", "scheduled_at"],
        postgresql_where=sa.text(HELD),
        sqlite_where=sa.text(HELD),
    )
    op.create_table(
        "messaging_reaches",
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("waba_id", sa.String(length=64), nullable=False),
        sa.Column("phone_number", sa.String(length=16), nullable=False),
        sa.Column("reached_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_messaging_reaches_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "waba_id", "phone_number", name=op.f("pk_messaging_reaches")
        ),
    )
    op.create_index(
        "ix_messaging_reaches_window",
        "messaging_reaches",
        ["user_id", "waba_id", "reached_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_messaging_reaches_window", table_name="messaging_reaches")
    op.drop_table("messaging_reaches")
    op.drop_index("ix_messages_held", table_name="messages")
    with op.batch_alter_table("messages") as table:
        table.drop_column("held_reason")
