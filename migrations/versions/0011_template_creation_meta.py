"""template creation as Meta defines it: channels.app_id, template samples and OTP options

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 07:45:00

Media-header templates need a sample file (uploaded to Meta through the app's Resumable Upload
API, hence the app id); a TEXT header variable needs its sample value; AUTHENTICATION templates
keep Meta's options instead of a body of their own.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channels") as table:
        table.add_column(sa.Column("app_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("templates") as table:
        table.add_column(sa.Column("header_example", sa.String(length=60), nullable=True))
        table.add_column(
            sa.Column(
                "header_sample_media_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        table.add_column(sa.Column("authentication", sa.JSON(), nullable=True))
        table.create_foreign_key(
            op.f("fk_templates_header_sample_media_id_media_assets"),
            "media_assets",
            ["header_sample_media_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("templates") as table:
        table.drop_constraint(
            op.f("fk_templates_header_sample_media_id_media_assets"), type_="foreignkey"
        )
        table.drop_column("authentication")
        table.drop_column("header_sample_media_id")
        table.drop_column("header_example")
    with op.batch_alter_table("channels") as table:
        table.drop_column("app_id")
