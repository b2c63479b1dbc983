"""callback secrets rotate: the previous secret stays valid for a while

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 08:00:00

While ``previous_secret_expires_at`` is ahead, deliveries carry a signature made with the
previous secret as well as the current one (Standard Webhooks: several space-separated
signatures), so a receiver switches secrets without refusing a delivery.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import herald.models.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("callback_endpoints") as table:
        table.add_column(sa.Column("previous_secret_encrypted", sa.Text(), nullable=True))
        table.add_column(
            sa.Column(
                "previous_secret_expires_at",
                herald.models.base.UtcDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("callback_endpoints") as table:
        table.drop_column("previous_secret_expires_at")
        table.drop_column("previous_secret_encrypted")
