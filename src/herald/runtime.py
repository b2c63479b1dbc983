"""What the lifespan builds once and every request shares."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from herald.config import Settings
from herald.kit.clock import Clock
from herald.kit.ratelimit import Limiter, parse_limit


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    limiter: Limiter
    jwt_secret: str

    def __post_init__(self) -> None:
        self.login_failures_per_username = parse_limit(self.settings.login_failures_per_username)
        self.login_failures_per_address = parse_limit(self.settings.login_failures_per_address)
