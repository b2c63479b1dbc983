"""Engines and sessions for SQLite (WAL, one machine) and PostgreSQL (scale-out)."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy import event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from herald.config import ConfigError
from herald.models.base import Base

Row = TypeVar("Row", bound=Base)

_SUPPORTED_DRIVERS = {"sqlite+aiosqlite", "postgresql+asyncpg"}


def normalise_database_url(url: str) -> str:
    """Accept the plain ``sqlite://`` and ``postgresql://`` spellings and add the async driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"cannot parse database URL {safe_url(url)!r}") from None
    drivername = {
        "sqlite": "sqlite+aiosqlite",
        "postgresql": "postgresql+asyncpg",
        "postgres": "postgresql+asyncpg",
    }.get(parsed.drivername, parsed.drivername)
    if drivername not in _SUPPORTED_DRIVERS:
        raise ConfigError(
            f"unsupported database URL scheme {parsed.drivername!r}: "
            "use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db"
        )
    return parsed.set(drivername=drivername).render_as_string(hide_password=False)


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def create_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    url = normalise_database_url(url)
    is_sqlite = url.startswith("sqlite")
    # No pre-ping: on asyncpg it costs three round trips per checkout (BEGIN, a ping, ROLLBACK),
    # a third of a send's database time. A connection that broke while pooled fails its
    # request once with 503 service_unavailable (retryable), and SQLAlchemy then discards
    # every connection older than the failure, so one outage costs the requests in flight.
    # No overflow: a connection opened for one busy moment and closed after it costs more
    # (PostgreSQL: TCP, TLS negotiation, a backend process; SQLite: a thread and the pragmas)
    # than waiting for a pooled one.
    options: dict[str, Any] = {"pool_pre_ping": False, "pool_size": pool_size, "max_overflow": 0}
    if is_sqlite:
        # WAL lets readers proceed beside the one writer; a writer waits up to 30 s for its turn.
        options["async_creator"] = _sqlite_connector(url, timeout=30)
    try:
        engine = create_async_engine(url, **options)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigError(f"cannot use database URL {safe_url(url)!r}: {exc}") from None
    if is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


class _SQLiteConnection(aiosqlite.Connection):
    """aiosqlite's connection, whose transaction ends when it is closed or stopped.

    SQLAlchemy ends a connection whose task was cancelled inside a statement by awaiting
    ``close()``, shielded, and calls ``stop()`` if that await is cancelled too (a stopping
    Herald cancels its loops again every second, ``kit/tasks.py``). Two ways that left SQLite's
    write lock held until a garbage collection, while every other writer waited out its 30
    seconds and failed (``database is locked``; a stopped ``herald worker`` did not exit):

    - A read cut short (cancelled between its first row and the rest) keeps its statement
      active, held by a cursor the cancellation's traceback keeps; closing then leaves SQLite's
      connection a zombie that keeps its transaction, writes and all, until that statement is
      finalized. Rolling back first ends the transaction (the read is aborted).
    - When ``stop()`` came before the shielded ``close()`` had started, aiosqlite's ``close()``
      dropped the connection before its thread ran the close ``stop()`` had queued, which then
      found nothing to close.

    aiosqlite 0.22.1, the latest release, has both."""

    def _roll_back_first(self) -> None:
        """Queue a rollback ahead of the close (queued, not awaited: no cancellation can come
        between the two)."""
        if self._running and self._connection is not None:
            self._tx.put_nowait((None, self._connection.rollback))

    async def close(self) -> None:
        if not self._running:  # stop() has queued the close: it must find the connection
            return
        self._roll_back_first()
        await super().close()

    def stop(self) -> asyncio.Future[Any] | None:
        self._roll_back_first()
        return super().stop()


def _sqlite_connector(url: str, timeout: float) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    """Opens the URL's SQLite connections as SQLAlchemy's own ``connect`` would (its dialect
    reads the URL), as ``_SQLiteConnection``."""
    parsed = make_url(url)
    args, options = parsed.get_dialect()().create_connect_args(parsed)
    options = {**options, "timeout": timeout}

    async def connect() -> aiosqlite.Connection:
        connection = _SQLiteConnection(
            functools.partial(sqlite3.connect, *args, **options), iter_chunk_size=64
        )
        connection._thread.daemon = True  # as SQLAlchemy's own connect: exit never waits on it
        return await connection

    return connect


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def insert_unless_taken(
    session: AsyncSession, row: Row, conflict_on: Sequence[str] | None = None
) -> Row | None:
    """Insert ``row`` unless it would repeat a unique key: the stored row, or None when a row
    with the same key exists. The one way a create meets a unique constraint, so that two
    requests racing to make the same thing get one 201 and one 409 on both databases.

    ``INSERT ... ON CONFLICT DO NOTHING`` instead of a look-up before the insert: the look-up
    cannot see a concurrent transaction's row, and the insert that then fails leaves the
    session (and PostgreSQL's transaction) unusable for the 409. PostgreSQL waits for the
    concurrent transaction to end, so a None means the other row is committed and can be read.
    ``conflict_on`` names the unique key's columns; None stands for any unique key of the
    table. Only columns go in (a relationship's rows are the caller's to add)."""
    model = type(row)
    values = {
        column.key: getattr(row, column.key)
        for column in inspect(model).column_attrs
        if column.key in row.__dict__
    }
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(model)
        .values(values)
        .on_conflict_do_nothing(index_elements=conflict_on)
        .returning(model)
    )
    stored: Row | None = (await session.scalars(statement)).one_or_none()
    return stored


async def update_unless_taken(session: AsyncSession, row: Row, values: Mapping[str, Any]) -> bool:
    """Set ``values`` on ``row`` and write them unless that would repeat a unique key: False
    then, with the row as stored and the transaction still usable (for the 409's look-up). The
    update's side of ``insert_unless_taken``: an UPDATE has no ON CONFLICT, so the write runs
    in a savepoint that a unique violation rolls back. A concurrent transaction's row is seen
    here, as the violation, even when a look-up before the write could not see it.

    The caller's other pending changes are written first, outside the savepoint."""
    await session.flush()
    await _begin_before_savepoint(session)
    try:
        async with session.begin_nested():
            for name, value in values.items():
                setattr(row, name, value)
            await session.flush()
    except IntegrityError:
        await session.refresh(row)
        return False
    return True


async def _begin_before_savepoint(session: AsyncSession) -> None:
    """On SQLite, begin the transaction as pysqlite would before its first write. pysqlite
    begins one only before an INSERT, UPDATE or DELETE, so a SAVEPOINT coming first would begin
    it, and releasing that savepoint would commit everything (SQLAlchemy's pysqlite notes,
    "Serializable isolation / Savepoints / Transactional DDL"). A plain BEGIN, as pysqlite's
    own: the earlier reads were not in a transaction, so the write waits its turn as usual."""
    connection = await session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = await connection.get_raw_connection()
    if not raw.driver_connection.in_transaction:  # type: ignore[union-attr]
        await connection.exec_driver_sql("BEGIN")


# PostgreSQL's verdicts on a transaction that lost to a concurrent one: nothing in it was wrong,
# and the same work in a new transaction is expected to go through.
_LOST_TO_ANOTHER = {"40P01", "40001"}  # deadlock_detected, serialization_failure


def lost_to_another(error: BaseException) -> bool:
    """Whether ``error`` is PostgreSQL ending this transaction for a concurrent one's sake (a
    deadlock, a serialization failure): to be run again, not reported as a failure."""
    cause = getattr(error, "orig", None)
    return isinstance(error, DBAPIError) and getattr(cause, "sqlstate", None) in _LOST_TO_ANOTHER
