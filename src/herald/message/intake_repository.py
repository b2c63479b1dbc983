"""SQL for the intake batcher (``message/intake.py``): a batch of single sends, written with one
statement each for opt-outs, rows and totals, as Core statements (no unit of work)."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from herald.channel.senders import SenderChannel, UserChannels
from herald.kit.phone import digits_only
from herald.message.intake_cache import TEMPLATE_FIELDS, UserState
from herald.message.repository import column_converter
from herald.models import Channel, Message, MessageTotal, OptOut, Template, User
from herald.models.message import TOTAL_SHARDS

# Table columns, not ORM attributes: plain Core statements skip the ORM's compile and result
# layers (the batch needs rows, never objects).
_MESSAGES, _USERS, _TEMPLATES, _OPT_OUTS, _TOTALS, _CHANNELS = (
    cast(Table, model.__table__)  # declared models are mapped to Tables
    for model in (Message, User, Template, OptOut, MessageTotal, Channel)
)
# Every statement is built once, with its values as parameters: building a statement (and
# its cache key) for each batch was a good part of a batch's CPU, paid by every send in it.
_INSERT = insert(_MESSAGES).returning(_MESSAGES.c.id, sort_by_parameter_order=True)
# On SQLite, which cannot promise the order of what an INSERT returns, SQLAlchemy writes an
# ordered INSERT as one statement per row (each a hop to aiosqlite's thread and back: 448 µs
# of CPU a single send in a batch of 32, 292 µs with this). Each single send has a group id of
# its own (a fresh UUID), which names its row in what the INSERT returns instead. PostgreSQL
# takes the rows as arrays instead (``_insert_arrays``); ``_INSERT`` serves rows that do not
# have a group id each.
_INSERT_NAMED = insert(_MESSAGES).returning(_MESSAGES.c.id, _MESSAGES.c.whatsapp_bulk_group_id)


_OPTED_OUT = select(_OPT_OUTS.c.user_id, _OPT_OUTS.c.phone_number).where(
    tuple_(_OPT_OUTS.c.user_id, _OPT_OUTS.c.phone_number).in_(bindparam("pairs", expanding=True))
)
# Each template with its owner's authorising state (a send's template belongs to its user).
_STATES = (
    select(
        _TEMPLATES.c.id,
        _USERS.c.id,
        _USERS.c.is_disabled,
        _USERS.c.has_api_access,
        _USERS.c.tokens_valid_after,
        *(_TEMPLATES.c[name] for name in TEMPLATE_FIELDS),
    )
    .join(_USERS, _USERS.c.id == _TEMPLATES.c.user_id)
    .where(_TEMPLATES.c.id.in_(bindparam("ids", expanding=True)))
)

# The batch's users' channels, as ``senders.snapshot`` makes them (the senders were chosen
# among), with each sender's messaging limit tier (message/limit.py): no statement of its own.
_CHANNELS_OF = (
    select(
        _CHANNELS.c.user_id,
        _CHANNELS.c.id,
        _CHANNELS.c.waba_id,
        _CHANNELS.c.display_number,
        _CHANNELS.c.is_default,
        _CHANNELS.c.messaging_limit_tier,
    )
    .where(_CHANNELS.c.user_id.in_(bindparam("users", expanding=True)))
    .order_by(_CHANNELS.c.user_id, _CHANNELS.c.id)
)


def _add_to_total(dialect: Any) -> Any:
    values = dialect.insert(_TOTALS).values(
        user_id=bindparam("user_id"), shard=bindparam("shard"), total=bindparam("added")
    )
    return values.on_conflict_do_update(
        index_elements=["user_id", "shard"], set_={"total": _TOTALS.c.total + values.excluded.total}
    )


_ADD_TO_TOTAL = {"postgresql": _add_to_total(postgresql), "sqlite": _add_to_total(sqlite)}


async def opted_out(
    session: AsyncSession, pairs: Iterable[tuple[int, str]]
) -> set[tuple[int, str]]:
    """Which (user, number) pairs opted out, in one query."""
    wanted = list(dict.fromkeys(pairs))
    if not wanted:
        return set()
    result = await session.execute(_OPTED_OUT, {"pairs": wanted})
    return {(int(user), str(number)) for user, number in result.all()}


async def insert_rows(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[int]:
    """The new messages' ids, in the order of ``rows``."""
    groups = [row["whatsapp_bulk_group_id"] for row in rows]
    names = tuple(rows[0])
    if len(set(groups)) < len(groups) or any(tuple(row) != names for row in rows):
        ordered = await session.execute(_INSERT, list(rows))  # SQLAlchemy correlates them
        return [int(row_id) for row_id in ordered.scalars()]
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        named = await _insert_arrays(connection, names, rows)
    else:
        named = (await session.execute(_INSERT_NAMED, list(rows))).all()
    ids = {group: int(row_id) for row_id, group in named}
    return [ids[group] for group in groups]


