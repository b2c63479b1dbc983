"""SQL for messages; every user-facing query is scoped to one user."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import Message, OptOut
from herald.models.message import CANCELLED, QUEUED

INSERT_BATCH = 1000


async def get(session: AsyncSession, user_id: int, message_id: int) -> Message | None:
    result = await session.execute(
        select(Message).where(Message.id == message_id, Message.user_id == user_id)
    )
    return result.scalar_one_or_none()


async def add(session: AsyncSession, message: Message) -> Message:
    session.add(message)
    await session.flush()
    return message


async def insert_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Multi-row INSERTs in batches: a 10,000-recipient bulk send is ten statements, not 10,000."""
    for start in range(0, len(rows), INSERT_BATCH):
        await session.execute(insert(Message), list(rows[start : start + INSERT_BATCH]))


async def opted_out(session: AsyncSession, user_id: int, numbers: Sequence[str]) -> set[str]:
    found: set[str] = set()
    unique = list(dict.fromkeys(numbers))
    for start in range(0, len(unique), INSERT_BATCH):
        result = await session.execute(
            select(OptOut.phone_number).where(
                OptOut.user_id == user_id,
                OptOut.phone_number.in_(unique[start : start + INSERT_BATCH]),
            )
        )
        found.update(result.scalars())
    return found


def history_query(user_id: int, filters: dict[str, Any]) -> Select[Any]:
    query = select(Message).where(Message.user_id == user_id)
    for name in ("whatsapp_bulk_group_id", "state", "template_id", "contact_id", "phone_number"):
        if filters.get(name) is not None:
            query = query.where(getattr(Message, name) == filters[name])
    if filters.get("from") is not None:
        query = query.where(Message.created_at >= filters["from"])
    if filters.get("to") is not None:
        query = query.where(Message.created_at <= filters["to"])
    return query.order_by(Message.id.desc())


async def count_by_state(session: AsyncSession, user_id: int, group_id: str) -> dict[str, int]:
    result = await session.execute(
        select(Message.state, func.count())
        .where(Message.user_id == user_id, Message.whatsapp_bulk_group_id == group_id)
        .group_by(Message.state)
    )
    return {state: int(count) for state, count in result.all()}


async def cancel_if_queued(session: AsyncSession, message_id: int, now: datetime) -> bool:
    result = await session.execute(
        update(Message)
        .where(Message.id == message_id, Message.state == QUEUED)
        .values(state=CANCELLED, updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
