from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
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

# The state names, also imported from here: the states themselves live in lifecycle.py.
from herald.models.lifecycle import CANCELLED as CANCELLED
from herald.models.lifecycle import DELIVERED as DELIVERED
from herald.models.lifecycle import FAILED as FAILED
from herald.models.lifecycle import QUEUED as QUEUED
from herald.models.lifecycle import READ as READ
from herald.models.lifecycle import SENDING as SENDING
from herald.models.lifecycle import SENT as SENT

# Priority: transactional sends go before bulk sends on the same channel.
TRANSACTIONAL, BULK = 0, 1

# A message's kind: a template, or a free-form message (inside the customer-service window)
# of one of Meta's types: text, image, video, audio, document, interactive.
TEMPLATE = "template"


class Message(IdMixin, Base):
    """One message to one recipient (a template, or a free-form reply inside the customer's
    24-hour window): the API's record and the dispatcher's queue row."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_user_id_id", "user_id", "id"),
        # The analytics' and the dashboard's ranges: one user's messages created in a period.
        Index("ix_messages_user_id_created_at", "user_id", "created_at"),
        Index("ix_messages_user_id_group_id", "user_id", "whatsapp_bulk_group_id", "id"),
        Index("ix_messages_provider_message_id", "provider_message_id"),
        # One conversation's outbound messages, newest first.
        Index("ix_messages_user_id_phone_number_id", "user_id", "phone_number", "id"),
        # The hot part of the queue: only due, unclaimed rows are indexed.
        Index(
            "ix_messages_due",
            "channel_id",
            "priority",
            "next_attempt_at",
            postgresql_where=text(f"state = '{QUEUED}'"),
            sqlite_where=text(f"state = '{QUEUED}'"),
        ),
        Index(
            "ix_messages_in_flight",
            "lease_expires_at",
            postgresql_where=text(f"state = '{SENDING}'"),
            sqlite_where=text(f"state = '{SENDING}'"),
        ),
        # A WABA's messages held for its messaging limit, to release on a tier upgrade.
        Index(
            "ix_messages_held",
            "channel_id",
            "scheduled_at",
            postgresql_where=text(f"state = '{QUEUED}' AND held_reason IS NOT NULL"),
            sqlite_where=text(f"state = '{QUEUED}' AND held_reason IS NOT NULL"),
        ),
        # "Is this file still needed?" before a media asset is deleted.
        Index(
            "ix_messages_header_media_id",
            "header_media_id",
            postgresql_where=text("header_media_id IS NOT NULL"),
            sqlite_where=text("header_media_id IS NOT NULL"),
        ),
    )

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    channel_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("channels.id", ondelete="SET NULL")
    )
    template_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("templates.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(
        String(12), nullable=False, default=TEMPLATE, server_default=TEMPLATE
    )
    # A free-form message's are "" (it has no template).
    template_name: Mapped[str] = mapped_column(String(512), nullable=False)
    template_language: Mapped[str] = mapped_column(String(16), nullable=False)
    contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    phone_number: Mapped[str] = mapped_column(String(16), nullable=False)
    country_code: Mapped[str] = mapped_column(String(2), nullable=False)
    whatsapp_bulk_group_id: Mapped[str] = mapped_column(String(36), nullable=False)
    priority: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=TRANSACTIONAL)
    # What the provider payload is built from: body params, buttons, header media, OTP; or a
    # free-form message's body, media, interactive parts and the message it replies to.
    content: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    # Also in ``content``; a column so that deleting a file can ask which messages need it. No
    # foreign key: a sent message keeps the id of a file deleted after it left.
    header_media_id: Mapped[int | None] = mapped_column(BigId)
    state: Mapped[str] = mapped_column(String(10), nullable=False, default=QUEUED)
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_title: Mapped[str | None] = mapped_column(Text)
    error_detail: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    scheduled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    deadline_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    pair_rate_hits: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Set just before the request leaves: from then on a crash means "outcome unknown".
    in_flight_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome_unknown_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    # Why Herald held it back past when it was asked for (``MESSAGING_LIMIT``: the WABA's
    # messaging limit was reached; its ``scheduled_at`` is when the window frees), or None.
    held_reason: Mapped[str | None] = mapped_column(String(20))
    # When a held message was due before the hold (its ``send_at``, or when it was accepted):
    # a release sends it no earlier. None: not held at intake.
    held_from: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Meta's pricing, as its latest status webhook carrying one gave it; None until then.
    billable: Mapped[bool | None] = mapped_column(Boolean)
    pricing_category: Mapped[str | None] = mapped_column(String(40))  # marketing, service ...
    pricing_model: Mapped[str | None] = mapped_column(String(8))  # CBP | PMP

    @property
    def is_free_form(self) -> bool:
        """Not a template (``kind`` is None only on a row built in memory and not stored yet:
        the column's default is ``TEMPLATE``)."""
        return self.kind is not None and self.kind != TEMPLATE


# ``held_reason``: the WABA's messaging limit (unique customers a rolling 24 h) was reached.
MESSAGING_LIMIT = "messaging_limit"
MESSAGING_LIMIT_WINDOW = timedelta(hours=24)  # Meta counts customers over a rolling 24 h


class MessagingReach(Base):
    """A customer (number) a WABA reached, or will reach, with a business-initiated template:
    one row per user, WABA and number, at the latest time counted. The messaging limit's usage
    is the rows after ``now - 24 h`` (``message/limit.py``). Kept only for WABAs with a tier."""

    __tablename__ = "messaging_reaches"
    __table_args__ = (Index("ix_messaging_reaches_window", "user_id", "waba_id", "reached_at"),)

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    waba_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone_number: Mapped[str] = mapped_column(String(16), primary_key=True)
    reached_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class Attempt(IdMixin, Base):
    """One provider call for one message, whatever came of it."""

    __tablename__ = "message_attempts"
    __table_args__ = (Index("ix_message_attempts_message_id", "message_id"),)

    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False
    )
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)  # accepted | ErrorKind
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_title: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(128))


class IdempotencyKey(Base):
    """The first answer to a keyed send, replayed for 24 h to the same user and body."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    response_status: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    response_body: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, index=True)


class MessageTotal(Base):
    """How many messages a user has: the history's unfiltered total without counting a
    million rows on every page. Kept in the transaction that inserts them.

    The count is split over ``TOTAL_SHARDS`` rows per user, each insert adding to one chosen at
    random: the row is locked until its transaction commits, and a single row would make all of
    one user's concurrent sends wait for each other's commits. The total is their sum.
    """

    __tablename__ = "message_totals"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    shard: Mapped[int] = mapped_column(
        SmallInteger, primary_key=True, default=0, server_default=text("0")
    )
    total: Mapped[int] = mapped_column(BigInteger, nullable=False)


TOTAL_SHARDS = 32


class OptOut(Base):
    """A number that must not receive this user's messages."""

    __tablename__ = "opt_outs"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    phone_number: Mapped[str] = mapped_column(String(16), primary_key=True)
    country_code: Mapped[str | None] = mapped_column(String(2))
    source: Mapped[str] = mapped_column(String(20), nullable=False)  # api | inbound_stop | 131050
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
