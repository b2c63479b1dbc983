"""Evenly spaced send slots at a channel's throughput: never above it, in any window.

A token bucket would allow a burst of its capacity; Meta counts per second, so Herald spaces
sends 1/rate apart instead and never bursts. Written here because ``limits`` answers "may I
now?" but cannot hand out future slots to concurrent senders.
"""

from __future__ import annotations

import asyncio
import time


class Pacer:
    def __init__(self, rate_per_second: float) -> None:
        self.interval = 1.0 / rate_per_second
        self._next = 0.0

    def set_rate(self, rate_per_second: float) -> None:
        self.interval = 1.0 / rate_per_second

    async def slot(self) -> None:
        """Wait for the next free slot; each caller gets its own."""
        now = time.monotonic()
        at = max(self._next, now)
        self._next = at + self.interval
        if at > now:
            await asyncio.sleep(at - now)

    def hold(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (the provider said the sender is over its rate)."""
        self._next = max(self._next, time.monotonic() + seconds)
