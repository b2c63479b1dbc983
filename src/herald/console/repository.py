"""SQL for ended console sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import EndedSession


async def is_ended(session: AsyncSession, token_id: str) -> bool:
    found = await session.execute(
        select(EndedSession.token_id).where(EndedSession.token_id == token_id)
    )
    return found.first() is not None


async def end(session: AsyncSession, token_id: str, expires_at: datetime, now: datetime) -> None:
    """Refuse this token from now on, and forget those that have expired by themselves."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    await session.execute(
        insert(EndedSession)
        .values(token_id=token_id, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["token_id"])
    )
    await session.execute(delete(EndedSession).where(EndedSession.expires_at <= now))
