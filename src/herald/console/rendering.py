"""What every console page shares: who is looking (the session), and rendering a page with
the headers that keep it private."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from herald.console.explain import explain, known_words
from herald.console.session import SESSION_COOKIE, csrf_token
from herald.console.token_holder import token_holder
from herald.deps import RuntimeDep, SessionDep
from herald.errors import HeraldError
from herald.kit.jwt import read_token
from herald.models import User, lifecycle

CONSOLE = "/console"
FOLDER = Path(__file__).parent
MAX_NEXT = 2000  # the longest address a login returns to
pages = Jinja2Templates(directory=FOLDER / "templates")
pages.env.globals["explain"] = explain
pages.env.globals["error_words"] = known_words()
# What the pages (and their script, which watches states change) know of a message's life.
pages.env.globals["lifecycle"] = {
    "final": lifecycle.FINAL,
    "cancellable": lifecycle.sources(lifecycle.CANCELLED),
    # The funnel's steps, each with the states of the messages that reached it.
    "funnel": [(step, lifecycle.reached(step)) for step in lifecycle.FUNNEL],
}


class LoginRequired(Exception):
    """No valid session: the page sends the browser to the login form."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class Viewer:
    """Who is looking, with which token, and the CSRF token the page's script sends with
    every change."""

    def __init__(self, user: User, csrf: str, token_id: str, expires_at: int) -> None:
        self.user = user
        self.csrf = csrf
        self.token_id = token_id
        self.expires_at = expires_at


async def viewer(request: Request, runtime: RuntimeDep, session: SessionDep) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if len(here) > MAX_NEXT:  # come back to the page, if not to all of its filters
        here = request.url.path
    if not token:
        raise LoginRequired(here)
    try:
        claims = read_token(runtime.jwt_secret, token, runtime.clock.now())
        user = await token_holder(session, claims, console_session=True)
    except HeraldError:
        raise LoginRequired(here) from None
    if not user.has_api_access:
        raise LoginRequired(here)
    csrf = csrf_token(runtime.jwt_secret, claims.token_id)
    return Viewer(user, csrf, claims.token_id, claims.expires_at)


ViewerDep = Annotated[Viewer, Depends(viewer)]


def render(
    request: Request, page_file: str, who: Viewer | None, status: int = 200, **context: Any
) -> Response:
    context.update(request=request, viewer=who, page=page_file.removesuffix(".html"))
    response: Response = pages.TemplateResponse(request, page_file, context, status_code=status)
    # Pages carry the CSRF token and personal data: never cached, never framed.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def not_found(request: Request, who: Viewer, what: str) -> Response:
    return render(request, "missing.html", who, status=404, what=what)
