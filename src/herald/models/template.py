from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, BigId, IdMixin, TimestampsMixin, UtcDateTime


class Template(IdMixin, TimestampsMixin, Base):
    __tablename__ = "templates"
    __table_args__ = (
        # One template of a name and language per WABA: a user with numbers in two WABAs has it
        # in each.
        UniqueConstraint("user_id", "waba_id", "name", "language"),
        # A draft of a user without a channel yet has no WABA, and NULLs never repeat a key:
        # one of a name and language among those too.
        Index(
            "uq_templates_user_id_name_language_no_waba",
            "user_id",
            "name",
            "language",
            unique=True,
            sqlite_where=text("waba_id IS NULL"),
            postgresql_where=text("waba_id IS NULL"),
        ),
        Index("ix_templates_user_id_id", "user_id", "id"),
        Index("ix_templates_channel_id_state", "channel_id", "state"),
    )

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    channel_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("channels.id", ondelete="SET NULL")
    )
    # The WhatsApp Business Account the template lives in (Meta's templates belong to a WABA,
    # not to a number): any channel of the user in it may send it. NULL only for a template
    # whose channel was deleted before the column existed.
    waba_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(512), nullable=False)
    language: Mapped[str] = mapped_column(String(16), nullable=False)
    category: Mapped[str] = mapped_column(String(20), nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    header_format: Mapped[str | None] = mapped_column(String(10))
    header_text: Mapped[str | None] = mapped_column(String(60))
    # The sample value of a TEXT header's {{1}}, shown to Meta's review.
    header_example: Mapped[str | None] = mapped_column(String(60))
    # The sample file of a media header, sent to Meta's review (through the Resumable Upload API).
    header_sample_media_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("media_assets.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text, nullable=False)
    footer: Mapped[str | None] = mapped_column(String(60))
    buttons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    # AUTHENTICATION only: Meta's options (otp_type, add_security_recommendation,
    # code_expiration_minutes, package_name, signature_hash); Meta writes the text.
    authentication: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    placeholder_count: Mapped[int] = mapped_column(Integer, nullable=False)
    provider_template_id: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # POSITIONAL ({{1}}, parameters as a list) or NAMED ({{first_name}}, as an object).
    parameter_format: Mapped[str] = mapped_column(
        String(10), nullable=False, default="POSITIONAL", server_default="POSITIONAL"
    )
    quality: Mapped[str | None] = mapped_column(String(20))  # Meta's rating: GREEN, YELLOW, RED
    # A kind Herald cannot send yet (imported as it is, never dropped): false, with the reason.
    sendable: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )
    unsendable_reason: Mapped[str | None] = mapped_column(Text)
    # Meta's components as the provider last returned them (an imported or synced template).
    components: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # The category before Meta's last re-categorisation (a UTILITY template made MARKETING
    # costs more), and when Meta flagged the template (negative feedback: at risk of being
    # paused or disabled; cleared by its next status event).
    previous_category: Mapped[str | None] = mapped_column(String(20))
    flagged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
