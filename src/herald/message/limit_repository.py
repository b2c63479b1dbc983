"""SQL for the messaging limit (``message/limit.py``): the customers each WABA reached, and the
messages held for the limit."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from herald.models import Channel, Message, MessagingReach
from herald.models.message import MESSAGING_LIMIT, QUEUED


async def reaches_since(
    session: AsyncSession, user_id: int, waba_id: str, since: datetime
) -> dict[str, datetime]:
    """Each customer counted after ``since`` (held sends' future times included), by number."""
    result = await session.execute(
        select(MessagingReach.phone_number, MessagingReach.reached_at).where(
            MessagingReach.user_id == user_id,
            MessagingReach.waba_id == waba_id,
            MessagingReach.reached_at > since,
        )
    )
    return {str(number): at for number, at in result.all()}


def _upsert(dialect: Any) -> Any:
    values = dialect.insert(MessagingReach).values(
        user_id=bindparam("user_id"),
        waba_id=bindparam("waba_id"),
        phone_number=bindparam("phone_number"),
        reached_at=bindparam("reached_at"),
    )
    table = cast(Table, MessagingReach.__table__)
    later = case(
        (values.excluded.reached_at > table.c.reached_at, values.excluded.reached_at),
        else_=table.c.reached_at,
    )
    return values.on_conflict_do_update(
        index_elements=["user_id", "waba_id", "phone_number"], set_={"reached_at": later}
    )


_REACHES, _MESSAGES = (cast(Table, m.__table__) for m in (MessagingReach, Message))
_UPSERT = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}


async def add_reaches(
    session: AsyncSession, user_id: int, waba_id: str, reached: Mapping[str, datetime]
) -> None:
    """Each number reached at its time (a later time than the one kept replaces it), in one
    statement, numbers in order so that two transactions lock the rows alike."""
    if not reached:
        return
    statement = _UPSERT[session.get_bind().dialect.name]
    rows = [
        {"user_id": user_id, "waba_id": waba_id, "phone_number": number, "reached_at": at}
        for number, at in sorted(reached.items())
    ]
    await session.execute(statement, rows)


async def set_reaches(
    session: AsyncSession, user_id: int, waba_id: str, reached: Mapping[str, datetime]
) -> None:
    """Each number's counted time set to the one given (a held send moved earlier)."""
    if not reached:
        return
    table = _REACHES
    await session.execute(
        update(table)
        .where(
            table.c.user_id == bindparam("uid"),
            table.c.waba_id == bindparam("waba"),
            table.c.phone_number == bindparam("number"),
        )
        .values(reached_at=bindparam("at")),
        [
            {"uid": user_id, "waba": waba_id, "number": number, "at": at}
            for number, at in sorted(reached.items())
        ],
    )


async def lock_waba(session: AsyncSession, user_id: int, waba_id: str) -> None:
    """On PostgreSQL, serialise the transactions that count this WABA's customers against its
    tier (until the commit), so that two processes cannot both take its last places. SQLite
    has one writer at a time already."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = zlib.crc32(f"messaging_limit:{user_id}:{waba_id}".encode())
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def channel_limit(
    session: AsyncSession, channel_id: int
) -> tuple[str, list[str | None]] | None:
    """A channel's WABA and the messaging limit tier each of its user's channels in that WABA
    reported (None: the channel is gone)."""
    same_waba = aliased(Channel)
    result = await session.execute(
        select(Channel.waba_id, same_waba.messaging_limit_tier)
        .join(
            same_waba,
            (same_waba.user_id == Channel.user_id) & (same_waba.waba_id == Channel.waba_id),
        )
        .where(Channel.id == channel_id)
    )
    rows = result.all()
    return (str(rows[0][0]), [tier for _, tier in rows]) if rows else None


async def waba_channels(session: AsyncSession, waba_id: str) -> list[tuple[int, int, str | None]]:
    """The channels of a WABA, whoever's: (id, user id, tier)."""
    result = await session.execute(
        select(Channel.id, Channel.user_id, Channel.messaging_limit_tier).where(
            Channel.waba_id == waba_id
        )
    )
    return [(int(c), int(u), t) for c, u, t in result.all()]


@dataclass(frozen=True, slots=True)
class HeldMessage:
    id: int
    number: str
    scheduled_at: datetime | None
    next_attempt_at: datetime
    deadline_at: datetime
    held_from: datetime | None


async def held(session: AsyncSession, channel_ids: Sequence[int]) -> list[HeldMessage]:
    """The messages of these channels held for the limit and still queued, in the order they
    were placed."""
    result = await session.execute(
        select(
            Message.id,
            Message.phone_number,
            Message.scheduled_at,
            Message.next_attempt_at,
            Message.deadline_at,
            Message.held_from,
        )
        .where(
            Message.channel_id.in_(channel_ids),
            Message.state == QUEUED,
            Message.held_reason.is_not(None),
        )
        .order_by(Message.scheduled_at, Message.id)
    )
    return [HeldMessage(int(i), str(n), s, a, d, f) for i, n, s, a, d, f in result.all()]


_MOVE = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("mid"), _MESSAGES.c.state == QUEUED)
    .values(
        scheduled_at=bindparam("new_scheduled_at"),
        next_attempt_at=bindparam("new_next_attempt_at"),
        deadline_at=bindparam("new_deadline_at"),
        held_reason=bindparam("new_held_reason"),
        updated_at=bindparam("now"),
    )
)


async def move(session: AsyncSession, changes: Iterable[dict[str, Any]]) -> None:
    """Each queued message (``mid``) due at its new time, held (``held_reason``) or not."""
    rows = list(changes)
    if rows:
        await session.execute(_MOVE, rows)


async def move_group_numbers(
    session: AsyncSession, user_id: int, group_id: str, changes: Iterable[dict[str, Any]]
) -> None:
    """A bulk send's messages to each ``number`` held until ``until``."""
    rows = list(changes)
    if not rows:
        return
    statement = (
        update(_MESSAGES)
        .where(
            _MESSAGES.c.user_id == user_id,
            _MESSAGES.c.whatsapp_bulk_group_id == group_id,
            _MESSAGES.c.phone_number == bindparam("number"),
        )
        .values(
            scheduled_at=bindparam("until"),
            next_attempt_at=bindparam("until"),
            deadline_at=bindparam("new_deadline_at"),
            held_reason=MESSAGING_LIMIT,
            held_from=_MESSAGES.c.next_attempt_at,  # the SET reads the row as it was
        )
    )
    await session.execute(statement, rows)
