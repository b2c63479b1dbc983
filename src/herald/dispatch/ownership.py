"""One owner per channel at a time, so that pacing stays local and exact.

PostgreSQL: session-level advisory locks on one dedicated connection; when the worker dies its
connection closes and its channels are free for another worker. The connections are named
(``application_name``), so each worker can count the others and take only its share of the
channels (``dispatch/worker.py``). SQLite: one dispatcher per database, enforced with a lock
file beside it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Collection
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from herald.kit.wakeup import DISPATCH_CHANNEL

LOCK_SPACE = 0x4845_524C << 32  # "HERL": keeps Herald's advisory locks apart from others'
# The name of each dispatching process's lock connection: what counts the dispatchers.
DISPATCHER_NAME = "herald-dispatcher"


class Ownership(Protocol):
    async def acquire(self, channel_id: int) -> bool: ...
    async def release(self, channel_id: int) -> None: ...
    async def hand_over(self, channel_ids: Collection[int]) -> None:
        """Release the channels, then wake the other dispatchers once to take them all."""
        ...

    async def census(self) -> tuple[int, set[int]]:
        """The processes dispatching from this database (this one included), and the channels
        any of them owns."""
        ...

    async def alive(self) -> bool: ...
    async def close(self) -> None: ...


class AdvisoryLocks:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None

    async def _conn(self) -> AsyncConnection:
        if self._connection is None:
            connection = await self._engine.connect()
            self._connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await self._connection.execute(
                text("SELECT set_config('application_name', :name, false)"),
                {"name": DISPATCHER_NAME},
            )
        return self._connection

    async def acquire(self, channel_id: int) -> bool:
        connection = await self._conn()
        result = await connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_SPACE + channel_id}
        )
        return bool(result.scalar_one())

    async def release(self, channel_id: int) -> None:
        if self._connection is not None:
            await self._connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_SPACE + channel_id}
            )

    async def hand_over(self, channel_ids: Collection[int]) -> None:
        for channel_id in channel_ids:
            await self.release(channel_id)
        if self._connection is not None:
            await self._connection.execute(
                text("SELECT pg_notify(:channel, '')"), {"channel": DISPATCH_CHANNEL}
            )

    async def census(self) -> tuple[int, set[int]]:
        connection = await self._conn()
        dispatchers = await connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": DISPATCHER_NAME},
        )
        # A bigint advisory lock shows its high half as classid and its low half as objid.
        owned = await connection.execute(
            text(
                "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND classid = :space"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"space": LOCK_SPACE >> 32},
        )
        return max(1, int(dispatchers.scalar_one())), {int(c) for c in owned.scalars()}

    async def alive(self) -> bool:
        """False once the lock connection is gone: every lock it held is gone with it."""
        try:
            await (await self._conn()).execute(text("SELECT 1"))
            return True
        except Exception:
            await self.close()
            return False

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                await connection.close()
            except Exception:
                await connection.invalidate()


class SingleDispatcher:
    """SQLite: this process owns every channel, if it holds the database's dispatcher lock."""

    def __init__(self, database_url: str) -> None:
        database = make_url(database_url).database or "herald.db"
        self._path = Path(f"{database}.dispatcher.lock")
        self._fd: int | None = None

    def _locked(self) -> bool:
        if self._fd is None:
            fd = os.open(self._path, os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
        return True

    async def acquire(self, channel_id: int) -> bool:
        return self._locked()

    async def release(self, channel_id: int) -> None:
        return None

    async def hand_over(self, channel_ids: Collection[int]) -> None:
        return None

    async def census(self) -> tuple[int, set[int]]:
        return 1, set()

    async def alive(self) -> bool:
        return True

    async def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


def ownership_for(engine: AsyncEngine, database_url: str) -> Ownership:
    if engine.dialect.name == "postgresql":
        return AdvisoryLocks(engine)
    return SingleDispatcher(database_url)
