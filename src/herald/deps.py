"""FastAPI dependencies: the runtime, a database session, and the authenticated user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from herald.errors import ApiAccessDisabled, TokenInvalid, TokenMissing
from herald.kit.jwt import read_token
from herald.models import User
from herald.runtime import Runtime
from herald.user import repository as users


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with runtime.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise TokenMissing()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenInvalid("The Authorization header must be 'Bearer <token>'.")
    return token.strip()


async def current_user(request: Request, runtime: RuntimeDep, session: SessionDep) -> User:
    """The caller, checked on every request: token, user still enabled, API access granted."""
    claims = read_token(runtime.jwt_secret, bearer_token(request), runtime.clock.now())
    user = await users.get(session, claims.user_id)
    if user is None or user.is_disabled:
        raise TokenInvalid()
    if user.tokens_valid_after and claims.issued_at < int(user.tokens_valid_after.timestamp()):
        raise TokenInvalid("The token was issued before the password changed; log in again.")
    if not user.has_api_access:
        raise ApiAccessDisabled()
    return user


CurrentUser = Annotated[User, Depends(current_user)]
