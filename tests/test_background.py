"""A background loop whose rounds fail pauses longer after each failure in a row, says so in
the metrics, and runs normally again after a round that succeeds."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from herald.background import RoundGuard


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
