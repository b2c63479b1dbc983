"""What the lifespan builds once and every request shares."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from herald.channel.service import EmulatorDefaults
from herald.config import Settings
from herald.db import create_engine, session_factory
from herald.kit.clock import Clock, SystemClock
from herald.kit.crypto import Cipher
from herald.kit.ratelimit import Limiter, burst_limit, parse_limit
from herald.kit.wakeup import WakeEvent, Wakeup, postgres_connect
from herald.media.storage import MediaStore, open_store
from herald.message.idempotency import KeyLocks
from herald.message.intake import SendBatcher
from herald.message.intake_cache import IntakeCache
from herald.meta_webhook.inbox import WebhookInbox
from herald.meta_webhook.service import AccountSecrets
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
    emulator: EmulatorDefaults | None
    media_store: MediaStore
    webhook_secrets: AccountSecrets
    webhook_inbox: WebhookInbox
    send_batcher: SendBatcher
    intake_cache: IntakeCache
    # Wakes the dispatchers when sends are accepted: this process's (its event) and, on
    # PostgreSQL, other processes' through NOTIFY (kit/wakeup.py).
    wakeup: Wakeup
    # Set when a new webhook event is stored, so the processor wakes before its next poll.
    webhooks_pending: asyncio.Event = field(default_factory=asyncio.Event)
    idempotency_locks: KeyLocks = field(default_factory=KeyLocks)

    def __post_init__(self) -> None:
        self.login_failures_per_username = parse_limit(self.settings.login_failures_per_username)
        self.login_failures_per_address = parse_limit(self.settings.login_failures_per_address)
        self.login_requests_per_address = parse_limit(self.settings.login_requests_per_address)
        self.user_rate_limit = burst_limit(
            self.settings.rate_limit_per_second, self.settings.rate_limit_burst
        )


def emulator_defaults(settings: Settings) -> EmulatorDefaults | None:
    """The built-in emulator's address and credentials, or None when it is off."""
    if not settings.builtin_emulator:
        return None
    return EmulatorDefaults(
        base_url=settings.resolved_emulator_url,
        api_version=settings.graph_api_version,
        access_token=settings.resolved_emulator_secret("emulator_access_token"),
        app_secret=settings.resolved_emulator_secret("emulator_app_secret"),
        verify_token=settings.resolved_emulator_secret("emulator_verify_token"),
    )


@asynccontextmanager
async def open_runtime(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Runtime]:
    """Build everything a process shares (engine, HTTP client, provider) and close it after."""
    engine = create_engine(settings.resolved_database_url, settings.database_pool_size)
    http = new_session(settings.provider_timeout_seconds)
    sessions = session_factory(engine)
    cipher = Cipher(settings.resolved_encryption_keys())
    inbox = WebhookInbox(sessions)
    cache = IntakeCache()
    batcher = SendBatcher(sessions, cache)
    wakeup = Wakeup(WakeEvent(), postgres_connect(engine))
    try:
        yield Runtime(
            settings=settings,
            engine=engine,
            sessions=sessions,
            clock=clock or SystemClock(),
            limiter=Limiter(settings.resolved_rate_limit_storage_url, settings.redis_key_prefix),
            jwt_secret=settings.resolved_jwt_secret(),
            cipher=cipher,
            http=http,
            provider=CloudApiProvider(http),
            emulator=emulator_defaults(settings),
            media_store=open_store(settings),
            webhook_secrets=AccountSecrets(sessions, cipher),
            webhook_inbox=inbox,
            send_batcher=batcher,
            intake_cache=cache,
            wakeup=wakeup,
        )
    finally:
        await wakeup.aclose()
        await inbox.aclose()
        await batcher.aclose()
        await http.close()
        await engine.dispose()
