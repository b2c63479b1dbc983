"""What the lifespan builds once and every request shares.

This module imports no feature. A feature's own long-lived state (a store, a cache, a batcher)
is made by its ``started(runtime)`` context manager, which puts it in ``runtime.features``
under a ``Slot`` the feature declares; the composition root (``herald/features.py``) lists
those and ``open_runtime`` enters them in order, and leaves them in reverse.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from herald.config import Settings
from herald.db import create_engine, session_factory
from herald.kit.clock import Clock, SystemClock
from herald.kit.crypto import Cipher
from herald.kit.jwt import VerifiedTokens
from herald.kit.ratelimit import Limiter, burst_limit
from herald.kit.registry import Registry
from herald.kit.wakeup import WakeEvent, Wakeup, postgres_connect
from herald.provider.base import Provider
from herald.provider.cloud_api import CloudApiProvider, new_session


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    limiter: Limiter
    jwt_secret: str
    cipher: Cipher
    http: aiohttp.ClientSession
    provider: Provider
    # Wakes the dispatchers when sends are accepted: this process's (its event) and, on
    # PostgreSQL, other processes' through NOTIFY (kit/wakeup.py).
    wakeup: Wakeup
    verified_tokens: VerifiedTokens = field(default_factory=VerifiedTokens)
    # Each feature's own state, put there at start-up (see the module's docstring).
    features: Registry = field(default_factory=Registry)

    def __post_init__(self) -> None:
        self.user_rate_limit = burst_limit(
            self.settings.rate_limit_per_second, self.settings.rate_limit_burst
        )


# A feature's start-up: registers its state on the runtime, and closes it on the way out.
FeatureStart = Callable[[Runtime], AbstractAsyncContextManager[None]]


@asynccontextmanager
async def open_runtime(
    settings: Settings, clock: Clock | None = None, features: Sequence[FeatureStart] = ()
) -> AsyncIterator[Runtime]:
    """Build everything a process shares (engine, HTTP client, provider) and each of
    ``features``' state, and close it all after."""
    engine = create_engine(settings.resolved_database_url, settings.database_pool_size)
    http = new_session(settings.provider_timeout_seconds)
    sessions = session_factory(engine)
    cipher = Cipher(settings.resolved_encryption_keys())
    wakeup = Wakeup(WakeEvent(), postgres_connect(engine))
    try:
        runtime = Runtime(
            settings=settings,
            engine=engine,
            sessions=sessions,
            clock=clock or SystemClock(),
            limiter=Limiter(settings.resolved_rate_limit_storage_url, settings.redis_key_prefix),
            jwt_secret=settings.resolved_jwt_secret(),
            cipher=cipher,
            http=http,
            provider=CloudApiProvider(http),
            wakeup=wakeup,
        )
        async with AsyncExitStack() as started:
            for start in features:
                await started.enter_async_context(start(runtime))
            yield runtime
    finally:
        await wakeup.aclose()
        await http.close()
        await engine.dispose()
