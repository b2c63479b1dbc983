"""SQL for messages; every user-facing query is scoped to one user."""

from __future__ import annotations

import functools
import itertools
import json
import random
from collections.abc import (
    AsyncIterator,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Integer,
    Row,
    Select,
    any_,
    bindparam,
    delete,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from herald.kit.pg_copy import BinaryRows, field_encoder
from herald.message.intake_cache import UserState
from herald.models import Message, MessageTotal, OptOut, User
from herald.models.message import CANCELLED, QUEUED, TOTAL_SHARDS

INSERT_BATCH = 1000
FILTERS = ("whatsapp_bulk_group_id", "state", "template_id", "contact_id", "phone_number")


async def get(session: AsyncSession, user_id: int, message_id: int) -> Message | None:
    result = await session.execute(
        select(Message).where(Message.id == message_id, Message.user_id == user_id)
    )
    return result.scalar_one_or_none()


async def insert_many(
    session: AsyncSession,
    user_id: int,
    common: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """``insert_rows`` for rows given as mappings (all with the same keys), and the user's
    total."""
    names = list(rows[0]) if rows else []
    values = [tuple(row[name] for name in names) for row in rows]
    await add_to_total(session, user_id, await insert_rows(session, common, names, values))


async def insert_rows(
    session: AsyncSession,
    common: Mapping[str, Any],
    names: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> int:
    """Messages that share the ``common`` columns, one per row of values for the columns
    ``names``, written as ``rows`` yields them: one binary COPY on PostgreSQL, which sends them
    while the next ones are made, one executemany on SQLite. Returns how many.

    The values are converted by the columns' own types, as an ORM insert would, but the
    shared ones once per call rather than once per row: a 10,000-recipient bulk send spent
    more time in the ORM's per-row work than in the database.
    """
    pending = iter(rows)
    first = next(pending, None)
    if first is None:
        return 0
    rows = itertools.chain((first,), pending)
    connection = await session.connection()
    dialect = connection.dialect
    table = Message.metadata.tables[Message.__tablename__]
    shared = [
        (table.c[name], column_converter(table.c[name], dialect)(v)) for name, v in common.items()
    ]
    converters = [column_converter(table.c[name], dialect) for name in names]
    # Most columns need no conversion (on PostgreSQL, only the JSON content does).
    converting = [(i, convert) for i, convert in enumerate(converters) if convert is not _unchanged]

    def converted() -> Iterator[tuple[Any, ...]]:
        for row in rows:
            values = list(row)
            for i, convert in converting:
                values[i] = convert(values[i])
            yield tuple(values)

    columns = [*common, *names]
    if dialect.name == "postgresql":
        stream = BinaryRows(
            [field_encoder(column, dialect)(value) for column, value in shared],
            [field_encoder(table.c[name], dialect) for name in names],
        )
        await _copy(connection, columns, stream.stream(converted()))
        return stream.written
    quote = dialect.identifier_preparer.quote
    # Only the table's own column names, quoted, go into the text; values are bound.
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))}) "  # noqa: S608
        f"VALUES ({', '.join('?' * len(columns))})"  # sqlite3's paramstyle: qmark
    )
    shared_values = tuple(value for _, value in shared)
    values = [(*shared_values, *row) for row in converted()]
    await connection.exec_driver_sql(statement, values)
    return len(values)


async def delete_numbers(
    session: AsyncSession, user_id: int, group_id: str, numbers: Collection[str]
) -> None:
    """Drop a bulk group's rows to these numbers (before the group is committed)."""
    unique = list(numbers)
    in_group = (Message.user_id == user_id) & (Message.whatsapp_bulk_group_id == group_id)
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            delete(Message).where(in_group, Message.phone_number == _any_number(unique))
        )
        return
    for start in range(0, len(unique), INSERT_BATCH):
        batch = unique[start : start + INSERT_BATCH]
        await session.execute(delete(Message).where(in_group, Message.phone_number.in_(batch)))


