"""Recording a channel's send results, behind its sending: one transaction at a time records
whatever came in since the last began, so a slow commit means fewer, larger ones rather than a
stalled sender."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import timedelta

import structlog
from sqlalchemy.exc import DBAPIError

from herald.callback.repository import record_states
from herald.db import lost_to_another
from herald.dispatch import results
from herald.dispatch.deps import DispatchDeps
from herald.dispatch.effects import apply_side_effects
from herald.dispatch.template_holds import TemplateHolds, record_verdict
from herald.models import Channel

log = structlog.get_logger("herald.dispatch")

# Results waiting for the recording under way before the sending waits for it: two chunks, or
# a second of sending at the channel's rate if that is more (two chunks are a tenth of a second
# at 50/s, and a commit held up that long by another transaction's row locks stopped the
# channel's sending for as long). Far inside the lease (a minute) either way.
MAX_UNRECORDED = 2
UNRECORDED_SECONDS = 1.0
RECORD_ATTEMPTS = 3  # transactions for one recording that PostgreSQL ends for another's sake


class Recorder:
    def __init__(
        self, deps: DispatchDeps, holds: TemplateHolds, last_claim: Callable[[], int]
    ) -> None:
        self.deps = deps
        self.holds = holds
        self._last_claim = last_claim  # the number of the runner's last claim
        self._unrecorded: list[results.Planned] = []
        self._unrecorded_messages = 0
        self._most_unrecorded = 0
        self._recording: asyncio.Task[None] | None = None

    def add(self, channel: Channel, planned: results.Planned) -> None:
        self._unrecorded.append(planned)
        self._unrecorded_messages += len(planned.decisions)
        self._most_unrecorded = max(
            MAX_UNRECORDED * len(planned.decisions),
            int(channel.throughput_per_second * UNRECORDED_SECONDS),
        )
        if self._recording is None or self._recording.done():
            if self._recording is not None:
                self._recording.result()  # a recording that failed stops the runner
            self._recording = asyncio.create_task(self._record_pending(channel))

    async def keep_up(self) -> None:
        """The database is slower than the sending: wait for it rather than let the results
        pile up unrecorded until their leases run out."""
        if self._recording is not None and self._unrecorded_messages >= self._most_unrecorded:
            await asyncio.wait([self._recording])

    async def finish(self) -> None:
        if self._recording is not None:
            await self._recording

    async def _record_pending(self, channel: Channel) -> None:
        while self._unrecorded:
            pending, self._unrecorded = self._unrecorded, []
            self._unrecorded_messages = 0
            planned = results.combined(pending)
            for attempt in itertools.count(1):
                try:
                    await self._record(channel, planned)
                    break
                except DBAPIError as error:
                    # A deadlock with another transaction (a status webhook's on the same rows)
                    # is PostgreSQL's to break, not a failure of these results: failing the
                    # runner for it paused the channel for a second.
                    if attempt >= RECORD_ATTEMPTS or not lost_to_another(error):
                        raise
                    log.info("dispatch.recording_retried", channel_id=channel.id, attempt=attempt)
            for verdict in planned.verdicts:
                self.holds.recorded(verdict, self._last_claim())

    async def _record(self, channel: Channel, planned: results.Planned) -> None:
        async with self.deps.sessions() as session:
            await results.apply(session, planned)
            now = self.deps.clock.now()
            await apply_side_effects(session, channel, planned.decisions, now)
            await record_states(session, planned.changed_ids(), now)
            recheck = timedelta(seconds=self.deps.settings.retry.template_recheck_seconds)
            for verdict in planned.verdicts:
                await record_verdict(session, channel.id, verdict, now, recheck)
            await session.commit()
