"""Stopping background tasks for sure.

A cancellation that lands in the middle of a database call can come back out as the driver's
own error (a task cancelled inside an asyncpg query leaves its connection invalidated, and the
session's clean-up then raises ``PendingRollbackError``). A loop that isolates its items or
rounds catches that as one more failure and carries on, and a shutdown waiting for it never
ends (seen in the suite: the server's lifespan outlived its 10-second stop). So loops ask
``stop_if_cancelled()`` between rounds, and ``cancel_and_wait`` cancels again until the tasks
have ended. What a task does once it is stopping (the dispatcher recording what it sent and
giving back the rest) must not be cut short by those later cancellations: it runs through
``to_the_end``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import TypeVar

import structlog

log = structlog.get_logger("herald.tasks")

T = TypeVar("T")


def stop_if_cancelled() -> None:
    """Raise ``CancelledError`` when this task was asked to stop, even if the error that the
    request raised was swallowed on the way."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def cancel_and_wait(tasks: Iterable[asyncio.Task[object]], again_after: float = 1.0) -> None:
    """Cancel ``tasks`` and return once every one has ended, cancelling those still running
    every ``again_after`` seconds. Their outcomes are not raised (they are stopping)."""
    pending = {task for task in tasks if not task.done()}
    for task in pending:
        task.cancel()
    while pending:
        _, pending = await asyncio.wait(pending, timeout=again_after)
        for task in pending:
            log.warning("tasks.still_stopping", task=task.get_name())
            task.cancel()
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" at exit


async def to_the_end(work: Awaitable[T]) -> T:
    """Await ``work`` until it ends, even when this task is cancelled again meanwhile; a
    cancellation received on the way is raised once it has ended.

    ``cancel_and_wait`` cancels a task again every second until it ends. A dispatcher's stop
    (recording a chunk's results, giving back what it claimed) can take longer than that on a
    loaded machine (with the suite on four workers it did), and the second cancellation then
    ended it half-way: the dispatcher stopped waiting for its runners, which went on while the
    process closed its database and HTTP clients under them."""
    task = asyncio.ensure_future(work)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():
                raise  # the work itself was cancelled
            cancelled = True
            continue
        if cancelled:
            raise asyncio.CancelledError
        return result
