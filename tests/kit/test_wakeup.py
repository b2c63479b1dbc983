"""The wake-up listener on a PostgreSQL of the test's own: NOTIFY wakes it; while the server is
down it falls back to polling; once the server is back it listens again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import pytest

from herald.db import create_engine
from herald.kit.wakeup import WakeEvent, Wakeup, postgres_connect
from tests.reliability.private_postgres import PrivatePostgres, private_postgres

pytestmark = pytest.mark.e2e


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    with private_postgres() as server:
        yield server


@contextlib.asynccontextmanager
async def listening(wakeup: Wakeup) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(wakeup.listen())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def woken(event: asyncio.Event, within: float) -> None:
    event.clear()
    await asyncio.wait_for(event.wait(), within)


async def test_notify_wakes_the_listener_which_polls_while_the_server_is_down(
    postgres: PrivatePostgres,
) -> None:
    engine = create_engine(postgres.url)
    connect = postgres_connect(engine)
    assert connect is not None
    dispatcher = Wakeup(WakeEvent(), connect, fallback_seconds=0.05, check_seconds=0.5)
    api = Wakeup(WakeEvent(), connect)  # another process's, accepting sends
    try:
        async with listening(dispatcher) as task:
            await asyncio.wait_for(dispatcher.listening.wait(), 10)
            dispatcher.event.clear()
            api.accepted()
            await asyncio.wait_for(dispatcher.event.wait(), 5)  # through NOTIFY

            await asyncio.to_thread(postgres.stop)
            for _ in range(3):  # polling: the event is set again and again, nobody notifies
                await woken(dispatcher.event, 10)
            assert not dispatcher.listening.is_set()
            api.accepted()  # the notification is lost; the polling covers it

            await asyncio.to_thread(postgres.start)
            await asyncio.wait_for(dispatcher.listening.wait(), 30)
            dispatcher.event.clear()
            api.accepted()  # the notifier reconnects too
            await asyncio.wait_for(dispatcher.event.wait(), 5)
            assert not task.done()
    finally:
        await api.aclose()
        await dispatcher.aclose()
        await engine.dispose()


async def test_without_postgresql_the_event_alone_wakes_the_dispatcher() -> None:
    wakeup = Wakeup(WakeEvent())
    await wakeup.listen()  # nothing to listen to: returns at once
    wakeup.accepted()
    assert wakeup.event.is_set()
