"""Rate limiting with ``limits``: in memory by default, Redis to share between processes."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


class Limiter:
    def __init__(self, storage_url: str) -> None:
        storage = storage_from_string(storage_url)
        if not isinstance(storage, Storage):
            raise ValueError(f"rate-limit storage {storage_url!r} must be async (async+memory://)")
        self._storage = storage
        self._strategy = MovingWindowRateLimiter(self._storage)

    async def exhausted(self, limit: RateLimitItem, *keys: str) -> int | None:
        """Seconds until ``keys`` may act again under ``limit``, or None when they may now."""
        if await self._strategy.test(limit, *keys):
            return None
        stats = await self._strategy.get_window_stats(limit, *keys)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def hit(self, limit: RateLimitItem, *keys: str) -> None:
        await self._strategy.hit(limit, *keys)

    async def clear(self, limit: RateLimitItem, *keys: str) -> None:
        await self._strategy.clear(limit, *keys)


def parse_limit(text: str) -> RateLimitItem:
    return parse(text)