def column_converter(column: ColumnElement[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """What the column's type does to a value before the driver sees it (identity: nothing)."""
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    if processor is None:
        return _unchanged
    if isinstance(column.type, JSON) and getattr(dialect, "_json_serializer", None) is None:
        return lambda value: _json_text(value) if type(value) is dict else processor(value)
    return processor


def _make_json_text() -> Callable[[Any], str]:
    """``json.dumps`` with its default arguments (what the JSON type writes), its encoder made
    once: ``json.dumps`` builds a new one at every call, three quarters of the cost of a small
    dict such as a message's content (~2 µs of ~2.6). Same text, byte for byte."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator: nothing to gain
        return json.dumps
    default = json.JSONEncoder().default
    # markers=None skips the circular-reference check: content is built by Herald, never cyclic.
    encode = make(
        None, default, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True
    )
    return lambda value: "".join(encode(value, 0))


_json_text = _make_json_text()


def _unchanged(value: Any) -> Any:
    return value


async def _copy(
    connection: AsyncConnection, columns: list[str], source: AsyncIterator[bytes]
) -> None:
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    # COPY goes to asyncpg directly; SQLAlchemy opens the database transaction at its first
    # statement only. Outside one, the rows would be committed at once, before the answer.
    if not raw.is_in_transaction():
        await connection.execute(select(literal(1)))
    if not raw.is_in_transaction():
        raise RuntimeError("COPY outside the session's transaction")
    await raw.copy_to_table(Message.__tablename__, source=source, columns=columns, format="binary")


async def add_to_total(session: AsyncSession, user_id: int, added: int) -> None:
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


def _any_number(numbers: Sequence[str]) -> ColumnElement[Any]:
    """``= ANY`` of these phone numbers (digits, no commas), on PostgreSQL: one parameter
    rather than 1,000 bound values per statement to compile and send, and one text rather than
    an array, whose every element asyncpg type-checks in Python (~13 ms for 10,000)."""
    return any_(func.string_to_array(bindparam("numbers", ",".join(numbers)), ","))


async def opted_out(session: AsyncSession, user_id: int, numbers: Sequence[str]) -> set[str]:
    found: set[str] = set()
    unique = list(dict.fromkeys(numbers))
    if session.get_bind().dialect.name == "postgresql" and len(unique) > 1:
        result = await session.execute(
            select(OptOut.phone_number).where(
                OptOut.user_id == user_id, OptOut.phone_number == _any_number(unique)
            )
        )
        return set(result.scalars())
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
    Message.kind,
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
    Message.held_reason,
    Message.billable,
    Message.pricing_category,
    Message.pricing_model,
)


# The caller's authorising state, read with a page by a caller the process did not read
# (``deps.Reader``): scalar subqueries, run once per statement, NULL if the user is gone.
_CALLER = tuple(
    select(column).where(User.id == bindparam("user_id")).scalar_subquery().label(f"caller_{name}")
    for name, column in (
        ("is_disabled", User.is_disabled),
        ("has_api_access", User.has_api_access),
        ("tokens_valid_after", User.tokens_valid_after),
    )
)


@functools.cache
def _history_statements(
    given: tuple[str, ...], with_caller: bool
) -> tuple[Select[Any], Select[Any]]:
    """The page (with its total) and the total alone, for one combination of filters, each
    with the caller's state when ``with_caller``.

    Built once per combination, with bound parameters (at most 2**8 of them): building a
    fresh statement and hashing it for the compiled cache cost more than compiling saved.
    ``before_id`` among them bounds the page's ids instead of skipping an offset, and not the
    total, which stays the whole filtered list's.
    """
    ids = select(Message.id).where(Message.user_id == bindparam("user_id"))
    for name in given:
        if name == "from":
            ids = ids.where(Message.created_at >= bindparam(name))
        elif name == "to":
            ids = ids.where(Message.created_at <= bindparam(name))
        elif name != "before_id":
            ids = ids.where(getattr(Message, name) == bindparam(name))
    if set(given) - {"before_id"}:
        total = select(func.count()).select_from(ids.subquery())
    else:  # the user's counter rather than a count of all their messages
        total = select(func.coalesce(func.sum(MessageTotal.total), 0)).where(
            MessageTotal.user_id == bindparam("user_id")
        )
    page_ids = ids.order_by(Message.id.desc()).limit(bindparam("limit", type_=Integer))
    if "before_id" in given:
        # A range of the (user_id, id) index, or of (user_id, group, id): the page reads only
        # its own entries however deep it is.
        page_ids = page_ids.where(Message.id < bindparam("before_id"))
    else:
        page_ids = page_ids.offset(bindparam("offset", type_=Integer))
    caller = _CALLER if with_caller else ()
    page = (
        select(total.scalar_subquery().label("total"), *caller, *HISTORY_COLUMNS)
        .where(Message.id.in_(page_ids.correlate(None)))
        .order_by(Message.id.desc())
    )
    return page, select(total.scalar_subquery().label("total"), *caller)


async def history_page(
    session: AsyncSession,
    user_id: int,
    filters: dict[str, Any],
    limit: int,
    offset: int,
    before_id: int | None = None,
    with_caller: bool = False,
) -> tuple[Sequence[Row[Any]], int, UserState | None]:
    """One page, newest first, and the total, in one statement (one round trip, one snapshot),
    with ``with_caller`` the user's authorising state too (else None).

    The page's ids come from the index alone, then only those rows are read: a deep page skips
    its offset in the index instead of reading every skipped row, and a page after
    ``before_id`` (``offset`` unused) starts at that id in the index. Each row carries the
    total (a scalar subquery, run once); only a page past the end needs a second statement
    for it. Core on the session's connection: the ORM's execution layer adds nothing to plain
    rows.
    """
    given = tuple(name for name in (*FILTERS, "from", "to") if filters.get(name) is not None)
    if before_id is not None:
        given += ("before_id",)
    page, total = _history_statements(given, with_caller)
    values = {"user_id": user_id, "limit": limit, "offset": offset, "before_id": before_id}
    values.update((name, filters[name]) for name in given if name != "before_id")
    connection = await session.connection()
    rows = (await connection.execute(page, values)).all()
    first = rows[0] if rows else (await connection.execute(total, values)).one()
    caller = None
    if with_caller:
        caller = UserState.of(
            first.caller_is_disabled, first.caller_has_api_access, first.caller_tokens_valid_after
        )
    return rows, int(first.total), caller


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
