"""SQL for opt-outs: numbers that must not receive a user's messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.db import insert_unless_taken
from herald.models import OptOut


async def add(
    session: AsyncSession,
    user_id: int,
    number: str,
    country_code: str | None,
    source: str,
    now: datetime,
) -> bool:
    """True when the number was not on the list yet."""
    row = OptOut(
        user_id=user_id,
        phone_number=number,
        country_code=country_code,
        source=source,
        created_at=now,
    )
    return await insert_unless_taken(session, row, ("user_id", "phone_number")) is not None


async def remove(session: AsyncSession, user_id: int, number: str) -> bool:
    result = await session.execute(
        delete(OptOut).where(OptOut.user_id == user_id, OptOut.phone_number == number)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def list_query(user_id: int) -> Select[Any]:
    return (
        select(OptOut)
        .where(OptOut.user_id == user_id)
        .order_by(OptOut.created_at.desc(), OptOut.phone_number)
    )


async def get(session: AsyncSession, user_id: int, number: str) -> OptOut | None:
    return await session.get(OptOut, (user_id, number))


async def numbers(session: AsyncSession, user_id: int, candidates: Sequence[str]) -> set[str]:
    result = await session.execute(
        select(OptOut.phone_number).where(
            OptOut.user_id == user_id, OptOut.phone_number.in_(list(candidates))
        )
    )
    return set(result.scalars())
