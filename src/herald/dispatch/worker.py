"""The dispatcher: finds channels with due messages, owns them one at a time, reaps leases."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
import time
import uuid
from collections.abc import Sequence

import structlog

from herald.dispatch import repository
from herald.dispatch.deps import DispatchDeps
from herald.dispatch.ownership import Ownership
from herald.dispatch.runner import ChannelRunner
from herald.kit.metrics import ROUND_FAILURES
from herald.kit.tasks import cancel_and_wait, stop_if_cancelled, to_the_end

log = structlog.get_logger("herald.dispatch")

REAP_EVERY_SECONDS = 5.0
# How often the dispatchers are counted again (their share of the channels follows).
COUNT_DISPATCHERS_EVERY_SECONDS = 1.0
# A channel whose runner failed waits 1, 2, 4 … up to this many seconds before the next.
RUNNER_MAX_PAUSE_SECONDS = 60.0


def worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Dispatcher:
    def __init__(self, deps: DispatchDeps, ownership: Ownership) -> None:
        self.deps = deps
        self.ownership = ownership
        self.owner = worker_id()
        self._runners: dict[int, asyncio.Task[None]] = {}
        # channel → (monotonic time it may start again, its runner's failures in a row)
        self._resting: dict[int, tuple[float, int]] = {}
        self._last_reap = 0.0
        self._dispatchers, self._owned, self._counted_at = 1, set[int](), -math.inf

    async def run(self) -> None:
        try:
            while True:
                stop_if_cancelled()
                # Cleared before the round, not after it: a wake-up during the round (another
                # worker handing channels over) would otherwise be lost, and its channels would
                # wait for the next poll (a 1.4 s gap in their sending, measured).
                self.deps.wake.clear()
                if not await self.ownership.alive():
                    await self._stop_runners()  # our locks are gone: another worker may send
                await self._reap_now_and_then()
                await self._start_runners()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.deps.wake.wait(), self.deps.settings.poll_seconds)
        finally:
            await to_the_end(self._stop())

    async def _stop(self) -> None:
        await self._stop_runners()
        await self.ownership.close()

    async def run_once(self) -> None:
        """One round: reap, then send everything due now (tests and `herald dispatch --once`)."""
        await self._reap(force=True)
        async with self.deps.sessions() as session:
            channel_ids = await repository.channels_with_due(session, self.deps.clock.now())
        for channel_id in channel_ids:
            if await self.ownership.acquire(channel_id):
                try:
                    await ChannelRunner(self.deps, channel_id, self.owner).run()
                except Exception as exc:  # this channel's failure; the others still go out
                    self._runner_failed(channel_id, exc)
                finally:
                    await self.ownership.release(channel_id)

    async def _start_runners(self) -> None:
        for channel_id, task in list(self._runners.items()):
            if task.done():
                del self._runners[channel_id]
                await self.ownership.release(channel_id)
                failure = None if task.cancelled() else task.exception()
                if isinstance(failure, Exception):
                    self._runner_failed(channel_id, failure)
                else:
                    self._resting.pop(channel_id, None)
        async with self.deps.sessions() as session:
            due = await repository.channels_with_due(session, self.deps.clock.now())
        share = await self._share(due)
        await self._hand_over_beyond(share)
        for channel_id in due:
            if len(self._runners) >= share:
                break
            if channel_id in self._runners or self._rests(channel_id):
                continue
            if not await self.ownership.acquire(channel_id):
                continue
            runner = ChannelRunner(self.deps, channel_id, self.owner)
            self._runners[channel_id] = asyncio.create_task(
                runner.run(), name=f"herald-channel-{channel_id}"
            )

    async def _share(self, due: Sequence[int]) -> int:
        """How many channels this process runs: every one alone; beside other dispatchers, an
        even share of the channels with work: due, or run by any of them (a channel whose
        last messages are claimed is due no more, yet busy). A process is one core: the
        first worker to look took every channel while the others idled, and twenty channels
        at 50/s each on one worker reached 60% of their rate."""
        now = time.monotonic()
        if now - self._counted_at >= COUNT_DISPATCHERS_EVERY_SECONDS:
            (self._dispatchers, self._owned), self._counted_at = await self.ownership.census(), now
        if self._dispatchers <= 1:
            return len(set(due) | self._runners.keys())
        busy = set(due) | self._owned | self._runners.keys()
        return math.ceil(len(busy) / self._dispatchers)

    async def _hand_over_beyond(self, share: int) -> None:
        """Stop the runners past this process's share (the last started), each giving back
        what it claimed and did not send, and leave their channels to the other dispatchers."""
        extra = list(self._runners)[share:]
        if not extra:
            return
        await cancel_and_wait([self._runners.pop(channel_id) for channel_id in extra])
        await self.ownership.hand_over(extra)
        log.info("dispatch.channels_handed_over", count=len(extra), dispatchers=self._dispatchers)

    def _runner_failed(self, channel_id: int, failure: Exception) -> None:
        """A channel's runner stopped on an error: that channel waits (longer each time in a
        row) before its next runner; the other channels' runners are not touched."""
        failures = self._resting.get(channel_id, (0.0, 0))[1] + 1
        pause = min(RUNNER_MAX_PAUSE_SECONDS, 2.0 ** (failures - 1))
        self._resting[channel_id] = (time.monotonic() + pause, failures)
        ROUND_FAILURES.labels("dispatch_channel").inc()
        log.error(
            "dispatch.runner_failed",
            channel_id=channel_id,
            error=type(failure).__name__,
            failures_in_a_row=failures,
            pause_seconds=pause,
        )

    def _rests(self, channel_id: int) -> bool:
        resting = self._resting.get(channel_id)
        return resting is not None and time.monotonic() < resting[0]

    async def _stop_runners(self) -> None:
        await cancel_and_wait(self._runners.values())
        for channel_id in self._runners:
            await self.ownership.release(channel_id)
        self._runners.clear()

    async def _reap_now_and_then(self) -> None:
        if time.monotonic() - self._last_reap >= REAP_EVERY_SECONDS:
            await self._reap(force=True)

    async def _reap(self, force: bool) -> None:
        self._last_reap = time.monotonic()
        async with self.deps.sessions() as session:
            counts = await repository.reap(
                session, self.deps.clock.now(), self.deps.settings.unknown_outcome_deadline
            )
            await session.commit()
        if any(counts.values()):
            log.warning("dispatch.reaped", **counts)
