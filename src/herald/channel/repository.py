"""SQL for channels."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.db import insert_unless_taken
from herald.models import Channel
from herald.models.channel import BANNED, RESTRICTED


async def get(session: AsyncSession, channel_id: int) -> Channel | None:
    return await session.get(Channel, channel_id)


async def for_user(session: AsyncSession, user_id: int) -> Channel | None:
    result = await session.execute(select(Channel).where(Channel.user_id == user_id))
    return result.scalar_one_or_none()


async def by_waba_ids(session: AsyncSession, waba_ids: Iterable[str]) -> Sequence[Channel]:
    ids = list(set(waba_ids))
    if not ids:
        return []
    result = await session.execute(select(Channel).where(Channel.waba_id.in_(ids)))
    return result.scalars().all()


async def by_verify_token_hash(session: AsyncSession, token_hash: str) -> Channel | None:
    result = await session.execute(
        select(Channel).where(Channel.verify_token_hash == token_hash).limit(1)
    )
    return result.scalar_one_or_none()


async def by_phone_number_id(session: AsyncSession, phone_number_id: str) -> Channel | None:
    result = await session.execute(
        select(Channel).where(Channel.phone_number_id == phone_number_id)
    )
    return result.scalar_one_or_none()


async def list_all(session: AsyncSession) -> Sequence[Channel]:
    result = await session.execute(select(Channel).order_by(Channel.id))
    return result.scalars().all()


async def add_unless_taken(session: AsyncSession, channel: Channel) -> Channel | None:
    """The stored channel, or None when the user has one or its phone number id is taken."""
    return await insert_unless_taken(session, channel)


async def delete(session: AsyncSession, channel: Channel) -> None:
    await session.delete(channel)
    await session.flush()


async def in_waba(session: AsyncSession, waba_id: str) -> Sequence[Channel]:
    """Every channel of a business account (several may share one), oldest first."""
    result = await session.execute(
        select(Channel).where(Channel.waba_id == waba_id).order_by(Channel.id)
    )
    return result.scalars().all()


async def of_user(session: AsyncSession, user_id: int, channel_id: int) -> Channel | None:
    """The channel if it is the user's (another's is not found)."""
    result = await session.execute(
        select(Channel).where(Channel.id == channel_id, Channel.user_id == user_id)
    )
    return result.scalar_one_or_none()


def may_send(now: datetime) -> ColumnElement[bool]:
    """The channel is neither banned nor under a sending restriction still in force (one
    whose end has passed no longer holds it, with no event needed): channel/health.py."""
    return and_(
        Channel.account_status != BANNED,
        or_(
            Channel.account_status != RESTRICTED,
            and_(Channel.restricted_until.is_not(None), Channel.restricted_until <= now),
        ),
    )
