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
from pathlib import Path
from types import FrameType
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


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[object]], again_after: float = 1.0, tell_after: int = 10
) -> None:
    """Cancel ``tasks`` and return once every one has ended, cancelling those still running
    every ``again_after`` seconds. Their outcomes are not raised (they are stopping). After
    ``tell_after`` rounds, where every task of the loop is waiting is logged once: a stop that
    does not end says why (a deploy's SIGTERM, a test's 30-second wait)."""
    pending = {task for task in tasks if not task.done()}
    for task in pending:
        task.cancel()
    rounds = 0
    while pending:
        _, pending = await asyncio.wait(pending, timeout=again_after)
        rounds += 1
        for task in pending:
            log.warning("tasks.still_stopping", task=task.get_name())
            task.cancel()
        if pending and rounds == tell_after:
            log.warning("tasks.stop_is_slow", waiting=where_tasks_wait())
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" at exit


def where_tasks_wait(frames: int = 12) -> list[str]:
    """Each task of the running loop, and the innermost lines of code it is suspended at (file,
    line, function: no values, so nothing a message holds). A suspended task's own stack is its
    outermost coroutine only; the coroutines it awaits are followed here."""
    waiting = []
    for task in asyncio.all_tasks() - {asyncio.current_task()}:
        chain = _awaited_frames(task.get_coro())[-frames:]
        where = " < ".join(
            f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno} {frame.f_code.co_name}"
            for frame in reversed(chain)
        )
        waiting.append(f"{task.get_name()}: {where or 'not started'}")
    return sorted(waiting)


def _awaited_frames(awaitable: object) -> list[FrameType]:
    """The frames of a coroutine and of those it awaits, outermost first (a Future, or a
    generator-based awaitable without a frame, ends the chain)."""
    chain: list[FrameType] = []
    while awaitable is not None:
        frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "ag_frame", None)
        if not isinstance(frame, FrameType):
            break
        chain.append(frame)
        awaitable = getattr(awaitable, "cr_await", None) or getattr(awaitable, "ag_await", None)
    return chain


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
