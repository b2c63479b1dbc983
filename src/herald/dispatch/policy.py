"""What happens to a message after a provider call: decided by the provider's error code alone."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from herald.provider.base import ErrorKind, ProviderError


class Outcome(StrEnum):
    SENT = "sent"  # the provider accepted it
    RETRY = "retry"  # try again at ``at``
    FAILED = "failed"  # final
    UNKNOWN = "unknown"  # the request left and no answer came: wait for the status webhook


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 1.0
    cap_seconds: float = 300.0
    pair_rate_cap_seconds: float = 4**6  # 1, 4, 16, ... 4096 s
    # A held template's messages (paused at the provider) are tried again after this long,
    # unless its REINSTATED webhook brings them back sooner (template_holds.py).
    template_recheck_seconds: float = 300.0
    # Refused for the messaging limit: due again after this, unless the hold it sets on the
    # account (message/limit.py, in the same transaction) says when the window frees.
    messaging_limit_recheck_seconds: float = 3600.0

    def backoff(self, attempt: int, rng: random.Random) -> timedelta:
        """Exponential with full jitter around the mean (0.5x to 1.5x), capped."""
        mean = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempt - 1))
        return timedelta(seconds=mean * rng.uniform(0.5, 1.5))

    def pair_rate_delay(self, hits: int) -> timedelta:
        """Meta's advice for 131056: that recipient only, after 1, 4, 16, 64 ... seconds."""
        return timedelta(seconds=min(self.pair_rate_cap_seconds, 4.0**hits))


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    at: datetime | None = None  # when to retry
    slow_sender: bool = False  # the sender itself is over its rate


RETRYABLE = (ErrorKind.TRANSIENT, ErrorKind.THROTTLED)
# A header file the provider lost is uploaded again for the retry; a message whose fresh
# uploads keep being refused fails instead of looping.
MAX_ATTEMPTS_WITH_MEDIA_GONE = 3


def decide(
    error: ProviderError,
    attempts: int,
    pair_rate_hits: int,
    deadline: datetime,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
) -> Decision:
    """``attempts`` counts the call that just failed."""
    if error.kind is ErrorKind.UNKNOWN_OUTCOME:
        return Decision(Outcome.UNKNOWN)
    if error.kind is ErrorKind.MESSAGING_LIMIT:
        # Held, whatever its deadline: the hold moves the deadline past it (effects.py).
        return Decision(
            Outcome.RETRY, now + timedelta(seconds=policy.messaging_limit_recheck_seconds)
        )
    if error.kind is ErrorKind.MEDIA_GONE:
        if attempts >= MAX_ATTEMPTS_WITH_MEDIA_GONE:
            return Decision(Outcome.FAILED)
        at = now  # the runner forgot the provider's copy: the next claim uploads it again
    elif error.kind is ErrorKind.PAIR_RATE:
        at = now + policy.pair_rate_delay(pair_rate_hits)
    elif error.kind in RETRYABLE:
        at = now + policy.backoff(attempts, rng)
    else:
        return Decision(Outcome.FAILED)
    if at > deadline:
        return Decision(Outcome.FAILED)
    return Decision(Outcome.RETRY, at, slow_sender=error.kind is ErrorKind.THROTTLED)
