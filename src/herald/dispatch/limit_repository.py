"""SQL for holding a WABA's sends after Meta refused one for its messaging limit
(``dispatch/limit_holds.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import Channel, Message
from herald.models.message import MESSAGING_LIMIT, QUEUED, TEMPLATE

_MESSAGES = cast(Table, Message.__table__)


async def user_waba_channels(session: AsyncSession, user_id: int, waba_id: str) -> list[int]:
    result = await session.execute(
        select(Channel.id).where(Channel.user_id == user_id, Channel.waba_id == waba_id)
    )
    return [int(c) for c in result.scalars()]


async def window_frees(
    session: AsyncSession, channel_ids: Sequence[int], since: datetime
) -> datetime | None:
    """The oldest template these channels sent after ``since``: the window frees 24 h later."""
    result = await session.execute(
        select(func.min(Message.sent_at)).where(
            Message.channel_id.in_(channel_ids),
            Message.kind == TEMPLATE,
            Message.sent_at > since,
        )
    )
    return result.scalar_one_or_none()


async def hold_new_customers(
    session: AsyncSession,
    channel_ids: Sequence[int],
    refused: Sequence[int],
    since: datetime,
    until: datetime,
    deadline_floor: datetime,
    now: datetime,
) -> int:
    """Hold until ``until`` the refused messages and every queued template of these channels to
    a customer none of them sent a template to after ``since`` (a new customer, which the
    limit would refuse too); a deadline before ``deadline_floor`` is moved to it (the hold
    must not fail them). Returns how many were held."""
    sent = _MESSAGES.alias("sent")
    queued = _MESSAGES
    reached_before = (
        select(sent.c.id)
        .where(
            sent.c.user_id == queued.c.user_id,
            sent.c.phone_number == queued.c.phone_number,
            sent.c.channel_id.in_(channel_ids),
            sent.c.sent_at > since,
        )
        .exists()
    )
    # A queued one due before the window frees, to a new customer; and the refused ones
    # whenever they were due again (their retry), so that each says why it waits.
    waiting = and_(~reached_before, queued.c.next_attempt_at < until)
    statement = (
        update(queued)
        .where(
            queued.c.channel_id.in_(channel_ids),
            queued.c.state == QUEUED,
            queued.c.kind == TEMPLATE,
            or_(waiting, queued.c.id.in_(refused)) if refused else waiting,
        )
        .values(
            scheduled_at=until,
            next_attempt_at=until,
            deadline_at=case(
                (queued.c.deadline_at < deadline_floor, deadline_floor),
                else_=queued.c.deadline_at,
            ),
            held_reason=MESSAGING_LIMIT,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
