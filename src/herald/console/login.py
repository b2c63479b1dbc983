"""The console's login form and logout."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from herald.auth import service as auth
from herald.console import repository as ended_sessions
from herald.console.rendering import CONSOLE, MAX_NEXT, ViewerDep, render
from herald.console.session import (
    clear_session,
    csrf_matches,
    login_nonce_matches,
    new_login_nonce,
    set_session,
)
from herald.deps import RuntimeDep, SessionDep
from herald.errors import HeraldError
from herald.kit.jwt import read_token
from herald.user import repository as users

router = APIRouter(include_in_schema=False)


def _safe_next(value: str | None) -> str:
    """Only a console path: never an address elsewhere (an open redirect)."""
    if value and len(value) <= MAX_NEXT and value.startswith(f"{CONSOLE}/"):
        return value
    return f"{CONSOLE}/"


def _login_page(request: Request, next_path: str, error: str | None, status: int) -> Response:
    """The login form, with a fresh nonce in its cookie and its hidden field."""
    holder = Response()
    nonce = new_login_nonce(request, holder)
    response = render(
        request, "login.html", None, status=status, next=next_path, error=error, nonce=nonce
    )
    for name, value in holder.raw_headers:
        if name == b"set-cookie":
            response.raw_headers.append((name, value))
    return response


@router.get(f"{CONSOLE}/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, _safe_next(next), None, 200)


@router.post(f"{CONSOLE}/login", response_class=HTMLResponse)
async def login(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    nonce: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=16_384)] = "",  # a longer one is dropped, not refused
) -> Response:
    next_path = _safe_next(next)

    def again(error: str, status: int) -> Response:
        return _login_page(request, next_path, error, status)

    if not login_nonce_matches(request, nonce):
        return again("The form expired; please log in again.", 403)
    address = request.client.host if request.client else "unknown"
    try:
        token = await auth.login(session, runtime, email, password, address)
    except HeraldError as refused:
        return again(refused.message, refused.status)
    claims = read_token(runtime.jwt_secret, token, runtime.clock.now())
    user = await users.get(session, claims.user_id)
    if user is None or not user.has_api_access:
        return again("API access is disabled for this user; ask the operator to grant it.", 403)
    response = RedirectResponse(next_path, status_code=303)
    set_session(request, response, token, runtime.settings.token_ttl_seconds)
    return response


@router.post(f"{CONSOLE}/logout")
async def logout(
    who: ViewerDep,
    session: SessionDep,
    runtime: RuntimeDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    response = RedirectResponse(f"{CONSOLE}/login", status_code=303)
    if not csrf_matches(runtime.jwt_secret, who.token_id, csrf):
        return response  # a forged logout would only be a nuisance, but refuse it all the same
    # The token itself is ended, not only the cookie: a copy of it is refused from now on.
    expires_at = datetime.fromtimestamp(who.expires_at, UTC)
    await ended_sessions.end(session, who.token_id, expires_at, runtime.clock.now())
    await session.commit()
    clear_session(response)
    return response
