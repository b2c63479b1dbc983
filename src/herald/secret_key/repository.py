"""SQL for secret keys; listing and revoking are scoped to one user."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import SecretKey


async def add(session: AsyncSession, key: SecretKey) -> SecretKey:
    session.add(key)
    await session.flush()
    return key


async def get(session: AsyncSession, user_id: int, key_id: int) -> SecretKey | None:
    result = await session.execute(
        select(SecretKey).where(SecretKey.id == key_id, SecretKey.user_id == user_id)
    )
    return result.scalar_one_or_none()


async def by_hash(session: AsyncSession, key_hash: str) -> SecretKey | None:
    result = await session.execute(select(SecretKey).where(SecretKey.key_hash == key_hash))
    return result.scalar_one_or_none()


def list_query(user_id: int) -> Select[Any]:
    return select(SecretKey).where(SecretKey.user_id == user_id).order_by(SecretKey.id.desc())
