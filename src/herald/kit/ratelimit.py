"""Rate limiting with ``limits``: in memory by default, Redis to share between processes."""

from __future__ import annotations

import math
import time
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from herald.errors import RateLimited


class Limiter:
    def __init__(self, storage_url: str, key_prefix: str = "herald") -> None:
        options = {} if storage_url.startswith("async+memory") else {"key_prefix": key_prefix}
        storage = storage_from_string(storage_url, **options)
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

    async def spend(self, limit: RateLimitItem, *keys: str) -> tuple[bool, int, float]:
        """Take one unit: (allowed, remaining, reset time as a Unix timestamp)."""
        allowed = await self._strategy.hit(limit, *keys)
        stats = await self._strategy.get_window_stats(limit, *keys)
        return allowed, stats.remaining, stats.reset_time

    async def clear(self, limit: RateLimitItem, *keys: str) -> None:
        await self._strategy.clear(limit, *keys)


def parse_limit(text: str) -> RateLimitItem:
    return parse(text)


def burst_limit(per_second: float, burst: int) -> RateLimitItem:
    """A token bucket of ``burst`` refilled at ``per_second``, as ``limits`` can express it: at
    most ``burst`` requests in any window of ``burst / per_second`` seconds (moving window)."""
    return RateLimitItemPerSecond(burst, max(1, round(burst / per_second)))


async def spend_user_budget(
    request: Any, limiter: Limiter, limit: RateLimitItem, user: int
) -> None:
    allowed, remaining, reset = await limiter.spend(limit, "user", str(user))
    # Added to the answer, errors included, by kit.edge.EdgeMiddleware.
    request.state.rate_limit_headers = [
        (b"x-ratelimit-limit", str(limit.amount).encode()),
        (b"x-ratelimit-remaining", str(max(0, remaining)).encode()),
        (b"x-ratelimit-reset", str(max(0, math.ceil(reset - time.time()))).encode()),
    ]
    if not allowed:
        raise RateLimited(max(1, math.ceil(reset - time.time())))
