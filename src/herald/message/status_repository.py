"""SQL of the status webhooks (statuses.py): finding the messages they are about."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import Message


def _locks(session: AsyncSession) -> bool:
    """Whether rows are locked as they are read: on PostgreSQL, so that the dispatcher's own
    update of a message waits for the webhook's instead of racing it (SQLite has one writer)."""
    return session.get_bind().dialect.name == "postgresql"


async def by_wamids(session: AsyncSession, wamids: Sequence[str]) -> Sequence[Message]:
    """The messages of these wamids, locked in id order: two workers' batches take the rows
    they share in the same order."""
    query = select(Message).where(Message.provider_message_id.in_(wamids)).order_by(Message.id)
    if _locks(session):
        query = query.with_for_update()
    return (await session.execute(query)).scalars().all()


async def by_wamid(session: AsyncSession, channel_id: int, wamid: str) -> Message | None:
    query = (
        select(Message)
        .where(Message.channel_id == channel_id, Message.provider_message_id == wamid)
        .limit(1)
    )
    found = await session.execute(query.with_for_update() if _locks(session) else query)
    return found.scalars().first()


async def by_id(session: AsyncSession, channel_id: int, message_id: int) -> Message | None:
    query = select(Message).where(Message.channel_id == channel_id, Message.id == message_id)
    found = await session.execute(query.with_for_update() if _locks(session) else query)
    return found.scalars().first()
