"""Waking dispatchers when sends are accepted: an in-process event, and on PostgreSQL
LISTEN/NOTIFY between processes, with polling only as the fallback.

The accepting side calls ``Wakeup.accepted()`` once the sends are committed: it sets this
process's event (a dispatcher here wakes at once: ``herald serve``) and, on PostgreSQL, sends
``pg_notify`` on a connection of its own, so ``herald worker`` processes wake too. A dispatching
process runs ``Wakeup.listen()``: a dedicated connection LISTENs and sets the event on every
notification; while that connection is down (PostgreSQL restarting) it sets the event every
``fallback_seconds`` (polling) and reconnects.

Why NOTIFY after the commit, not in the storing transaction: the storing transaction is the
intake's group commit, shared by many requests; a NOTIFY in it takes PostgreSQL's cluster-wide
notify lock from its commit until the commit ends, serialising every committing writer that
notifies. After the commit the notification costs a round trip off the request's path (a task),
concurrent accepts share one (one in flight, at most one every ``min_interval``), and one lost
(the process dies between the commit and the NOTIFY) costs one poll interval, never a message:
the database is the queue, the notification only a hint.

Generic (it names no feature), so the runtime may build it: the outside world (how to connect)
is passed in.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

log = structlog.get_logger("herald.wakeup")

Connect = Callable[[], Awaitable[Any]]  # an asyncpg connection (untyped: asyncpg has no stubs)

DISPATCH_CHANNEL = "herald_dispatch"


class WakeEvent(asyncio.Event):
    """An event that counts its wake-ups: a loop busy with other work (a channel's runner
    sending a bulk) sees that something was accepted since it last looked, without waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def set(self) -> None:
        self.count += 1
        super().set()


class Wakeup:
    def __init__(
        self,
        event: WakeEvent,
        connect: Connect | None = None,
        channel: str = DISPATCH_CHANNEL,
        fallback_seconds: float = 0.5,
        check_seconds: float = 5.0,
        min_interval: float = 0.01,
    ) -> None:
        """``connect`` opens a new asyncpg connection (None: one process, no NOTIFY)."""
        self.event = event
        self.channel = channel
        self.fallback_seconds = fallback_seconds
        self.check_seconds = check_seconds
        self.min_interval = min_interval
        self._connect = connect
        self._notifier: Any = None
        self._notifying: asyncio.Task[None] | None = None
        self._again = False
        self._last_notify = 0.0
        # Set while the listener's connection LISTENs (tests and logs watch it).
        self.listening = asyncio.Event()

    def accepted(self) -> None:
        """Sends were committed here: wake this process's dispatcher and, on PostgreSQL, the
        other processes' (in a task: the caller does not wait for the round trip)."""
        self.event.set()
        if self._connect is None:
            return
        if self._notifying is not None and not self._notifying.done():
            self._again = True  # the notification under way is followed by one more
            return
        self._notifying = asyncio.create_task(self._notify(), name="herald-notify")

    async def _notify(self) -> None:
        while True:
            self._again = False
            wait = self._last_notify + self.min_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                if self._notifier is None or self._notifier.is_closed():
                    self._notifier = await self._connect_within()
                await self._notifier.execute("SELECT pg_notify($1, '')", self.channel)
            except Exception as exc:  # the workers' polling picks the sends up
                log.warning("wakeup.notify_failed", error=type(exc).__name__)
                await self._close_notifier()
                return
            self._last_notify = time.monotonic()
            if not self._again:
                return

    async def _connect_within(self) -> Any:
        assert self._connect is not None
        return await asyncio.wait_for(self._connect(), timeout=max(5.0, self.check_seconds))

    async def listen(self) -> None:
        """Until cancelled: wake the dispatcher on every notification; while disconnected,
        every ``fallback_seconds``. Returns at once without PostgreSQL (the event is enough)."""
        if self._connect is None:
            return
        was_down = False
        while True:
            try:
                connection = await self._connect_within()
            except Exception as exc:
                if not was_down:
                    log.warning("wakeup.listen_down", error=type(exc).__name__)
                was_down = True
                await self._poll_once()
                continue
            try:
                await self._listen_on(connection)
            except Exception as exc:
                log.warning("wakeup.listen_lost", error=type(exc).__name__)
                was_down = True
                await self._poll_once()
            finally:
                self.listening.clear()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), timeout=1.0)
                if not connection.is_closed():
                    connection.terminate()

    async def _poll_once(self) -> None:
        """Polling while the notifications cannot arrive: the dispatcher looks now and then."""
        self.event.set()
        await asyncio.sleep(self.fallback_seconds)

    async def _listen_on(self, connection: Any) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        await connection.add_listener(self.channel, self._notified)
        self.listening.set()
        # Sends accepted while nobody listened were not announced: look once now.
        self.event.set()
        log.info("wakeup.listening", channel=self.channel)
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), timeout=self.check_seconds)
                break
            # A connection can die without a word (a dropped network): ask it now and then.
            await asyncio.wait_for(connection.fetchval("SELECT 1"), timeout=self.check_seconds)
        raise ConnectionError("the LISTEN connection closed")

    def _notified(self, *_args: object) -> None:
        self.event.set()

    async def aclose(self) -> None:
        if self._notifying is not None:
            self._notifying.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._notifying
        await self._close_notifier()

    async def _close_notifier(self) -> None:
        notifier, self._notifier = self._notifier, None
        if notifier is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(notifier.close(), timeout=1.0)
            if not notifier.is_closed():
                notifier.terminate()


def postgres_connect(engine: Any) -> Connect | None:
    """How to open a connection of its own to ``engine``'s PostgreSQL (None on SQLite): the
    engine's own connect arguments, outside its pool (a LISTEN holds its connection)."""
    if engine.dialect.name != "postgresql":
        return None
    import asyncpg

    _args, params = engine.dialect.create_connect_args(engine.url)

    async def connect() -> Any:
        return await asyncpg.connect(**params)

    return connect
