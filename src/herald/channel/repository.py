"""SQL for channels."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.db import insert_unless_taken, update_unless_taken
from herald.models import Channel, MessagingReach
from herald.models.channel import BANNED, RESTRICTED


async def get(session: AsyncSession, channel_id: int) -> Channel | None:
    return await session.get(Channel, channel_id)


async def get_for_user(session: AsyncSession, user_id: int, channel_id: int) -> Channel | None:
    result = await session.execute(
        select(Channel).where(Channel.id == channel_id, Channel.user_id == user_id)
    )
    return result.scalar_one_or_none()


async def default_for(session: AsyncSession, user_id: int) -> Channel | None:
    """The user's default channel (every user with a channel has one)."""
    result = await session.execute(
        select(Channel).where(Channel.user_id == user_id, Channel.is_default)
    )
    return result.scalar_one_or_none()


def of_user_query(user_id: int) -> Select[Any]:
    return select(Channel).where(Channel.user_id == user_id).order_by(Channel.id)


async def of_user(session: AsyncSession, user_id: int) -> Sequence[Channel]:
    result = await session.execute(of_user_query(user_id))
    channels: Sequence[Channel] = result.scalars().all()
    return channels


async def clear_default(session: AsyncSession, user_id: int) -> None:
    """No channel of the user is the default (before another becomes it, in one transaction)."""
    await session.execute(
        update(Channel)
        .where(Channel.user_id == user_id, Channel.is_default)
        .values(is_default=False)
        .execution_options(synchronize_session="fetch")
    )
    await session.flush()


async def become_default(session: AsyncSession, channel: Channel, now: datetime) -> bool:
    """``channel`` is its user's default; False if another became it meanwhile."""
    return await update_unless_taken(session, channel, {"is_default": True, "updated_at": now})


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
    """The stored channel, or None when its phone number id is taken (or, for a default, the
    user has a default already)."""
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


async def customers_reached(
    session: AsyncSession, user_id: int, waba_id: str, since: datetime, until: datetime
) -> int:
    """Unique customers the user's WABA reached with business-initiated templates in
    ``(since, until]``: its messaging limit's usage (``messaging_reaches``, kept by the
    messaging-limit hold in message/limit.py)."""
    result = await session.execute(
        select(func.count()).where(
            MessagingReach.user_id == user_id,
            MessagingReach.waba_id == waba_id,
            MessagingReach.reached_at > since,
            MessagingReach.reached_at <= until,
        )
    )
    return int(result.scalar_one())
