"""The console's session: the login token in an HttpOnly cookie, and a CSRF token bound to it.

The console's pages call Herald's own JSON API from the browser. The API accepts the session
cookie in place of ``Authorization: Bearer`` (``herald.deps``), and for every request that can
change something it then also wants ``X-CSRF-Token``: a value only a page Herald served to this
session can know (an HMAC of the token's id), which another site can neither read nor send.
"""

from __future__ import annotations

import hmac
import secrets
from hashlib import sha256

from fastapi import Request, Response

from herald.errors import Forbidden

SESSION_COOKIE = "herald_session"
LOGIN_CSRF_COOKIE = "herald_login_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfTokenInvalid(Forbidden):
    code = "csrf_token_invalid"
    message = (
        "A request authenticated by the console's session cookie must carry the page's "
        "X-CSRF-Token."
    )


def csrf_token(jwt_secret: str, token_id: str) -> str:
    return hmac.new(jwt_secret.encode(), f"csrf:{token_id}".encode(), sha256).hexdigest()


def csrf_matches(jwt_secret: str, token_id: str, given: str | None) -> bool:
    # Bytes, not str: compare_digest refuses a str with non-ASCII characters.
    expected = csrf_token(jwt_secret, token_id).encode()
    return bool(given) and hmac.compare_digest(expected, str(given).encode())


def require_csrf(request: Request, jwt_secret: str, token_id: str) -> None:
    """Refuse a cookie-authenticated request that could change something without the token."""
    if request.method in SAFE_METHODS:
        return
    if not csrf_matches(jwt_secret, token_id, request.headers.get(CSRF_HEADER)):
        raise CsrfTokenInvalid()


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session(request: Request, response: Response, token: str, ttl_seconds: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=ttl_seconds,
        path="/",
        httponly=True,  # scripts never see the token
        samesite="strict",  # never sent with a request another site starts
        secure=_secure(request),
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


def new_login_nonce(request: Request, response: Response) -> str:
    """The login form's CSRF token (there is no session yet to bind one to): a random value
    in a cookie of its own that the form must echo."""
    nonce = secrets.token_urlsafe(24)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        nonce,
        max_age=3600,
        path="/console/",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return nonce


def login_nonce_matches(request: Request, given: str | None) -> bool:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not (expected and given):
        return False
    return hmac.compare_digest(str(expected).encode(), str(given).encode())
