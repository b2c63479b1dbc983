"""FastAPI dependencies: the runtime, a database session, and the authenticated user.

A caller is a user authenticated by a login token (``Authorization: Bearer``, or the web
console's session cookie with its CSRF token) or, for shop plugins, by a secret key in the three
plugin headers. Either way the user must be enabled and have API access, and each request
spends one unit of the user's rate-limit budget.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from herald.errors import Forbidden, TokenInvalid, TokenMissing
from herald.kit.jwt import TokenClaims
from herald.kit.ratelimit import spend_user_budget
from herald.kit.registry import Slot
from herald.models import User
from herald.runtime import Runtime

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


# Who the caller is depends on features (console sessions, secret keys, users) that this shared
# module may not import: ``caller/check.py`` registers the check at start-up.
CallerCheck = Callable[[Request, Runtime, AsyncSession], Awaitable[User]]
CALLER_CHECK: Slot[CallerCheck] = Slot("caller_check")


async def verified_user(request: Request, runtime: Runtime, session: AsyncSession) -> User:
    """The caller read from the database: credentials, user enabled, API access granted."""
    return await runtime.features.get(CALLER_CHECK)(request, runtime, session)


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
    return runtime.verified_tokens.read(runtime.jwt_secret, token, runtime.clock.now())


class SecretKeyNotAllowed(Forbidden):
    code = "secret_key_not_allowed"
    message = "Secret keys are managed with a login token, not with a secret key."


async def token_user(request: Request, user: CurrentUser) -> User:
    """The caller, who must have logged in: a plugin's key may not mint or revoke keys."""
    if getattr(request.state, "via_secret_key", False):
        raise SecretKeyNotAllowed()
    return user


TokenUser = Annotated[User, Depends(token_user)]
