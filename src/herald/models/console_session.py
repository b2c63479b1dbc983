from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, UtcDateTime


class EndedSession(Base):
    """A console session logged out before its token expired: the token (by its ``jti``) is
    refused from then on, kept only until it would have expired anyway."""

    __tablename__ = "ended_sessions"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, index=True)
