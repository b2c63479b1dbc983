"""Send slots at a channel's throughput, for one sender that starts each send at its slot.

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
# How early a slot may go. uvloop counts its timers in whole milliseconds from a clock read once
# an iteration, so its wake-ups come up to 1.4 ms early (measured); waiting out the rest would
# cost a wake-up more per send.
_TIMER_EARLY = 0.002


class Pacer:
    def __init__(self, rate_per_second: float) -> None:
        self.interval = 1.0 / rate_per_second
        self._next = 0.0

    def set_rate(self, rate_per_second: float) -> None:
        self.interval = 1.0 / rate_per_second

    async def slot(self) -> None:
        """Wait for the next free slot (one caller at a time: the channel's sender)."""
        while True:
            now = time.monotonic()
            # One slot less than half the tolerance: network jitter must not make a catch-up
            # look like a burst (at low rates that leaves none: sends stay strictly spaced).
            at = max(self._next, now - self._slack())
            if at <= now + _TIMER_EARLY:
                self._next = at + self.interval
                return
            # Checked again on waking: the send before may have left late meanwhile (left()).
            await asyncio.sleep(at - now)

    def left(self) -> None:
        """A send given a slot leaves now. When the event loop stalled (a collection, the
        machine's other work), it leaves late, and the slots that passed meanwhile must not
        all go at once: the next one counts from this send."""
        self._next = max(self._next, time.monotonic() - self._slack() + self.interval)

    def _slack(self) -> float:
        return max(0.0, BURST_SECONDS - self.interval)

    def hold(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (the provider said the sender is over its rate)."""
        self._next = max(self._next, time.monotonic() + seconds)
