"""Rate limiting with ``limits``: in memory by default, Redis to share between processes."""

from __future__ import annotations

import math
import time
from collections.abc import MutableMapping
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond, parse, strategies
from limits.aio import strategies as aio_strategies
from limits.aio.storage import Storage
from limits.storage import MemoryStorage, storage_from_string

from herald.errors import RateLimited

IN_MEMORY = "async+memory"


class Limiter:
    """A moving window per key. In memory (the default) it runs on ``limits``' synchronous
    memory storage: its asynchronous one starts an expiry pass after nearly every hit, each
    with a hop through ``asyncio.to_thread``; the synchronous one expires entries from a timer
    thread every 10 ms, and nothing in it waits, so calling it from the event loop is safe.
    (The whole limiter, left out as an experiment, was 40-70 µs of a single send's CPU.)"""

    def __init__(self, storage_url: str, key_prefix: str = "herald") -> None:
        self._local: strategies.MovingWindowRateLimiter | None = None
        self._shared: aio_strategies.MovingWindowRateLimiter | None = None
        if storage_url.startswith(IN_MEMORY):
            self._local = strategies.MovingWindowRateLimiter(MemoryStorage())
            return
        storage = storage_from_string(storage_url, key_prefix=key_prefix)
        if not isinstance(storage, Storage):
            raise ValueError(f"rate-limit storage {storage_url!r} must be async (async+memory://)")
        self._shared = aio_strategies.MovingWindowRateLimiter(storage)

    async def exhausted(self, limit: RateLimitItem, *keys: str) -> int | None:
        """Seconds until ``keys`` may act again under ``limit``, or None when they may now."""
        if await self._test(limit, *keys):
            return None
        reset, _ = await self._stats(limit, *keys)
        return max(1, math.ceil(reset - time.time()))

    async def hit(self, limit: RateLimitItem, *keys: str) -> bool:
        if self._local is not None:
            return self._local.hit(limit, *keys)
        assert self._shared is not None
        return await self._shared.hit(limit, *keys)

    async def spend(self, limit: RateLimitItem, *keys: str) -> tuple[bool, int, float]:
        """Take one unit: (allowed, remaining, reset time as a Unix timestamp)."""
        allowed = await self.hit(limit, *keys)
        reset, remaining = await self._stats(limit, *keys)
        return allowed, remaining, reset

    async def clear(self, limit: RateLimitItem, *keys: str) -> None:
        if self._local is not None:
            self._local.clear(limit, *keys)
            return
        assert self._shared is not None
        await self._shared.clear(limit, *keys)

    async def _test(self, limit: RateLimitItem, *keys: str) -> bool:
        if self._local is not None:
            return self._local.test(limit, *keys)
        assert self._shared is not None
        return await self._shared.test(limit, *keys)

    async def _stats(self, limit: RateLimitItem, *keys: str) -> tuple[float, int]:
        """(reset time as a Unix timestamp, remaining)"""
        if self._local is not None:
            stats = self._local.get_window_stats(limit, *keys)
        else:
            assert self._shared is not None
            stats = await self._shared.get_window_stats(limit, *keys)
        return stats.reset_time, stats.remaining


def parse_limit(text: str) -> RateLimitItem:
    return parse(text)


def burst_limit(per_second: float, burst: int) -> RateLimitItem:
    """A token bucket of ``burst`` refilled at ``per_second``, as ``limits`` can express it: at
    most ``burst`` requests in any window of ``burst / per_second`` seconds (moving window)."""
    return RateLimitItemPerSecond(burst, max(1, round(burst / per_second)))


async def spend_user_budget(
    scope: MutableMapping[str, Any], limiter: Limiter, limit: RateLimitItem, user: int
) -> None:
    """Take one unit of ``user``'s budget for the request of ``scope``, or raise RateLimited."""
    allowed, remaining, reset = await limiter.spend(limit, "user", str(user))
    # Added to the answer, errors included, by kit.edge.EdgeMiddleware. (``request.state`` is
    # this same dictionary; a pure-ASGI route has no ``Request``.)
    scope.setdefault("state", {})["rate_limit_headers"] = [
        (b"x-ratelimit-limit", str(limit.amount).encode()),
        (b"x-ratelimit-remaining", str(max(0, remaining)).encode()),
        (b"x-ratelimit-reset", str(max(0, math.ceil(reset - time.time()))).encode()),
    ]
    if not allowed:
        raise RateLimited(max(1, math.ceil(reset - time.time())))
