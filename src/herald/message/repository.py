"""SQL for messages; every user-facing query is scoped to one user."""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Row, Select, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import Message, MessageTotal, OptOut
from herald.models.message import CANCELLED, QUEUED, TOTAL_SHARDS

INSERT_BATCH = 1000
FILTERS = ("whatsapp_bulk_group_id", "state", "template_id", "contact_id", "phone_number")


async def get(session: AsyncSession, user_id: int, message_id: int) -> Message | None:
    result = await session.execute(
        select(Message).where(Message.id == message_id, Message.user_id == user_id)
    )
    return result.scalar_one_or_none()


async def add(session: AsyncSession, message: Message) -> Message:
    session.add(message)
    await session.flush()
    await _count(session, message.user_id, 1)
    return message


async def insert_many(session: AsyncSession, user_id: int, rows: Sequence[dict[str, Any]]) -> None:
    """Multi-row INSERTs in batches: a 10,000-recipient bulk send is ten statements, not 10,000."""
    for start in range(0, len(rows), INSERT_BATCH):
        await session.execute(insert(Message), list(rows[start : start + INSERT_BATCH]))
    await _count(session, user_id, len(rows))


async def _count(session: AsyncSession, user_id: int, added: int) -> None:
    """Add to one of the user's total shards (see ``MessageTotal``), after the inserts."""
    upsert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # Not a secret: spreading concurrent writers over the shards only needs them to differ.
    shard = random.randrange(TOTAL_SHARDS)  # noqa: S311
    statement = upsert(MessageTotal).values(user_id=user_id, shard=shard, total=added)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "shard"], set_={"total": MessageTotal.total + added}
        )
    )


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


# What a history item shows (``output.message_json``): read as plain rows, not ORM objects.
HISTORY_COLUMNS = (
    Message.id,
    Message.whatsapp_bulk_group_id,
    Message.template_id,
    Message.template_name,
    Message.contact_id,
    Message.phone_number,
    Message.country_code,
    Message.state,
    Message.error_code,
    Message.error_title,
    Message.error_detail,
    Message.provider_message_id,
    Message.created_at,
    Message.scheduled_at,
    Message.sent_at,
    Message.delivered_at,
    Message.read_at,
    Message.failed_at,
)


@functools.cache
def _history_statements(given: tuple[str, ...]) -> tuple[Select[Any], Select[Any]]:
    """The page (with its total) and the total alone, for one combination of filters.

    Built once per combination, with bound parameters (at most 2**7 of them): building a
    fresh statement and hashing it for the compiled cache cost more than compiling saved.
    """
    ids = select(Message.id).where(Message.user_id == bindparam("user_id"))
    for name in given:
        if name == "from":
            ids = ids.where(Message.created_at >= bindparam(name))
        elif name == "to":
            ids = ids.where(Message.created_at <= bindparam(name))
        else:
            ids = ids.where(getattr(Message, name) == bindparam(name))
    if given:
        total = select(func.count()).select_from(ids.subquery())
    else:  # the user's counter rather than a count of all their messages
        total = select(func.coalesce(func.sum(MessageTotal.total), 0)).where(
            MessageTotal.user_id == bindparam("user_id")
        )
    page_ids = (
        ids.order_by(Message.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .correlate(None)
    )
    page = (
        select(total.scalar_subquery().label("total"), *HISTORY_COLUMNS)
        .where(Message.id.in_(page_ids))
        .order_by(Message.id.desc())
    )
    return page, total


async def history_page(
    session: AsyncSession, user_id: int, filters: dict[str, Any], limit: int, offset: int
) -> tuple[Sequence[Row[Any]], int]:
    """One page, newest first, and the total, in one statement (one round trip, one snapshot).

    The page's ids come from the index alone, then only those rows are read: a deep page skips
    its offset in the index instead of reading every skipped row. Each row carries the total
    (a scalar subquery, run once); only a page past the end needs a second statement for it.
    Core on the session's connection: the ORM's execution layer adds nothing to plain rows.
    """
    given = tuple(name for name in (*FILTERS, "from", "to") if filters.get(name) is not None)
    page, total = _history_statements(given)
    values = {"user_id": user_id, "limit": limit, "offset": offset}
    values.update((name, filters[name]) for name in given)
    connection = await session.connection()
    rows = (await connection.execute(page, values)).all()
    if rows:
        return rows, int(rows[0].total)
    return rows, int((await connection.execute(total, values)).scalar_one())


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
