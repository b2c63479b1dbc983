"""several senders (channels) per user, one default; templates belong to a WABA

Revision ID: 0018_senders
Revises: 0017_message_received
Create Date: 2026-12-04 19:30:00

A user may have several channels (numbers), in one or more WhatsApp Business Accounts: the
unique constraint on ``channels.user_id`` goes, and ``channels.is_default`` marks the one a send
naming no sender goes from (a partial unique index keeps it one a user). Every existing channel
was its user's only one: it becomes the default. A template belongs to a WABA (Meta's templates
do): ``templates.waba_id`` is filled from the template's channel, and a template is unique per
(user, WABA, name, language), so the same template may exist in two WABAs of one user.

Downgrading refuses when a user has several channels or a template exists in several WABAs:
the old schema cannot hold them.

On SQLite, dropping a unique constraint copies the table (batch mode), and dropping the old
copy with foreign keys on would run every child's ON DELETE (SET NULL on messages' and
templates' channel, CASCADE on conversations and inbound messages): foreign keys are off
while the tables are copied. SQLite ignores that pragma inside a transaction, so the one
open is committed first (SQLite's DDL is not transactional here anyway).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision: str = "0018_senders"
down_revision: str | None = "0017_message_received"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


@contextmanager
def _foreign_keys_off() -> Iterator[None]:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    raw = bind.connection.dbapi_connection
    assert raw is not None
    raw.commit()
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        yield
        problems = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
        if problems:
            raise RuntimeError(f"0018_senders left foreign keys broken: {problems[:5]}")
    finally:
        raw.commit()
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")


def upgrade() -> None:
    with _foreign_keys_off():
        _upgrade()


def downgrade() -> None:
    with _foreign_keys_off():
        _downgrade()


def _upgrade() -> None:
    with op.batch_alter_table("channels") as table:
        table.add_column(
            sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        table.drop_constraint("uq_channels_user_id", type_="unique")
        table.create_index("ix_channels_user_id", ["user_id"], unique=False)
    op.execute(sa.text("UPDATE channels SET is_default = true"))
    op.create_index(
        "uq_channels_user_id_default",
        "channels",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("is_default"),
        sqlite_where=sa.text("is_default = 1"),
    )
    with op.batch_alter_table("templates") as table:
        table.add_column(sa.Column("waba_id", sa.String(length=64), nullable=True))
    op.execute(
        sa.text(
            "UPDATE templates SET waba_id = "
            "(SELECT channels.waba_id FROM channels WHERE channels.id = templates.channel_id)"
        )
    )
    with op.batch_alter_table("templates") as table:
        table.drop_constraint("uq_templates_user_id_name_language", type_="unique")
        table.create_unique_constraint(
            "uq_templates_user_id_waba_id_name_language", ["user_id", "waba_id", "name", "language"]
        )
    op.create_index(
        "uq_templates_user_id_name_language_no_waba",
        "templates",
        ["user_id", "name", "language"],
        unique=True,
        postgresql_where=sa.text("waba_id IS NULL"),
        sqlite_where=sa.text("waba_id IS NULL"),
    )


def _downgrade() -> None:
    connection = op.get_bind()
    several = connection.execute(
        sa.text("SELECT user_id FROM channels GROUP BY user_id HAVING COUNT(*) > 1 LIMIT 1")
    ).first()
    twice = connection.execute(
        sa.text(
            "SELECT user_id FROM templates GROUP BY user_id, name, language "
            "HAVING COUNT(*) > 1 LIMIT 1"
        )
    ).first()
    if several is not None or twice is not None:
        raise RuntimeError(
            "0018_senders cannot be downgraded: a user has several channels or a template in "
            "several WABAs; remove them first"
        )
    op.drop_index("uq_templates_user_id_name_language_no_waba", table_name="templates")
    with op.batch_alter_table("templates") as table:
        table.drop_constraint("uq_templates_user_id_waba_id_name_language", type_="unique")
        table.create_unique_constraint(
            "uq_templates_user_id_name_language", ["user_id", "name", "language"]
        )
        table.drop_column("waba_id")
    op.drop_index("uq_channels_user_id_default", table_name="channels")
    with op.batch_alter_table("channels") as table:
        table.drop_index("ix_channels_user_id")
        table.create_unique_constraint("uq_channels_user_id", ["user_id"])
        table.drop_column("is_default")
