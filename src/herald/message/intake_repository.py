"""SQL for the intake batcher (``message/intake.py``): a batch of single sends, written with one
statement each for opt-outs, rows and totals, as Core statements (no unit of work)."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, insert, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald.message.intake_cache import TEMPLATE_FIELDS, UserState
from herald.models import Message, MessageTotal, OptOut, Template, User
from herald.models.message import TOTAL_SHARDS

# Table columns, not ORM attributes: plain Core statements skip the ORM's compile and result
# layers (the batch needs rows, never objects).
_MESSAGES, _USERS, _TEMPLATES, _OPT_OUTS, _TOTALS = (
    cast(Table, model.__table__)  # declared models are mapped to Tables
    for model in (Message, User, Template, OptOut, MessageTotal)
)
_INSERT = insert(_MESSAGES).returning(_MESSAGES.c.id, sort_by_parameter_order=True)


async def opted_out(
    session: AsyncSession, pairs: Iterable[tuple[int, str]]
) -> set[tuple[int, str]]:
    """Which (user, number) pairs opted out, in one query."""
    wanted = list(dict.fromkeys(pairs))
    if not wanted:
        return set()
    result = await session.execute(
        select(_OPT_OUTS.c.user_id, _OPT_OUTS.c.phone_number).where(
            tuple_(_OPT_OUTS.c.user_id, _OPT_OUTS.c.phone_number).in_(wanted)
        )
    )
    return {(int(user), str(number)) for user, number in result.all()}


async def insert_rows(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[int]:
    """The new messages' ids, in the order of ``rows`` (SQLAlchemy correlates them)."""
    result = await session.execute(_INSERT, list(rows))
    return [int(row_id) for row_id in result.scalars()]


async def add_to_totals(session: AsyncSession, added: dict[int, int]) -> None:
    """One of each user's total shards (see ``MessageTotal``), users in id order so that two
    processes' batches lock the rows in the same order and cannot deadlock."""
    dialect = session.get_bind().dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for user_id in sorted(added):
        count = added[user_id]
        # Not a secret: spreading concurrent writers over the shards only needs them to differ.
        shard = random.randrange(TOTAL_SHARDS)  # noqa: S311
        statement = upsert(_TOTALS).values(user_id=user_id, shard=shard, total=count)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["user_id", "shard"], set_={"total": _TOTALS.c.total + count}
            )
        )


async def user_states(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, UserState]:
    result = await session.execute(
        select(
            _USERS.c.id, _USERS.c.is_disabled, _USERS.c.has_api_access, _USERS.c.tokens_valid_after
        ).where(_USERS.c.id.in_(set(user_ids)))
    )
    return {int(row[0]): UserState.of(row[1], row[2], row[3]) for row in result.all()}


async def template_states(
    session: AsyncSession, template_ids: Iterable[int]
) -> dict[int, tuple[Any, ...]]:
    """Each template's ``TEMPLATE_FIELDS``, as ``intake_cache.template_fields`` gives them."""
    columns = [_TEMPLATES.c[name] for name in TEMPLATE_FIELDS]
    result = await session.execute(
        select(_TEMPLATES.c.id, *columns).where(_TEMPLATES.c.id.in_(set(template_ids)))
    )
    return {int(row[0]): tuple(row[1:]) for row in result.all()}


async def template_channel(
    session: AsyncSession, user_id: int, template_id: int
) -> tuple[bool, int | None]:
    """Whether the template still exists, and its channel (read after a constraint failed)."""
    result = await session.execute(
        select(Template.channel_id).where(Template.id == template_id, Template.user_id == user_id)
    )
    found = result.first()
    return (False, None) if found is None else (True, found[0])
