"""``/console/conversations``: the customers who wrote, and one conversation as a chat.

The pages render what the API answers (``conversation.service``) and their script keeps them
live by polling the same API; opening a conversation marks it read through
``POST /api/v2/whatsapp/conversations/{number}/read``, and a reply goes through
``POST /api/v2/whatsapp/messages``, as any integrator's would."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import phonenumbers
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from herald.console.rendering import CONSOLE, ViewerDep, not_found, render
from herald.conversation import service as conversations
from herald.conversation.schemas import ConversationMessage, ConversationOut
from herald.deps import RuntimeDep, SessionDep
from herald.errors import HeraldError
from herald.kit.pagination import PageParams
from herald.template import service as templates
from herald.template.schemas import TemplateOut

router = APIRouter(include_in_schema=False)

LIST_SIZE = 50
CHAT_SIZE = 50


@router.get(f"{CONSOLE}/conversations", response_class=HTMLResponse)
async def conversations_page(
    request: Request,
    who: ViewerDep,
    session: SessionDep,
    runtime: RuntimeDep,
    unread: bool = False,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    try:
        listed = await conversations.list_conversations(
            session, who.user.id, LIST_SIZE, cursor, unread, runtime.clock.now()
        )
    except HeraldError:  # a cursor edited by hand: the first page instead
        listed = await conversations.list_conversations(
            session, who.user.id, LIST_SIZE, None, unread, runtime.clock.now()
        )
        cursor = None
    items = [ConversationOut.model_validate(item) for item in listed.items]
    return render(
        request,
        "conversations.html",
        who,
        items=items,
        unread=unread,
        total=listed.total,
        next_cursor=listed.next_cursor,
        first=cursor is None,
        now=runtime.clock.now(),
    )


def _region(number: str) -> str:
    """The country of an E.164 number (the API's sends take one beside the number)."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + number))
    except phonenumbers.NumberParseException:
        return ""
    return region if region and region != "ZZ" else ""


def time_left(expires_at: datetime, now: datetime) -> str:
    """``3 h 12 min``: how long the window stays open."""
    minutes = max(0, int((expires_at - now).total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@router.get(f"{CONSOLE}/conversations/{{phone_number}}", response_class=HTMLResponse)
async def conversation_page(
    request: Request,
    phone_number: Annotated[str, Path(max_length=32)],
    who: ViewerDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    try:
        number = conversations.customer_number(phone_number)
        found = await conversations.conversation_messages(
            session, who.user.id, number, CHAT_SIZE, None
        )
    except HeraldError:
        return not_found(request, who, "conversation")
    now = runtime.clock.now()
    summary = await conversations.summary(session, who.user.id, number, now)
    messages = [ConversationMessage.model_validate(m) for m in reversed(found.items)]
    # The picker is there when the window closes while the page is open, too.
    rows, _ = await templates.list_page(
        session, who.user.id, PageParams(page=1, limit=100), "APPROVED", None, None
    )
    approved = [TemplateOut.of(t) for t in rows if t.sendable]
    return render(
        request,
        "conversation.html",
        who,
        number=number,
        region=_region(number),
        summary=summary,
        messages=messages,
        older=found.next_cursor is not None,
        templates=approved,
        left=time_left(summary.window_expires_at, now) if summary else None,
    )