async def _insert_arrays(
    connection: AsyncConnection, names: tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> Sequence[Any]:
    """On PostgreSQL: one statement whatever the batch's size (asyncpg prepares it once), each
    column's values an array (``unnest``); as a multi-row INSERT, rendering and binding it
    was most of a batch's CPU. The values are converted by the columns' own types first, as
    SQLAlchemy would."""
    dialect = connection.dialect
    statement, converters = _array_insert(names, dialect)
    columns = [
        [convert(row[name]) for row in rows]
        for name, convert in zip(names, converters, strict=True)
    ]
    # Through SQLAlchemy's driver layer still, for its errors (a foreign key's IntegrityError).
    result = await connection.exec_driver_sql(statement, tuple(columns))
    return result.all()


@functools.lru_cache(maxsize=16)  # a statement per column set and engine: one or two
def _array_insert(
    names: tuple[str, ...], dialect: Dialect
) -> tuple[str, list[Callable[[Any], Any]]]:
    quote = dialect.identifier_preparer.quote
    columns = [_MESSAGES.c[name] for name in names]
    arrays = ", ".join(
        f"${n}::{column.type.compile(dialect=dialect)}[]" for n, column in enumerate(columns, 1)
    )
    # Only the table's own column names and types go into the text; the values are bound.
    statement = (
        f"INSERT INTO {quote(_MESSAGES.name)} ({', '.join(quote(name) for name in names)}) "  # noqa: S608
        f"SELECT * FROM unnest({arrays}) RETURNING id, whatsapp_bulk_group_id"
    )
    return statement, [column_converter(column, dialect) for column in columns]


async def add_to_totals(session: AsyncSession, added: dict[int, int]) -> None:
    """One of each user's total shards (see ``MessageTotal``), users in id order so that two
    processes' batches lock the rows in the same order and cannot deadlock."""
    statement = _ADD_TO_TOTAL[session.get_bind().dialect.name]
    for user_id in sorted(added):
        # Not a secret: spreading concurrent writers over the shards only needs them to differ.
        shard = random.randrange(TOTAL_SHARDS)  # noqa: S311
        await session.execute(
            statement, {"user_id": user_id, "shard": shard, "added": added[user_id]}
        )


@dataclass(frozen=True, slots=True)
class TemplateState:
    owner: int
    user: UserState
    template: tuple[Any, ...]  # ``TEMPLATE_FIELDS``, as ``intake_cache.template_fields``


async def states(session: AsyncSession, template_ids: Iterable[int]) -> dict[int, TemplateState]:
    """By template: its owner, the owner's authorising state and the template's fields, in one
    query."""
    result = await session.execute(_STATES, {"ids": sorted(set(template_ids))})
    return {
        int(row[0]): TemplateState(
            int(row[1]), UserState.of(row[2], row[3], row[4]), tuple(row[5:])
        )
        for row in result.all()
    }


async def channels_of(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, UserChannels]:
    """By user: its channels (``senders.snapshot``'s form), in one query; a user without any
    is absent."""
    result = await session.execute(_CHANNELS_OF, {"users": sorted(set(user_ids))})
    found: dict[int, list[SenderChannel]] = {}
    for user_id, channel_id, waba_id, display_number, is_default, tier in result.all():
        found.setdefault(int(user_id), []).append(
            SenderChannel(
                int(channel_id),
                str(waba_id),
                digits_only(display_number or ""),
                bool(is_default),
                tier,
            )
        )
    return {user_id: tuple(channels) for user_id, channels in found.items()}


async def template_and_channel(
    session: AsyncSession, user_id: int, template_id: int, channel_id: int | None
) -> tuple[bool, bool]:
    """Whether the template and the user's channel still exist (read after a constraint
    failed)."""
    template = await session.execute(
        select(Template.id).where(Template.id == template_id, Template.user_id == user_id)
    )
    channel = await session.execute(
        select(Channel.id).where(Channel.id == channel_id, Channel.user_id == user_id)
    )
    return template.first() is not None, channel.first() is not None
