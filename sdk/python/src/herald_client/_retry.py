"""When to retry and how long to wait: the same decisions for the sync and async clients."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from herald_client.errors import HeraldApiError

# 429: Herald refused before doing anything. 503: a dependency is down and Herald says when to
# come back. Every other error would fail the same way again, or (5xx mid-request) might have
# done the work already.
RETRYABLE_STATUSES = frozenset({429, 503})


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds; None when absent or not a number of seconds (Herald always
    sends seconds; an HTTP date from some proxy falls back to back-off)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    # Jitter only spreads clients apart in time; it needs no cryptographic quality.
    jitter: Callable[[], float] = field(default=random.random)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be 0 or more")

    def delay(self, error: HeraldApiError, retries_done: int) -> float | None:
        """Seconds to wait before retrying after ``error``, or None to give up and raise it."""
        if error.status not in RETRYABLE_STATUSES or retries_done >= self.max_retries:
            return None
        if error.retry_after is not None:
            return error.retry_after
        return self.backoff(retries_done)

    def connection_delay(self, retries_done: int) -> float | None:
        """Seconds to wait before repeating a request whose connection failed, or None to give
        up; the caller has checked that repeating it is safe."""
        return None if retries_done >= self.max_retries else self.backoff(retries_done)

    def backoff(self, retries_done: int) -> float:
        """0.5 s, 1 s, 2 s ... capped at 30 s, each drawn from its upper half so that a crowd of
        clients spreads out but none retries at once."""
        ceiling = min(self.max_delay, self.base_delay * 2.0**retries_done)
        return ceiling / 2 + self.jitter() * ceiling / 2
