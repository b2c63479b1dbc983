"""SQLite's connections always let go of the write lock (``db._SQLiteConnection``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from herald.db import create_engine
from tests.conftest import sqlite_write_lock_free


@pytest.fixture
async def writing(
    tmp_path: Path,
) -> AsyncIterator[tuple[Path, AsyncConnection, aiosqlite.Connection]]:
    """A connection of Herald's SQLite engine in a write transaction (two rows inserted, the
    write lock taken), with its aiosqlite connection; invalidated at the end, as SQLAlchemy
    does with a connection it ended."""
    path = tmp_path / "herald.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (v INTEGER)"))
        async with engine.connect() as connection:
            await connection.execute(text("INSERT INTO t VALUES (1), (2)"))
            assert not await asyncio.to_thread(sqlite_write_lock_free, path, 0.1)
            raw = (await connection.get_raw_connection()).driver_connection
            assert isinstance(raw, aiosqlite.Connection)
            yield path, connection, raw
            await connection.invalidate()
    finally:
        await engine.dispose()


async def test_a_connection_stopped_before_its_close_began_still_ends_its_transaction(
    writing: tuple[Path, AsyncConnection, aiosqlite.Connection],
) -> None:
    """SQLAlchemy ends a connection whose task was cancelled inside a statement with a shielded
    close(), and stops it when that await is cancelled too: here the stop comes before the
    close has run, as when the second cancellation was already waiting. aiosqlite's own
    connection then stayed open in its write transaction, and every other writer waited."""
    path, _, raw = writing
    stopped = raw.stop()
    # The shielded close()'s first step, run here and now, before the connection's thread gets
    # to what stop() queued (a task's would run at the loop's next turn).
    closing = raw.close()
    with contextlib.suppress(StopIteration):
        closing.send(None)
    assert stopped is not None
    await stopped  # the thread has run what stop() queued
    try:
        assert await asyncio.to_thread(sqlite_write_lock_free, path, 2)
    finally:
        closing.close()


@pytest.mark.parametrize("ending", ["close", "stop"])
async def test_a_connection_ended_with_a_read_cut_short_ends_its_transaction(
    writing: tuple[Path, AsyncConnection, aiosqlite.Connection], ending: str
) -> None:
    """A read cancelled between its first row and the rest keeps its statement active, held by
    a cursor the cancellation's traceback keeps. Closing the connection then left SQLite's
    connection a zombie that kept its transaction, and the write lock, until that cursor was
    collected."""
    path, _, raw = writing
    cut_short = await raw.execute("SELECT v FROM t")
    assert await cut_short.fetchone() == (1,)
    if ending == "close":
        await raw.close()
    else:
        stopped = raw.stop()
        assert stopped is not None
        await stopped
    assert await asyncio.to_thread(sqlite_write_lock_free, path, 2)
    del cut_short
