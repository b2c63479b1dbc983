"""``/console/``: server-rendered pages over the same services as the API.

Pages only read; every change (create, submit, send, upload, revoke) is made by the page's
script through Herald's JSON API with the session cookie and the CSRF token, so the console
follows exactly the API's rules and error codes. Lists use the API's paging and filters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, cast, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from herald.callback import service as callbacks
from herald.callback.schemas import CallbackOut
from herald.channel import repository as channels
from herald.console.channel_health import router as channel_health_router
from herald.console.conversations import router as conversations_router
from herald.console.dashboard import router as dashboard_router
from herald.console.login import router as login_router
from herald.console.rendering import (
    CONSOLE,
    FOLDER,
    LoginRequired,
    Viewer,
    ViewerDep,
    not_found,
    render,
)
from herald.console.session import SESSION_COOKIE, clear_session
from herald.deps import SessionDep
from herald.errors import NotFound, ValidationFailed
from herald.kit.pagination import MAX_ID, PageParams, make_page
from herald.kit.phone import digits_only
from herald.message import service as messages
from herald.message.output import message_out
from herald.message.schemas import MessageOut
from herald.models import User, lifecycle
from herald.secret_key import service as secret_keys
from herald.secret_key.schemas import PlatformType, SecretKeyOut
from herald.template import authentication
from herald.template import service as templates
from herald.template.schemas import State, TemplateOut

router = APIRouter(include_in_schema=False)

MESSAGE_STATES = lifecycle.STATES
TEMPLATE_STATES = get_args(State)  # the API's list of template states, in order
PAGE_SIZE = 25


@router.get(f"{CONSOLE}/")
async def home(who: ViewerDep) -> Response:
    return RedirectResponse(f"{CONSOLE}/dashboard", status_code=303)


@router.get(f"{CONSOLE}", include_in_schema=False)
async def home_without_slash() -> Response:
    return RedirectResponse(f"{CONSOLE}/", status_code=308)


def _page_links(request: Request, page: int, pages_count: int) -> dict[str, str | None]:
    query = dict(request.query_params)

    def link(number: int) -> str:
        return f"{request.url.path}?{urlencode({**query, 'page': number})}"

    return {
        "previous": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < pages_count else None,
    }


PageNumber = Annotated[int, Query(ge=1, le=10_000_000)]


def _listing(
    request: Request,
    who: Viewer,
    page_file: str,
    found: tuple[Sequence[Any], int],
    params: PageParams,
    out: Callable[[Any], Any],
    **extra: Any,
) -> Response:
    """A paged list page: the rows as the API shows them, and links to the pages around."""
    rows, total = found
    listing = make_page([out(row) for row in rows], total, params)
    links = _page_links(request, params.page, listing.pagination.pages)
    return render(request, page_file, who, listing=listing, links=links, **extra)


@router.get(f"{CONSOLE}/templates", response_class=HTMLResponse)
async def templates_page(
    request: Request,
    who: ViewerDep,
    session: SessionDep,
    state: Annotated[str | None, Query(max_length=20)] = None,
    name: Annotated[str | None, Query(max_length=512)] = None,
    page: PageNumber = 1,
) -> Response:
    params = PageParams(page=page, limit=PAGE_SIZE)
    chosen = state if state in TEMPLATE_STATES else None
    found = await templates.list_page(
        session, who.user.id, params, cast(State | None, chosen), None, name or None
    )
    return _listing(
        request,
        who,
        "templates.html",
        found,
        params,
        TemplateOut.of,
        states=TEMPLATE_STATES,
        state=chosen,
        name=name or "",
    )


@router.get(f"{CONSOLE}/templates/new", response_class=HTMLResponse)
async def new_template_page(request: Request, who: ViewerDep) -> Response:
    wording = {
        "code": authentication.CODE_TEXT,
        "security": authentication.SECURITY_RECOMMENDATION,
        "expiry": authentication.EXPIRY_TEXT,
    }
    return render(request, "template_new.html", who, wording=wording)


ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get(f"{CONSOLE}/templates/{{template_id}}", response_class=HTMLResponse)
async def template_page(
    request: Request, template_id: ObjectId, who: ViewerDep, session: SessionDep
) -> Response:
    try:
        template = await templates.get(session, who.user.id, template_id)
    except NotFound:
        return not_found(request, who, "template")
    return render(request, "template.html", who, template=TemplateOut.of(template))


@router.get(f"{CONSOLE}/send", response_class=HTMLResponse)
async def send_page(
    request: Request,
    who: ViewerDep,
    session: SessionDep,
    template_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    to: Annotated[str | None, Query(max_length=32)] = None,
    country_code: Annotated[str | None, Query(max_length=2)] = None,
) -> Response:
    params = PageParams(page=1, limit=100)
    approved, _ = await templates.list_page(session, who.user.id, params, "APPROVED", None, None)
    return render(
        request,
        "send.html",
        who,
        templates=[TemplateOut.of(t) for t in approved if t.sendable],
        chosen=template_id,
        to=digits_only(to or ""),  # from a conversation's template picker
        country_code=(country_code or "TN").upper(),
    )


@router.get(f"{CONSOLE}/messages", response_class=HTMLResponse)
async def messages_page(
    request: Request,
    who: ViewerDep,
    session: SessionDep,
    page: PageNumber = 1,
) -> Response:
    filters, problems = _history_filters(request)
    params = PageParams(page=page, limit=PAGE_SIZE)
    found, total, _ = await messages.history(session, who.user.id, params, filters)
    listing = make_page([message_out(m) for m in found], total, params)
    return render(
        request,
        "messages.html",
        who,
        listing=listing,
        states=MESSAGE_STATES,
        query=dict(request.query_params),
        problems=problems,
        links=_page_links(request, page, listing.pagination.pages),
    )


def _history_filters(request: Request) -> tuple[dict[str, Any], list[str]]:
    """The API's history filters from the page's query string; what is malformed is named
    and left out rather than failing the page."""
    given = request.query_params
    problems: list[str] = []
    filters: dict[str, Any] = {}
    state = given.get("state") or None
    filters["state"] = state if state in MESSAGE_STATES else None
    group = (given.get("whatsapp_bulk_group_id") or "").strip()
    filters["whatsapp_bulk_group_id"] = group[:36] or None
    for field in ("template_id", "contact_id"):
        raw = (given.get(field) or "").strip()
        whole = raw.isascii() and raw.isdigit()  # not "²" or "٣", which int() reads otherwise
        filters[field] = int(raw) if whole and 0 < int(raw) <= MAX_ID else None
        if raw and filters[field] is None:
            problems.append(f"{field} must be a positive whole number")
    phone = digits_only((given.get("phone_number") or "")[:32])
    filters["phone_number"] = phone or None
    for field in ("from", "to"):
        raw = (given.get(field) or "").strip()
        filters[field] = None
        try:
            # The console shows and takes times in UTC, as the API does without an offset.
            moment = datetime.fromisoformat(raw) if raw else None
            filters[field] = messages.history_bound(moment, field)
        except (ValueError, ValidationFailed):
            problems.append(f"'{field}' must be a date and time")
    return filters, problems


async def _message(session: Any, user: User, message_id: int) -> MessageOut | None:
    try:
        return message_out(await messages.get(session, user.id, message_id))
    except NotFound:
        return None


@router.get(f"{CONSOLE}/messages/{{message_id}}", response_class=HTMLResponse)
async def message_page(
    request: Request, message_id: ObjectId, who: ViewerDep, session: SessionDep
) -> Response:
    found = await _message(session, who.user, message_id)
    if found is None:
        return not_found(request, who, "message")
    return render(request, "message.html", who, message=found)


@router.get(f"{CONSOLE}/groups/{{group_id}}", response_class=HTMLResponse)
async def group_page(
    request: Request, group_id: str, who: ViewerDep, session: SessionDep
) -> Response:
    try:
        counts = await messages.group_counts(session, who.user.id, group_id[:36])
    except NotFound:
        return not_found(request, who, "bulk group")
    return render(
        request, "group.html", who, group_id=group_id, counts=counts, total=sum(counts.values())
    )


@router.get(f"{CONSOLE}/channels", response_class=HTMLResponse)
async def channels_page(request: Request, who: ViewerDep, session: SessionDep) -> Response:
    return render(
        request, "channels.html", who, channels=await channels.of_user(session, who.user.id)
    )


@router.get(f"{CONSOLE}/keys", response_class=HTMLResponse)
async def keys_page(
    request: Request, who: ViewerDep, session: SessionDep, page: PageNumber = 1
) -> Response:
    params = PageParams(page=page, limit=PAGE_SIZE)
    found = await secret_keys.list_page(session, who.user.id, params)
    platforms = [p.value for p in PlatformType]
    return _listing(
        request, who, "keys.html", found, params, SecretKeyOut.model_validate, platforms=platforms
    )


@router.get(f"{CONSOLE}/callbacks", response_class=HTMLResponse)
async def callbacks_page(
    request: Request, who: ViewerDep, session: SessionDep, page: PageNumber = 1
) -> Response:
    params = PageParams(page=page, limit=PAGE_SIZE)
    found = await callbacks.list_page(session, who.user.id, params)
    set_aside = await callbacks.set_aside_by_endpoint(session, who.user.id, found[0])
    return _listing(
        request,
        who,
        "callbacks.html",
        found,
        params,
        CallbackOut.model_validate,
        set_aside=set_aside,
    )


def install_console(app: FastAPI) -> None:
    """The pages, their local assets (nothing is fetched from elsewhere), and the redirect to
    the login form for a page asked for without a valid session."""

    async def to_login(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        response = RedirectResponse(
            f"{CONSOLE}/login?{urlencode({'next': exc.next_path})}", status_code=303
        )
        if request.cookies.get(SESSION_COOKIE):
            clear_session(response)  # expired or revoked: drop it
        return response

    app.add_exception_handler(LoginRequired, to_login)
    app.include_router(login_router)
    app.include_router(router)
    app.include_router(conversations_router)
    app.include_router(channel_health_router)
    app.include_router(dashboard_router)
    app.mount(f"{CONSOLE}/static", StaticFiles(directory=FOLDER / "static"), name="console-static")
