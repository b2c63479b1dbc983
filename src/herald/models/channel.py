from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, BigId, IdMixin, TimestampsMixin


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
