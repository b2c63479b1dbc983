"""Logging in: constant-time credential checks, throttled per username and per address."""

from __future__ import annotations

import math
import time

from sqlalchemy.ext.asyncio import AsyncSession

from herald.auth.limits import LOGIN_LIMITS
from herald.errors import InvalidCredentials, RateLimited
from herald.kit.jwt import credentials_version, issue_token
from herald.kit.passwords import verify_password
from herald.runtime import Runtime
from herald.user import repository as users


async def login(
    session: AsyncSession, runtime: Runtime, username: str, password: str, address: str
) -> str:
    username = username.strip().lower()
    limits = runtime.features.get(LOGIN_LIMITS)
    allowed, _, reset = await runtime.limiter.spend(
        limits.requests_per_address, "login-requests", address
    )
    if not allowed:
        raise RateLimited(max(1, math.ceil(reset - time.time())), "Too many logins; slow down.")
    per_username = (limits.failures_per_username, "login-user", username)
    per_address = (limits.failures_per_address, "login-addr", address)
    for limit, *keys in (per_username, per_address):
        wait = await runtime.limiter.exhausted(limit, *keys)
        if wait is not None:
            raise RateLimited(wait, "Too many failed logins; retry later.")

    user = await users.get_by_email(session, username)
    valid = await verify_password(password, user.password_hash if user else None)
    if user is None or not valid or user.is_disabled:
        for limit, *keys in (per_username, per_address):
            await runtime.limiter.hit(limit, *keys)
        raise InvalidCredentials()
    await runtime.limiter.clear(*per_username)
    return issue_token(
        runtime.jwt_secret,
        user.id,
        runtime.clock.now(),
        runtime.settings.token_ttl_seconds,
        credentials_version(user.tokens_valid_after),
    )
