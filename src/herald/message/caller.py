"""Who is sending: the caller of a send or of a read that confirms them in its own statement.

A bearer token whose user this process remembers (``intake_cache``) is authorised without a
read; the send's batch (``intake.SendBatcher``) or the read's own statement checks the user's
state again. Every other caller (a first request, a secret key, the console's session) is
read as on any request (``deps.verified_user``). Each spends one unit of the user's budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from herald.deps import (
    PLUGIN_HEADERS,
    RuntimeDep,
    SessionDep,
    bearer_claims,
    current_user,
    verified_user,
)
from herald.kit.jwt import TokenClaims
from herald.kit.ratelimit import spend_user_budget
from herald.message.intake_cache import UserState
from herald.message.state import intake_state
from herald.runtime import Runtime


@dataclass(frozen=True)
class Sender:
    """The caller of a single send. ``remembered``: authorised by this process's memory of the
    user, without a read; the send's batch checks ``token_credentials`` again at its commit
    (``message/intake_cache.py``)."""

    user_id: int
    token_credentials: int | None
    remembered: bool


async def sender(request: Request, runtime: RuntimeDep, session: SessionDep) -> Sender:
    caller = _bearer_caller(request, runtime)
    if caller is not None:
        claims, remembered = caller
        if not remembered:
            intake_state(runtime).cache.remember_user(
                await verified_user(request, runtime, session)
            )
        await spend_user_budget(
            request.scope, runtime.limiter, runtime.user_rate_limit, claims.user_id
        )
        return Sender(claims.user_id, claims.credentials_version, remembered)
    user = await current_user(request, runtime, session)
    return Sender(user.id, None, False)


SenderDep = Annotated[Sender, Depends(sender)]


@dataclass(frozen=True)
class Reader:
    """The caller of a read that confirms them in its own statement. ``token_credentials`` is
    set when this process remembered a bearer token's user and did not read them: the read
    then returns the user's state, which must still authorise the token (``confirm_reader``)."""

    user_id: int
    token_credentials: int | None


async def reader(request: Request, runtime: RuntimeDep, session: SessionDep) -> Reader:
    caller = _bearer_caller(request, runtime)
    if caller is not None and caller[1]:
        claims = caller[0]
        await spend_user_budget(
            request.scope, runtime.limiter, runtime.user_rate_limit, claims.user_id
        )
        return Reader(claims.user_id, claims.credentials_version)
    user = await current_user(request, runtime, session)
    if caller is not None:
        intake_state(runtime).cache.remember_user(user)
    return Reader(user.id, None)


ReaderDep = Annotated[Reader, Depends(reader)]


async def confirm_reader(
    request: Request, runtime: Runtime, session: AsyncSession, found: UserState, caller: Reader
) -> None:
    """After a remembered caller's read: ``found`` is the user's state as the read saw it. If
    it no longer authorises the token, the caller is read as on any request, which refuses
    them with the error their state calls for. (A query-string error a remembered caller makes
    is reported before this: it says nothing about anyone's data.)"""
    if caller.token_credentials is not None and not found.authorises(caller.token_credentials):
        intake_state(runtime).cache.forget_user(caller.user_id)
        await verified_user(request, runtime, session)


def remembered_bearer(authorization: str | None, runtime: Runtime) -> tuple[TokenClaims, bool]:
    """A bearer token's claims, and whether this process remembers their user as authorising
    them (the user need not be read). Raises as ``bearer_claims`` does."""
    claims = bearer_claims(authorization, runtime)
    known = intake_state(runtime).cache.user(claims.user_id)
    return claims, known is not None and known.authorises(claims.credentials_version)


def _bearer_caller(request: Request, runtime: Runtime) -> tuple[TokenClaims, bool] | None:
    """``remembered_bearer`` of a request authenticated by a bearer token alone (no plugin
    headers); None for other callers."""
    authorization = request.headers.get("authorization")
    if not authorization or any(request.headers.get(name) for name in PLUGIN_HEADERS):
        return None
    return remembered_bearer(authorization, runtime)
