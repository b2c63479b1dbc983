"""Recording a channel's send results, behind its sending: one transaction at a time records
whatever came in since the last began, so a slow commit means fewer, larger ones rather than a
stalled sender."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from herald.callback.repository import record_states
from herald.dispatch import results
from herald.dispatch.deps import DispatchDeps
from herald.dispatch.effects import apply_side_effects
from herald.dispatch.template_holds import TemplateHolds, record_verdict
from herald.models import Channel

MAX_UNRECORDED = 2  # chunks' results waiting for the recording under way


class Recorder:
    def __init__(
        self, deps: DispatchDeps, holds: TemplateHolds, last_claim: Callable[[], int]
    ) -> None:
        self.deps = deps
        self.holds = holds
        self._last_claim = last_claim  # the number of the runner's last claim
        self._unrecorded: list[results.Planned] = []
        self._recording: asyncio.Task[None] | None = None

    def add(self, channel: Channel, planned: results.Planned) -> None:
        self._unrecorded.append(planned)
        if self._recording is None or self._recording.done():
            if self._recording is not None:
                self._recording.result()  # a recording that failed stops the runner
            self._recording = asyncio.create_task(self._record_pending(channel))

    async def keep_up(self) -> None:
        """The database is slower than the sending: wait for it rather than let the results
        pile up unrecorded until their leases run out."""
        if self._recording is not None and len(self._unrecorded) >= MAX_UNRECORDED:
            await asyncio.wait([self._recording])

    async def finish(self) -> None:
        if self._recording is not None:
            await self._recording

    async def _record_pending(self, channel: Channel) -> None:
        while self._unrecorded:
            pending, self._unrecorded = self._unrecorded, []
            planned = results.combined(pending)
            async with self.deps.sessions() as session:
                await results.apply(session, planned)
                now = self.deps.clock.now()
                await apply_side_effects(session, channel, planned.decisions, now)
                await record_states(session, planned.changed_ids(), now)
                recheck = timedelta(seconds=self.deps.settings.retry.template_recheck_seconds)
                for verdict in planned.verdicts:
                    await record_verdict(session, channel.id, verdict, now, recheck)
                await session.commit()
            for verdict in planned.verdicts:
                self.holds.recorded(verdict, self._last_claim())
