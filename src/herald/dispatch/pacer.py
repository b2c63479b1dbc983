"""Send slots at a channel's throughput, handed out to concurrent senders in advance.

Meta counts sends per second and tolerates only a small burst (the emulator models it as a
token bucket holding a tenth of a second). Herald schedules sends 1/rate apart (the generic
cell rate algorithm): a sender that fell behind by the claim and commit work between chunks
may catch up by at most ``BURST_SECONDS`` of sends, half of that tolerance, so the achieved rate
is the limit and never above it by more than those few sends. Written here because ``limits``
answers "may I now?" but cannot hand out future slots.
"""

from __future__ import annotations

import asyncio
import time

BURST_SECONDS = 0.05


class Pacer:
    def __init__(self, rate_per_second: float) -> None:
        self.interval = 1.0 / rate_per_second
        self._next = 0.0

    def set_rate(self, rate_per_second: float) -> None:
        self.interval = 1.0 / rate_per_second

    async def slot(self) -> None:
        """Wait for the next free slot; each caller gets its own."""
        now = time.monotonic()
        # One slot less than half the tolerance: network jitter must not make a catch-up look
        # like a burst (at low rates that leaves none: sends stay strictly spaced).
        slack = max(0.0, BURST_SECONDS - self.interval)
        at = max(self._next, now - slack)
        self._next = at + self.interval
        if at > now:
            await asyncio.sleep(at - now)

    def hold(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (the provider said the sender is over its rate)."""
        self._next = max(self._next, time.monotonic() + seconds)
