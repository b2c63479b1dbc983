from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, BigId, IdMixin, UtcDateTime


class SecretKey(IdMixin, Base):
    """A shop plugin's credential: the secret is shown once and only its SHA-256 is kept (it is
    256 random bits, so a fast hash is enough; nothing to brute-force)."""

    __tablename__ = "secret_keys"
    __table_args__ = (Index("ix_secret_keys_user_id_id", "user_id", "id"),)

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    platform_type: Mapped[str] = mapped_column(String(20), nullable=False)
    base_uri: Mapped[str] = mapped_column(String(500), nullable=False)  # normalised
    key_prefix: Mapped[str] = mapped_column(String(16), nullable=False)  # shown to tell keys apart
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
