"""FastAPI dependencies: the runtime, a database session, and the authenticated user.

A caller is a user authenticated by a login token (``Authorization: Bearer``, or the web
console's session cookie with its CSRF token) or, for shop plugins, by a secret key in the three
plugin headers. Either way the user must be enabled and have API access, and each request
spends one unit of the user's rate-limit budget.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from herald.console import repository as ended_sessions
from herald.console.session import SESSION_COOKIE, require_csrf
from herald.errors import ApiAccessDisabled, Forbidden, TokenInvalid, TokenMissing
from herald.kit.jwt import TokenClaims, check_times, credentials_version, read_token
from herald.kit.ratelimit import spend_user_budget
from herald.models import User
from herald.runtime import Runtime
from herald.secret_key.service import (
    ApiKeyHeadersIncomplete,
    ApiKeyInvalid,
    authenticate,
    note_use,
)
from herald.user import repository as users

PLUGIN_HEADERS = ("x-api-key", "x-platform-type", "x-base-uri")


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    session = runtime.sessions()
    try:
        yield session
    finally:
        # A session that never began a transaction holds nothing to release: closing it
        # anyway is a greenlet switch per request on the sends that never touch it.
        if session.in_transaction() or session.identity_map or session.new:
            await session.close()


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_read_session(session: SessionDep) -> AsyncSession:
    """The request's session, for a route that only reads with single statements.

    On PostgreSQL its statements run without a transaction: no BEGIN before the first and no
    ROLLBACK at the end, two round trips of every request. Each statement still sees
    one snapshot, as it does in a READ COMMITTED transaction. (SQLite starts no transaction for
    reads anyway, and switching its isolation costs statements of its own.) It must come before
    ``CurrentUser`` among the route's parameters, so that it is set before authentication reads.
    """
    if not session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return session


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not header:
        raise TokenMissing()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenInvalid("The Authorization header must be 'Bearer <token>'.")
    return token.strip()


async def _user_from_token(request: Request, runtime: Runtime, session: AsyncSession) -> User:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and not request.headers.get("authorization"):  # the console, in a browser
        claims = read_token(runtime.jwt_secret, cookie, runtime.clock.now())
        require_csrf(request, runtime.jwt_secret, claims.token_id)
        return await token_holder(session, claims, console_session=True)
    claims = bearer_claims(request.headers.get("authorization"), runtime)
    return await token_holder(session, claims, console_session=False)


async def token_holder(
    session: AsyncSession, claims: TokenClaims, *, console_session: bool
) -> User:
    """The user a valid login token names, while the token still stands: the user exists and
    is enabled, the password has not changed since, and (console) the session was not ended."""
    if console_session and await ended_sessions.is_ended(session, claims.token_id):
        raise TokenInvalid("This console session was logged out.")
    user = await users.get(session, claims.user_id)
    if user is None or user.is_disabled:
        raise TokenInvalid()
    if claims.credentials_version != credentials_version(user.tokens_valid_after):
        raise TokenInvalid("The token was issued before the password changed; log in again.")
    return user


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


async def verified_user(request: Request, runtime: Runtime, session: AsyncSession) -> User:
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


async def current_user(request: Request, runtime: RuntimeDep, session: SessionDep) -> User:
    """The caller, checked on every request; each request spends one unit of their budget."""
    user = await verified_user(request, runtime, session)
    await spend_user_budget(request.scope, runtime.limiter, runtime.user_rate_limit, user.id)
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def bearer_claims(authorization: str | None, runtime: Runtime) -> TokenClaims:
    """The bearer token's claims; a token whose signature this process verified before is not
    verified again (HMAC and JSON decoding were a twentieth of a send), only its times."""
    token = bearer_token(authorization)
    now = runtime.clock.now()
    verified = runtime.intake_cache.tokens.get(token)
    if verified is not None:
        return check_times(verified, now)
    claims = read_token(runtime.jwt_secret, token, now)
    runtime.intake_cache.remember_token(token, claims)
    return claims


class SecretKeyNotAllowed(Forbidden):
    code = "secret_key_not_allowed"
    message = "Secret keys are managed with a login token, not with a secret key."


async def token_user(request: Request, user: CurrentUser) -> User:
    """The caller, who must have logged in: a plugin's key may not mint or revoke keys."""
    if getattr(request.state, "via_secret_key", False):
        raise SecretKeyNotAllowed()
    return user


TokenUser = Annotated[User, Depends(token_user)]
