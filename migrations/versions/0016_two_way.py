"""two-way messaging: every inbound kind kept, conversations, free-form messages

Revision ID: 0016_two_way
Revises: 0015_template_events
Create Date: 2026-12-04 15:45:00

Customers' messages were kept only to spot STOP: they now keep what each kind carries (a
quick-reply's payload, a media's id at the provider and, once fetched, Herald's copy, a
location, contacts, a reaction, an unknown kind raw), the contact and the outbound message
they answer. A conversation is one customer of one number: it holds when the customer last
wrote (the 24-hour window) and how many of their messages are unread. A message is a template
or a free-form message (``kind``), and a conversation's outbound messages are read by number.
A callback delivery may announce a received message.

Existing inbound messages take their user from their channel. Downgrading drops the
conversations, the free-form messages (they cannot be told from templates without ``kind``) and
the received-message deliveries.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import herald.models.base

revision: str = "0016_two_way"
down_revision: str | None = "0015_template_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = herald.models.base.UtcDateTime(timezone=True)


def upgrade() -> None:
    # Added in place (a constant default needs no copy of the table on either database).
    op.add_column(
        "messages",
        sa.Column("kind", sa.String(length=12), server_default="template", nullable=False),
    )
    op.create_index(
        "ix_messages_user_id_phone_number_id", "messages", ["user_id", "phone_number", "id"]
    )
    op.add_column(
        "media_assets",
        sa.Column("origin", sa.String(length=10), server_default="upload", nullable=False),
    )
    _inbound_messages()
    _conversations()
    with op.batch_alter_table("callback_deliveries") as table:
        table.add_column(sa.Column("inbound_message_id", BIG_ID, nullable=True))
        table.create_foreign_key(
            op.f("fk_callback_deliveries_inbound_message_id_inbound_messages"),
            "inbound_messages",
            ["inbound_message_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.create_index(
        "ix_callback_deliveries_inbound",
        "callback_deliveries",
        ["inbound_message_id", "endpoint_id"],
        postgresql_where=sa.text("inbound_message_id IS NOT NULL"),
        sqlite_where=sa.text("inbound_message_id IS NOT NULL"),
    )


def _inbound_messages() -> None:
    with op.batch_alter_table("inbound_messages") as table:
        table.add_column(sa.Column("user_id", BIG_ID, nullable=True))
        table.add_column(sa.Column("contact_id", BIG_ID, nullable=True))
        table.add_column(sa.Column("payload", sa.Text(), nullable=True))
        table.add_column(sa.Column("details", sa.JSON(), nullable=True))
        table.add_column(sa.Column("reply_to_message_id", BIG_ID, nullable=True))
        table.add_column(sa.Column("provider_media_id", sa.String(length=128), nullable=True))
        table.add_column(sa.Column("media_id", BIG_ID, nullable=True))
        table.add_column(sa.Column("media_status", sa.String(length=10), nullable=True))
        table.add_column(
            sa.Column("media_attempts", sa.SmallInteger(), server_default="0", nullable=False)
        )
        table.add_column(sa.Column("read_at", UTC, nullable=True))
    op.execute(
        "UPDATE inbound_messages SET user_id = "
        "(SELECT channels.user_id FROM channels WHERE channels.id = inbound_messages.channel_id)"
    )
    with op.batch_alter_table("inbound_messages") as table:
        table.alter_column("user_id", existing_type=BIG_ID, nullable=False)
        for column, target, ondelete in (
            ("user_id", "users", "CASCADE"),
            ("contact_id", "contacts", "SET NULL"),
            ("reply_to_message_id", "messages", "SET NULL"),
            ("media_id", "media_assets", "SET NULL"),
        ):
            table.create_foreign_key(
                op.f(f"fk_inbound_messages_{column}_{target}"),
                target,
                [column],
                ["id"],
                ondelete=ondelete,
            )
    op.create_index(
        "ix_inbound_messages_user_id_phone_number_id",
        "inbound_messages",
        ["user_id", "phone_number", "id"],
    )
    op.create_index(
        "ix_inbound_messages_media_pending",
        "inbound_messages",
        ["id"],
        postgresql_where=sa.text("media_status = 'pending'"),
        sqlite_where=sa.text("media_status = 'pending'"),
    )


def _conversations() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("channel_id", BIG_ID, nullable=False),
        sa.Column("phone_number", sa.String(length=16), nullable=False),
        sa.Column("contact_id", BIG_ID, nullable=True),
        sa.Column("last_inbound_at", UTC, nullable=False),
        sa.Column("last_inbound_id", BIG_ID, nullable=True),
        sa.Column("unread_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_conversations_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_conversations_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_conversations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_index(
        "uq_conversations_user_id_channel_id_phone_number",
        "conversations",
        ["user_id", "channel_id", "phone_number"],
        unique=True,
    )
    op.create_index(
        "ix_conversations_user_id_last_inbound_at",
        "conversations",
        ["user_id", "last_inbound_at", "id"],
    )


def downgrade() -> None:
    op.drop_table("conversations")
    op.drop_index("ix_callback_deliveries_inbound", table_name="callback_deliveries")
    op.execute("DELETE FROM callback_deliveries WHERE inbound_message_id IS NOT NULL")
    with op.batch_alter_table("callback_deliveries") as table:
        table.drop_constraint(
            op.f("fk_callback_deliveries_inbound_message_id_inbound_messages"),
            type_="foreignkey",
        )
        table.drop_column("inbound_message_id")
    op.drop_index("ix_inbound_messages_media_pending", table_name="inbound_messages")
    op.drop_index("ix_inbound_messages_user_id_phone_number_id", table_name="inbound_messages")
    with op.batch_alter_table("inbound_messages") as table:
        for column, target in (
            ("user_id", "users"),
            ("contact_id", "contacts"),
            ("reply_to_message_id", "messages"),
            ("media_id", "media_assets"),
        ):
            table.drop_constraint(
                op.f(f"fk_inbound_messages_{column}_{target}"), type_="foreignkey"
            )
        for column in (
            "read_at",
            "media_attempts",
            "media_status",
            "media_id",
            "provider_media_id",
            "reply_to_message_id",
            "details",
            "payload",
            "contact_id",
            "user_id",
        ):
            table.drop_column(column)
    op.execute("DELETE FROM messages WHERE kind <> 'template'")
    op.drop_index("ix_messages_user_id_phone_number_id", table_name="messages")
    op.drop_column("media_assets", "origin")
    op.drop_column("messages", "kind")
