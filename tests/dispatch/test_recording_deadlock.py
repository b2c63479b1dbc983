"""A recording that PostgreSQL ends in a deadlock (with a status webhook's transaction on the
same rows) goes again rather than failing the channel's runner; rows are updated in id order,
the order a webhook batch locks them in (PostgreSQL only: SQLite has one writer)."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import select

from herald.background import dispatch_deps
from herald.channel import repository as channels
from herald.config import Settings
from herald.db import session_factory
from herald.dispatch import results
from herald.dispatch.recorder import Recorder
from herald.dispatch.template_holds import TemplateHolds
from herald.features import FEATURES
from herald.kit.clock import FrozenClock
from herald.models import Message, User
from herald.runtime import open_runtime
from tests.conftest import DatabaseUnderTest
from tests.dispatch.test_leases import _queue
from tests.live_herald import eventually


async def _lock_waits(admin: asyncpg.Connection, besides: int) -> int:
    count: int = await admin.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> $1",
        besides,
    )
    return count


async def test_a_recording_that_deadlocks_goes_again(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> None:
    if db.kind != "postgresql":
        pytest.skip("row locks and deadlocks are PostgreSQL's")
    now = clock.now()
    channel_id = await _queue(db, ana, settings, now, 2)
    async with session_factory(db.engine)() as session:
        channel = await channels.get(session, channel_id)
        first, second = (
            await session.execute(
                select(Message.id).where(Message.channel_id == channel_id).order_by(Message.id)
            )
        ).scalars()
    assert channel is not None
    url = settings.resolved_database_url.replace("postgresql+asyncpg", "postgresql")
    other = await asyncpg.connect(url)  # another transaction on the same rows (a webhook's)
    try:
        # Its deadlock check comes late: the recording's backend is the one that finds it.
        await other.execute("SET deadlock_timeout = '20s'")
        async with open_runtime(settings, clock, FEATURES) as runtime:
            deps = dispatch_deps(runtime)
            recorder = Recorder(deps, TemplateHolds(deps.provider), lambda: 0)
            accepted = [  # in the chunk's order; recorded in id order
                {"mid": message_id, "wamid": f"wamid.{message_id}", "at": now}
                for message_id in (second, first)
            ]
            planned = results.Planned(accepted, [], [], [], [], [])
            lock = "SELECT id FROM messages WHERE id = $1 FOR UPDATE"
            transaction = other.transaction()
            await transaction.start()
            await other.fetchval(lock, second)
            recorder.add(channel, planned)  # updates the first row, then waits for the second
            admin = await asyncpg.connect(url)
            try:

                async def recording_waits() -> bool:
                    return await _lock_waits(admin, other.get_server_pid()) > 0

                await eventually(recording_waits, timeout=30, message="the recording waits")
            finally:
                await admin.close()
            # The other transaction now waits for the first row: a deadlock, which PostgreSQL
            # breaks by ending the recording's transaction; the recording goes again and waits
            # for this one to end.
            await other.fetchval(lock, first)
            await transaction.commit()
            await recorder.finish()  # raised the deadlock before it went again
    finally:
        await other.close()
    async with session_factory(db.engine)() as session:
        recorded = (
            await session.execute(
                select(Message.id, Message.provider_message_id).where(
                    Message.channel_id == channel_id
                )
            )
        ).all()
    assert dict(recorded) == {first: f"wamid.{first}", second: f"wamid.{second}"}
