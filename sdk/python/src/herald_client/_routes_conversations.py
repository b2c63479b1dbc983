"""Calls for conversations: the customers who wrote, one conversation's messages in and out,
marking one read (which sends Meta's read receipt)."""

from __future__ import annotations

from urllib.parse import quote

from herald_client._call import Call, QueryValue
from herald_client._envelope import parse_object
from herald_client.models import (
    ConversationMessage,
    ConversationRead,
    ConversationSummary,
    CursorPage,
)

DEFAULT_LIMIT = 20
CONVERSATIONS = "/api/v2/whatsapp/conversations"


def _cursor_params(limit: int, cursor: str | None) -> dict[str, QueryValue]:
    params: dict[str, QueryValue] = {"limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    return params


def _number(phone_number: str) -> str:
    return quote(phone_number.strip().removeprefix("+"), safe="")


def list_conversations(
    *, unread: bool = False, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Call[CursorPage[ConversationSummary]]:
    """One row per customer who wrote, the one who wrote last first: unread count, whether the
    24-hour window is open and until when, the last message either way. ``unread``: only those
    with unread messages. The next page: ``cursor=page["pagination"]["next_cursor"]``."""
    params = _cursor_params(limit, cursor)
    if unread:
        params["unread"] = "true"
    return Call("GET", CONVERSATIONS, parse_object, params=params)


def conversation_messages(
    phone_number: str, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Call[CursorPage[ConversationMessage]]:
    """A customer's messages and yours to them, newest first (``direction`` in or out).
    ``NotFound`` ``conversation_not_found`` when neither side ever wrote."""
    path = f"{CONVERSATIONS}/{_number(phone_number)}/messages"
    return Call("GET", path, parse_object, params=_cursor_params(limit, cursor))


def read_conversation(phone_number: str) -> Call[ConversationRead]:
    """Mark the customer's messages read; Meta is sent a read receipt for the newest one (the
    customer sees blue ticks). A provider failure raises and marks nothing: call again."""
    return Call("POST", f"{CONVERSATIONS}/{_number(phone_number)}/read", parse_object)
