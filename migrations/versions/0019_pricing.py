"""Meta's pricing on each message, the operator's rate card, messages by creation time

Revision ID: 0019_pricing
Revises: 0017_message_received
Create Date: 2026-12-04 19:30:00

A message keeps the pricing its latest status webhook carried (billable, Meta's pricing
category, the pricing model): None on the existing messages, whose statuses were applied
without it. The rate card (``rates``) prices a category per country calling code, or for every
country (``*``), in one currency. The analytics read one user's messages created in a period:
an index on (user_id, created_at). Downgrading drops the columns, the index and the card.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import herald.models.base

revision: str = "0019_pricing"
down_revision: str | None = "0018_senders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = herald.models.base.UtcDateTime(timezone=True)


def upgrade() -> None:
    # Nullable columns without a default: added in place on both databases, no table copy.
    op.add_column("messages", sa.Column("billable", sa.Boolean(), nullable=True))
    op.add_column("messages", sa.Column("pricing_category", sa.String(length=40), nullable=True))
    op.add_column("messages", sa.Column("pricing_model", sa.String(length=8), nullable=True))
    op.create_index("ix_messages_user_id_created_at", "messages", ["user_id", "created_at"])
    op.create_table(
        "rates",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("pricing_category", sa.String(length=40), nullable=False),
        sa.Column("country_calling_code", sa.String(length=4), nullable=False),
        sa.Column("price", sa.Numeric(precision=14, scale=6), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rates")),
        sa.UniqueConstraint(
            "pricing_category",
            "country_calling_code",
            name=op.f("uq_rates_pricing_category_country_calling_code"),
        ),
    )


def downgrade() -> None:
    op.drop_table("rates")
    op.drop_index("ix_messages_user_id_created_at", table_name="messages")
    with op.batch_alter_table("messages") as table:
        table.drop_column("pricing_model")
        table.drop_column("pricing_category")
        table.drop_column("billable")
