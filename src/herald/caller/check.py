"""Who is calling, read from the database: a login token (``Authorization: Bearer``), the web
console's session cookie with its CSRF token, or a shop plugin's secret key in the three plugin
headers. ``deps.verified_user`` calls this through the runtime's registry (``CALLER_CHECK``):
the shared layer cannot import the features a caller is read from (console, secret_key, user).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from herald.console.session import SESSION_COOKIE, require_csrf
from herald.console.token_holder import token_holder
from herald.deps import CALLER_CHECK, PLUGIN_HEADERS, bearer_claims
from herald.errors import ApiAccessDisabled
from herald.kit.jwt import read_token
from herald.models import User
from herald.runtime import Runtime
from herald.secret_key.service import ApiKeyHeadersIncomplete, ApiKeyInvalid, authenticate, note_use
from herald.user import repository as users


async def _user_from_token(request: Request, runtime: Runtime, session: AsyncSession) -> User:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and not request.headers.get("authorization"):  # the console, in a browser
        claims = read_token(runtime.jwt_secret, cookie, runtime.clock.now())
        require_csrf(request, runtime.jwt_secret, claims.token_id)
        return await token_holder(session, claims, console_session=True)
    claims = bearer_claims(request.headers.get("authorization"), runtime)
    return await token_holder(session, claims, console_session=False)


async def _user_from_key(headers: dict[str, str], runtime: Runtime, session: AsyncSession) -> User:
    missing = [name for name in PLUGIN_HEADERS if not headers.get(name)]
    if missing:
        raise ApiKeyHeadersIncomplete(data={"missing": missing})
    key = await authenticate(
        session, headers["x-api-key"], headers["x-platform-type"], headers["x-base-uri"]
    )
    if note_use(key, runtime.clock.now()):
        await session.commit()
    user = await users.get(session, key.user_id)
    if user is None or user.is_disabled:
        raise ApiKeyInvalid()
    return user


async def check_caller(request: Request, runtime: Runtime, session: AsyncSession) -> User:
    """The caller read from the database: credentials, user enabled, API access granted."""
    plugin = {name: request.headers.get(name, "") for name in PLUGIN_HEADERS}
    if any(plugin.values()):
        user = await _user_from_key(plugin, runtime, session)
        request.state.via_secret_key = True
    else:
        user = await _user_from_token(request, runtime, session)
    if not user.has_api_access:
        raise ApiAccessDisabled()
    return user


@asynccontextmanager
async def started(runtime: Runtime) -> AsyncIterator[None]:
    runtime.features.put(CALLER_CHECK, check_caller)
    yield
