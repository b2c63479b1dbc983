"""How often logins may be tried: read from the settings once, at start-up, and kept on the
runtime (``LOGIN_LIMITS``, registered by the composition root, ``herald/features.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from limits import RateLimitItem

from herald.config import Settings
from herald.kit.ratelimit import parse_limit
from herald.kit.registry import Slot
from herald.runtime import Runtime


@dataclass(frozen=True)
class LoginLimits:
    failures_per_username: RateLimitItem
    failures_per_address: RateLimitItem
    requests_per_address: RateLimitItem

    @classmethod
    def of(cls, settings: Settings) -> LoginLimits:
        return cls(
            parse_limit(settings.login_failures_per_username),
            parse_limit(settings.login_failures_per_address),
            parse_limit(settings.login_requests_per_address),
        )


LOGIN_LIMITS: Slot[LoginLimits] = Slot("auth.login_limits")


@asynccontextmanager
async def started(runtime: Runtime) -> AsyncIterator[None]:
    runtime.features.put(LOGIN_LIMITS, LoginLimits.of(runtime.settings))
    yield
