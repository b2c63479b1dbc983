"""templates as Meta has them: imported templates, named parameters, quality, sendability

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 17:00:00

A business arrives with templates Meta already approved: Herald imports them (issue 21). A
template's parameters are positional (``{{1}}``) or named (``{{first_name}}``); Meta rates its
quality; a kind Herald cannot send yet (a carousel, a catalog...) is kept, listed as not
sendable with the reason, with Meta's components as they were read.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("templates") as table:
        table.add_column(
            sa.Column(
                "parameter_format",
                sa.String(length=10),
                nullable=False,
                server_default="POSITIONAL",
            )
        )
        table.add_column(sa.Column("quality", sa.String(length=20), nullable=True))
        table.add_column(
            sa.Column("sendable", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        table.add_column(sa.Column("unsendable_reason", sa.Text(), nullable=True))
        table.add_column(sa.Column("components", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("templates") as table:
        table.drop_column("components")
        table.drop_column("unsendable_reason")
        table.drop_column("sendable")
        table.drop_column("quality")
        table.drop_column("parameter_format")
