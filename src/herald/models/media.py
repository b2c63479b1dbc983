from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, BigId, IdMixin, UtcDateTime


class MediaAsset(IdMixin, Base):
    """A file a user uploaded (for template headers, free-form media) or a customer sent (an
    inbound message's media, fetched from the provider); the bytes live in the media store."""

    __tablename__ = "media_assets"
    __table_args__ = (Index("ix_media_assets_user_id_id", "user_id", "id"),)

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    # image | video | document | audio | sticker
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    # upload: the user's; inbound: a customer's, fetched from the provider.
    origin: Mapped[str] = mapped_column(
        String(10), nullable=False, default="upload", server_default="upload"
    )
    mime_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # The uploader's name for it, shown back and used as a document header's file name; never
    # part of a path (``storage_key`` is random).
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class ProviderMedia(IdMixin, Base):
    """The provider's id for an asset uploaded from one sender number (valid for 30 days)."""

    __tablename__ = "provider_media"
    __table_args__ = (UniqueConstraint("media_id", "phone_number_id"),)

    media_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("media_assets.id", ondelete="CASCADE"), nullable=False
    )
    phone_number_id: Mapped[str] = mapped_column(String(64), nullable=False)
    provider_media_id: Mapped[str] = mapped_column(String(128), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
