from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, BigId, IdMixin, TimestampsMixin, UtcDateTime

# A channel's sending status (``account_status``), as Meta reports it: RESTRICTED (while the
# restriction lasts) and BANNED hold its messages (channel/health.py).
CONNECTED, FLAGGED, RESTRICTED, BANNED = "CONNECTED", "FLAGGED", "RESTRICTED", "BANNED"


class Channel(IdMixin, TimestampsMixin, Base):
    """One WhatsApp business sender of a user: a user has any number of them, in one or more
    WhatsApp Business Accounts (WABAs), and exactly one default (the sender of a send that
    names none, ``channel/senders.py``)."""

    __tablename__ = "channels"
    __table_args__ = (
        # At most one default a user; every user with a channel has one (channel/service.py).
        Index(
            "uq_channels_user_id_default",
            "user_id",
            unique=True,
            postgresql_where=text("is_default"),
            sqlite_where=text("is_default = 1"),
        ),
    )

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    is_default: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    provider: Mapped[str] = mapped_column(String(20), nullable=False, default="cloud")
    base_url: Mapped[str] = mapped_column(String(500), nullable=False)
    api_version: Mapped[str] = mapped_column(String(20), nullable=False)
    phone_number_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    waba_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    display_number: Mapped[str | None] = mapped_column(String(32))
    # The Meta app's id: media-header template samples are uploaded through it.
    app_id: Mapped[str | None] = mapped_column(String(64))
    # Secrets: tokens encrypted (they are used), the verify token only hashed (it is compared).
    access_token_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    app_secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    verify_token_hash: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    throughput_per_second: Mapped[int] = mapped_column(Integer, nullable=False, default=80)
    # A channel on an emulator: its control API may approve and reject templates.
    is_sandbox: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    # The number's health as Meta last reported it (account webhooks; channel/health.py).
    # Quality: GREEN, YELLOW, RED or UNKNOWN (Meta also says NA: kept as UNKNOWN).
    quality_rating: Mapped[str] = mapped_column(
        String(16), nullable=False, default="UNKNOWN", server_default="UNKNOWN"
    )
    # Meta's messaging limit tier (TIER_50 ... TIER_UNLIMITED); NULL until Meta reports one, so
    # a channel made before it is known is not held to a guessed tier.
    messaging_limit_tier: Mapped[str | None] = mapped_column(String(16))
    # CONNECTED, FLAGGED, RESTRICTED or BANNED: RESTRICTED (while a business-initiated
    # restriction lasts) and BANNED stop the dispatcher claiming the channel's messages.
    account_status: Mapped[str] = mapped_column(
        String(16), nullable=False, default="CONNECTED", server_default="CONNECTED"
    )
    # The restrictions in force: [{"type": "RESTRICTED_BIZ_INITIATED_MESSAGING",
    # "expires_at": ISO-8601 or null}], and the latest end of those that stop sending (NULL with
    # a restriction in force: no end given), so an expiry lifts it without another event.
    restrictions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    restricted_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Why the status is what it is, for the user (e.g. Meta's event and violation type).
    status_reason: Mapped[str | None] = mapped_column(String(300))
    health_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
