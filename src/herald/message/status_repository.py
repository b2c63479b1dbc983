"""SQL of the status webhooks (statuses.py): finding the messages they are about."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BigInteger, String, any_, bindparam, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import Message


def _locks(session: AsyncSession) -> bool:
    """Whether rows are locked as they are read: on PostgreSQL, so that the dispatcher's own
    update of a message waits for the webhook's instead of racing it (SQLite has one writer)."""
    return session.get_bind().dialect.name == "postgresql"


async def by_wamids_or_ids(
    session: AsyncSession, wamids: Sequence[str], ids: Sequence[int]
) -> Sequence[Message]:
    """The messages of these wamids, for a batch of statuses. On PostgreSQL also those of these
    ids (the statuses' callback data: a send whose wamid is not recorded yet), all in one
    statement and locked in id order: the order the dispatcher's recording updates rows in
    (``dispatch/repository.record_results``) and another worker's batch locks them in. Locked
    chunk by chunk, or one at a time after the others, they deadlocked with both."""
    if _locks(session):
        found = await session.execute(_LOCK_NAMED, {"wamids": list(wamids), "ids": list(ids)})
        return found.scalars().all()
    messages: list[Message] = []  # SQLite: one writer, nothing to lock; chunks under its limit
    for start in range(0, len(wamids), PREFETCH_BATCH):
        chunk = wamids[start : start + PREFETCH_BATCH]
        query = select(Message).where(Message.provider_message_id.in_(chunk))
        messages += (await session.execute(query)).scalars().all()
    return messages


PREFETCH_BATCH = 500  # wamids per SQLite query (one parameter each: under its limit)
_LOCK_NAMED = (
    select(Message)
    .where(
        or_(
            Message.provider_message_id == any_(bindparam("wamids", type_=ARRAY(String))),
            Message.id == any_(bindparam("ids", type_=ARRAY(BigInteger))),
        )
    )
    .order_by(Message.id)
    .with_for_update()
)


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
