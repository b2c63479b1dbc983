"""Stopping tasks that swallow a cancellation (as a driver error caught as an item's failure)."""

from __future__ import annotations

import asyncio

import pytest
import structlog

from herald.kit.tasks import cancel_and_wait, stop_if_cancelled, to_the_end


async def test_a_task_that_swallows_cancellations_is_cancelled_again_until_it_ends() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                swallowed += 1
                if swallowed == 3:
                    raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait([task], again_after=0.01), timeout=5)
    assert task.cancelled()
    assert swallowed == 3


async def test_a_failed_task_is_waited_for_without_raising() -> None:
    async def failing() -> None:
        raise ValueError("gone")

    task = asyncio.create_task(failing())
    await asyncio.sleep(0)
    await cancel_and_wait([task])
    assert isinstance(task.exception(), ValueError)


async def test_stop_if_cancelled_raises_after_a_swallowed_cancellation() -> None:
    items = 0

    async def loop() -> None:
        nonlocal items
        while True:
            stop_if_cancelled()
            items += 1
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if items > 1:
                    raise
                # the first one swallowed, as one item's "failure"

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.wait({task}, timeout=5)
    if not task.done():  # the failure this test is for: the loop went on
        task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert items == 1


async def test_a_stop_in_progress_is_not_cut_short_by_the_next_cancellations() -> None:
    """cancel_and_wait cancels again every ``again_after``; the stopping work a task does in
    ``to_the_end`` (recording what it sent) runs to its end all the same, and the task then
    ends as cancelled."""
    finished = asyncio.Event()
    stopping = asyncio.Event()

    async def record() -> None:
        for _ in range(20):  # 0.2 s: about twenty of cancel_and_wait's re-cancels below
            await asyncio.sleep(0.01)
        finished.set()

    async def runner() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            stopping.set()
            await to_the_end(record())

    task = asyncio.create_task(runner())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait([task], again_after=0.01), timeout=5)
    assert stopping.is_set()
    assert finished.is_set()
    assert task.cancelled()


async def test_to_the_end_gives_back_the_works_result_and_error() -> None:
    async def answer() -> int:
        return 42

    async def failing() -> None:
        raise ValueError("gone")

    assert await to_the_end(answer()) == 42
    with pytest.raises(ValueError, match="gone"):
        await to_the_end(failing())


async def test_a_stop_that_does_not_end_says_where_each_task_waits() -> None:
    async def wait_for_the_lock() -> None:
        for _ in range(20):  # 0.2 s: past the third of cancel_and_wait's rounds below
            await asyncio.sleep(0.01)

    async def stuck() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await to_the_end(wait_for_the_lock())

    task = asyncio.create_task(stuck(), name="herald-stuck")
    await asyncio.sleep(0)
    with structlog.testing.capture_logs() as logs:
        await asyncio.wait_for(cancel_and_wait([task], again_after=0.01, tell_after=3), timeout=5)
    told = [entry for entry in logs if entry["event"] == "tasks.stop_is_slow"]
    assert len(told) == 1  # once, not every round
    waiting = told[0]["waiting"]
    # Followed into what it awaits: a suspended task's own stack is its outermost frame only.
    assert any(
        line.startswith("herald-stuck: ") and "to_the_end < test_tasks.py" in line
        for line in waiting
    ), waiting
    # The work to_the_end runs in a task of its own: where it waits is named too.
    assert any("test_tasks.py" in line and "wait_for_the_lock" in line for line in waiting), waiting
    assert task.cancelled()
