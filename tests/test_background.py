"""A background loop whose rounds fail pauses longer after each failure in a row, says so in
the metrics, and runs normally again after a round that succeeds; the webhook processor lets
what arrives during a batch gather for the next."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from herald.background import RoundGuard
from herald.channel import service as channels
from herald.channel.defaults import emulator_defaults
from herald.db import create_engine, session_factory
from herald.kit.crypto import Cipher
from herald.models import WebhookEvent
from tests.conftest import DatabaseUnderTest, add_user
from tests.live_herald import Live, eventually
from tests.meta_webhook.test_endpoints import sign, template_event

GATHER_SECONDS = 2.0


def sample(name: str, loop: str) -> float:
    return REGISTRY.get_sample_value(name, {"loop": loop}) or 0.0


async def test_failed_rounds_back_off_and_show_in_the_metrics() -> None:
    guard = RoundGuard("test_loop", first_pause=0.001, max_pause=0.004)
    outcomes: list[Exception | int] = [
        RuntimeError("a"),
        ValueError("b"),
        KeyError("c"),
        ConnectionRefusedError("the database is away"),
        7,
    ]
    pauses = []

    async def round_() -> int:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    failed_before = sample("herald_loop_round_failures_total", "test_loop")
    for _ in range(3):
        assert await guard.run(round_) == 0
        pauses.append(sample("herald_loop_backoff_seconds", "test_loop"))
    assert pauses == [0.001, 0.002, 0.004]  # doubling, capped
    assert await guard.run(round_) == 0
    # The database away: a short pause every time, so the loop resumes as soon as it is back.
    assert sample("herald_loop_backoff_seconds", "test_loop") == 0.001
    assert sample("herald_loop_round_failures_total", "test_loop") == failed_before + 4
    assert await guard.run(round_) == 7
    assert sample("herald_loop_backoff_seconds", "test_loop") == 0
    assert guard.failures == 0


async def test_a_cancellation_that_comes_out_as_another_error_still_stops_the_loop() -> None:
    """A task cancelled inside an asyncpg query can see the driver's own error instead of
    ``CancelledError``; a loop catching it as a failed round must still stop."""
    guard = RoundGuard("test_cancel_loop", first_pause=0.001, max_pause=0.004)
    rounds = 0
    started = asyncio.Event()

    async def round_() -> int:
        nonlocal rounds
        rounds += 1
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if rounds > 1:
                raise
            raise RuntimeError("Can't reconnect until invalid transaction is rolled back") from None
        return 1

    async def loop() -> None:
        while True:
            await guard.run(round_)

    task = asyncio.create_task(loop())
    await started.wait()
    task.cancel()
    await asyncio.wait({task}, timeout=5)
    if not task.done():  # the failure this test is for: the loop went on to another round
        task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert rounds == 1


@pytest.fixture
def live_overrides() -> dict[str, Any]:
    return {"webhook_gather_seconds": GATHER_SECONDS}


async def test_webhooks_arriving_during_a_batch_are_applied_together_after_the_gather(
    live: Live, db: DatabaseUnderTest
) -> None:
    """Webhooks that come in while the processor has just applied a batch that was not full
    wait for the gather, so that they go in one batch (fewer write transactions under load)."""
    ana = await add_user(db, "ana@example.com")
    engine = create_engine(live.settings.resolved_database_url)
    async with session_factory(engine)() as session:
        channel = await channels.ensure_default(
            session,
            ana.id,
            emulator_defaults(live.settings),
            Cipher(live.settings.resolved_encryption_keys()),
            datetime.now(UTC),
        )
        await session.commit()
    assert channel.waba_id is not None  # its webhooks are signed with its app secret
    bodies = [template_event(channel.waba_id, str(9001 + n), "APPROVED") for n in range(3)]

    async def processed() -> list[WebhookEvent]:
        async with session_factory(engine)() as session:
            rows = await session.scalars(select(WebhookEvent).order_by(WebhookEvent.id))
            return [row for row in rows if row.processed_at is not None]

    async def post(body: bytes) -> None:
        answer = await live.herald.post("/webhooks/whatsapp", content=body, headers=sign(body))
        assert answer.status_code == 200, answer.text

    try:
        await post(bodies[0])
        await eventually(lambda: _count_is(processed, 1), message="the first webhook applied")
        await asyncio.gather(post(bodies[1]), post(bodies[2]))
        await eventually(lambda: _count_is(processed, 3), message="the others applied")
        first, second, third = await processed()
    finally:
        await engine.dispose()
    assert first.processed_at is not None
    for later in (second, third):
        assert later.processed_at is not None
        assert later.processed_at - first.processed_at >= timedelta(seconds=GATHER_SECONDS)


async def _count_is(rows: Callable[[], Awaitable[list[WebhookEvent]]], count: int) -> bool:
    return len(await rows()) == count
