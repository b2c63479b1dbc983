"""What customers write to a user's numbers, and the conversations they make."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, BigId, IdMixin, UtcDateTime

# An inbound message's media, on its way into Herald's media store.
MEDIA_PENDING, MEDIA_STORED, MEDIA_FAILED = "pending", "stored", "failed"


class InboundMessage(IdMixin, Base):
    """A message a customer sent to a channel, of any kind Meta sends, stored once."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        Index("ix_inbound_messages_channel_id_id", "channel_id", "id"),
        # One conversation's messages, newest first (interleaved with the outbound ones).
        Index("ix_inbound_messages_user_id_phone_number_id", "user_id", "phone_number", "id"),
        # The media still to fetch from the provider.
        Index(
            "ix_inbound_messages_media_pending",
            "id",
            postgresql_where=sql_text(f"media_status = '{MEDIA_PENDING}'"),
            sqlite_where=sql_text(f"media_status = '{MEDIA_PENDING}'"),
        ),
    )

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    channel_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("channels.id", ondelete="CASCADE"), nullable=False
    )
    provider_message_id: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    phone_number: Mapped[str] = mapped_column(String(16), nullable=False)
    contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    # text | image | video | audio | document | sticker | location | contacts | reaction |
    # button | interactive | unsupported | ... (Meta's ``type``; an unknown kind is kept raw).
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    text: Mapped[str | None] = mapped_column(Text)  # a text's body, a caption, a reply's title
    # A quick-reply tap's payload, an interactive reply's id.
    payload: Mapped[str | None] = mapped_column(Text)
    # The kind's own fields (a location, contacts, a reaction, a media's mime type and file
    # name) or, for a kind Herald does not know, Meta's object as it came.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    context_message_id: Mapped[str | None] = mapped_column(String(128))
    # The message of this user's that it answers (through ``context.id``), when Herald sent it.
    reply_to_message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="SET NULL")
    )
    provider_media_id: Mapped[str | None] = mapped_column(String(128))
    media_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("media_assets.id", ondelete="SET NULL")
    )
    media_status: Mapped[str | None] = mapped_column(String(10))  # MEDIA_*; None: no media
    media_attempts: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, default=0, server_default=sql_text("0")
    )
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Conversation(IdMixin, Base):
    """One customer of one of a user's numbers: written to when the customer writes (the
    customer-service window runs 24 h from ``last_inbound_at``) or the conversation is read."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index(
            "uq_conversations_user_id_channel_id_phone_number",
            "user_id",
            "channel_id",
            "phone_number",
            unique=True,
        ),
        Index("ix_conversations_user_id_last_inbound_at", "user_id", "last_inbound_at", "id"),
    )

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    channel_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("channels.id", ondelete="CASCADE"), nullable=False
    )
    phone_number: Mapped[str] = mapped_column(String(16), nullable=False)
    contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    last_inbound_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    last_inbound_id: Mapped[int | None] = mapped_column(BigId)
    unread_count: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=sql_text("0")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
