from __future__ import annotations

from datetime import datetime

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
    """The outbox: one message state to tell one endpoint, retried until it is taken or 24 h
    have passed; a message's deliveries to one endpoint go out in order."""

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
    )

    endpoint_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("callback_endpoints.id", ondelete="CASCADE"), nullable=False
    )
    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False
    )
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
