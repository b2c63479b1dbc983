"""SQL for idempotency keys (``message/idempotency.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import IdempotencyKey


async def get(session: AsyncSession, user_id: int, key: str) -> IdempotencyKey | None:
    return await session.get(IdempotencyKey, (user_id, key))


async def delete(session: AsyncSession, row: IdempotencyKey) -> None:
    await session.delete(row)
    await session.flush()


async def add(session: AsyncSession, **values: Any) -> None:
    """Flushed now: a key another process committed first raises IntegrityError here."""
    session.add(IdempotencyKey(**values))
    await session.flush()
