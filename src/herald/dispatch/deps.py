"""What a channel's sender is given: its settings and everything external it uses."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.dispatch.policy import RetryPolicy
from herald.kit.clock import Clock
from herald.kit.crypto import Cipher
from herald.kit.wakeup import WakeEvent
from herald.media.provider_copies import ProviderCopies
from herald.provider.base import Provider


@dataclass
class DispatchSettings:
    claim_seconds: float = 1.0  # claim about this many seconds of sending at a time
    # Messages marked in flight per commit, at most. Two chunks are marked but not yet sent at
    # a time (one sending, the next marked), so a crash leaves at most twice this many unsent
    # with an unknown outcome; the previous chunk's requests have all left, and their status
    # webhooks settle them. Sized to ~25 ms of sending (at least MIN_CHUNK, at most 25).
    chunk: int = 25
    lease: timedelta = timedelta(seconds=60)
    pair_spacing: timedelta = timedelta(seconds=6)
    idle_seconds: float = 5.0  # a runner with nothing due for this long lets its channel go
    poll_seconds: float = 0.5
    unknown_outcome_deadline: timedelta = timedelta(hours=1)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass
class DispatchDeps:
    sessions: async_sessionmaker[AsyncSession]
    provider: Provider
    cipher: Cipher
    clock: Clock
    settings: DispatchSettings
    wake: WakeEvent  # set when sends are accepted (in this process or, on PostgreSQL, any)
    media: ProviderCopies
    rng: random.Random = field(default_factory=random.Random)
