"""Stopping tasks that swallow a cancellation (as a driver error caught as an item's failure)."""

from __future__ import annotations

import asyncio

import pytest

from herald.kit.tasks import cancel_and_wait, stop_if_cancelled


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
