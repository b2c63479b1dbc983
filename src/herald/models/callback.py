from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, BigId, IdMixin, UtcDateTime


class CallbackEndpoint(IdMixin, Base):
    """A URL of a user's that hears about every state change of the user's messages; one per
    URL (stored as the delivery's HTTP client reads it), since a second would only deliver every
    event twice (a secret is rotated on the callback itself)."""

    __tablename__ = "callback_endpoints"
    __table_args__ = (
        Index("ix_callback_endpoints_user_id_id", "user_id", "id"),
        Index("uq_callback_endpoints_user_id_url", "user_id", "url", unique=True),
    )

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    events: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    # Encrypted, not hashed: Herald signs every delivery with it.
    secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    # The secret a rotation replaced: deliveries are signed with it too until it expires, so a
    # receiver can switch secrets without refusing a single delivery.
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime(), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class CallbackDelivery(IdMixin, Base):
    """The outbox: one message state (or one change of a template) to tell one endpoint,
    retried until it is taken or 24 h have passed; a message's (a template's) deliveries to one
    endpoint go out in order."""

    __tablename__ = "callback_deliveries"
    __table_args__ = (
        Index(
            "uq_callback_deliveries_endpoint_message_state",
            "endpoint_id",
            "message_id",
            "state",
            unique=True,
        ),
        Index(
            "ix_callback_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("done_at IS NULL"),
            sqlite_where=text("done_at IS NULL"),
        ),
        # The deliveries set aside (given up), listed per endpoint and counted for /metrics.
        Index(
            "ix_callback_deliveries_dead",
            "endpoint_id",
            "id",
            postgresql_where=text("delivered = false"),
            sqlite_where=text("delivered = 0"),
        ),
        # A template's deliveries to one endpoint, in order (``due_heads``); and the cascade
        # when the template is deleted.
        Index(
            "ix_callback_deliveries_template",
            "template_id",
            "endpoint_id",
            postgresql_where=text("template_id IS NOT NULL"),
            sqlite_where=text("template_id IS NOT NULL"),
        ),
        Index(
            "ix_callback_deliveries_inbound",
            "inbound_message_id",
            "endpoint_id",
            postgresql_where=text("inbound_message_id IS NOT NULL"),
            sqlite_where=text("inbound_message_id IS NOT NULL"),
        ),
        # A channel's channel.updated deliveries to one endpoint, in order; and the cascade.
        Index(
            "ix_callback_deliveries_channel",
            "channel_id",
            "endpoint_id",
            postgresql_where=text("channel_id IS NOT NULL"),
            sqlite_where=text("channel_id IS NOT NULL"),
        ),
    )

    endpoint_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("callback_endpoints.id", ondelete="CASCADE"), nullable=False
    )
    # A message.status event: its message; a template.updated event: its template, and the
    # event itself, as of the change (a template keeps no history to rebuild it from).
    message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="CASCADE")
    )
    template_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("templates.id", ondelete="CASCADE")
    )
    # A message.received event: the customer's message (and the event, as of its arrival).
    inbound_message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("inbound_messages.id", ondelete="CASCADE")
    )
    # A channel.updated event: the channel whose health changed (and the event, as of then).
    channel_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("channels.id", ondelete="CASCADE")
    )
    event: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The state the event announces: the message's, or the template's after the change.
    state: Mapped[str] = mapped_column(String(10), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_status: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(String(300))
    # Set when the receiver took it (delivered) or Herald gave up and set it aside (after 24 h,
    # or after ``MAX_BROKEN_ATTEMPTS`` attempts Herald itself could not make): no longer due.
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    delivered: Mapped[bool | None] = mapped_column(Boolean)
