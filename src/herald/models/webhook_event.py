from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, IdMixin, UtcDateTime


class WebhookEvent(IdMixin, Base):
    """A webhook from Meta, stored raw and once, then applied asynchronously."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        # Only unprocessed rows are indexed: the hot part of the table stays small.
        Index(
            "ix_webhook_events_pending",
            "id",
            postgresql_where=text("processed_at IS NULL"),
            sqlite_where=text("processed_at IS NULL"),
        ),
        Index(
            "ix_webhook_events_dead",
            "id",
            postgresql_where=text("dead_at IS NOT NULL"),
            sqlite_where=text("dead_at IS NOT NULL"),
        ),
    )

    body_sha256: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set aside after failing ``MAX_ATTEMPTS`` times (processed_at is set too: no longer pending).
    dead_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
