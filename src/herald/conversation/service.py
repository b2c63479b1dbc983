"""Conversations read through the API: the list, one conversation's messages in and out, and
marking one read (with Meta's read receipt)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from herald.channel import repository as channels
from herald.channel import service as channel_service
from herald.conversation import reading_repository as reading
from herald.conversation.schemas import ConversationOut
from herald.conversation.window import CUSTOMER_WINDOW, is_open
from herald.errors import InvalidPhoneNumber, NotFound
from herald.kit.crypto import Cipher
from herald.kit.cursor import decode_cursor, encode_cursor, refused
from herald.kit.pagination import MAX_ID
from herald.kit.phone import digits_only
from herald.models.inbound import MEDIA_STORED
from herald.models.message import TEMPLATE
from herald.provider.base import Provider

# Meta asks for read receipts within 30 days of a message; an older one is marked read in
# Herald only (a receipt Meta may refuse would leave the conversation unread for good).
RECEIPT_AGE_LIMIT = timedelta(days=30)
PREVIEW_LENGTH = 200


class ConversationNotFound(NotFound):
    code = "conversation_not_found"
    message = "No conversation and no message with this number."


def media_url(media_id: int) -> str:
    """Herald's route serving a stored file's bytes to its owner."""
    return f"/api/v2/whatsapp/media/{media_id}/content"


def customer_number(raw: str) -> str:
    """A path's phone number: E.164 digits (``+``, spaces, dashes tolerated), as stored."""
    digits = digits_only(raw)
    if not (digits.isascii() and digits.isdigit() and 3 <= len(digits) <= 15):
        raise InvalidPhoneNumber("The phone number must be E.164 digits with the dial code.")
    return digits


# --- the list -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    items: list[dict[str, Any]]
    total: int
    next_cursor: str | None


async def list_conversations(
    session: AsyncSession,
    user_id: int,
    limit: int,
    cursor: str | None,
    unread_only: bool,
    now: datetime,
) -> Listed:
    after = None
    if cursor is not None:
        at, conversation_id = decode_cursor(cursor, "c", (str, int))
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise refused() from None
        if moment.tzinfo is None:
            raise refused()
        after = (moment, conversation_id)
    rows = await reading.conversations_page(session, user_id, limit + 1, after, unread_only)
    more, rows = len(rows) > limit, rows[:limit]
    outbound = await reading.outbound_by_ids(
        session, [r.last_out_id for r in rows if r.last_out_id is not None]
    )
    inbound = await reading.inbound_by_ids(
        session, [r.last_in_id for r in rows if r.last_in_id is not None]
    )
    outs = {o.id: o for o in outbound}
    ins = {i.id: i for i in inbound}
    items = [
        _conversation(row, outs.get(row.last_out_id), ins.get(row.last_in_id), now) for row in rows
    ]
    last = rows[-1] if rows else None
    next_cursor = (
        encode_cursor("c", last.last_inbound_at.isoformat(), last.id) if more and last else None
    )
    total = await reading.count_conversations(session, user_id, unread_only)
    return Listed(items, total, next_cursor)


def _conversation(
    row: Row[Any], outbound: Row[Any] | None, inbound: Row[Any] | None, now: datetime
) -> dict[str, Any]:
    expires = row.last_inbound_at + CUSTOMER_WINDOW
    latest = [_outbound(outbound)] if outbound is not None else []
    latest += [_inbound(inbound)] if inbound is not None else []
    last = max(latest, key=_order, default=None)
    name = " ".join(part for part in (row.firstname, row.lastname) if part) or None
    return {
        "phone_number": row.phone_number,
        "contact": {"id": row.contact_id, "name": name} if row.contact_id is not None else None,
        "unread_count": row.unread_count,
        "last_inbound_at": row.last_inbound_at,
        "window_open": is_open(expires, now),
        "window_expires_at": expires,
        "last_message": (
            {k: last[k] for k in ("direction", "id", "type", "at")}
            | {"text": _preview(last["text"] or last["template_name"])}
            if last is not None
            else None
        ),
    }


def _preview(text: str | None) -> str | None:
    if text is None or len(text) <= PREVIEW_LENGTH:
        return text
    return text[: PREVIEW_LENGTH - 1] + "…"


async def summary(
    session: AsyncSession, user_id: int, phone_number: str, now: datetime
) -> ConversationOut | None:
    """One customer's row of the list (None: they never wrote)."""
    rows = await reading.conversations_page(
        session, user_id, 1, None, False, phone_number=phone_number
    )
    if not rows:
        return None
    row = rows[0]
    outbound = await reading.outbound_by_ids(session, [row.last_out_id] if row.last_out_id else [])
    inbound = await reading.inbound_by_ids(session, [row.last_in_id] if row.last_in_id else [])
    item = _conversation(row, next(iter(outbound), None), next(iter(inbound), None), now)
    return ConversationOut.model_validate(item)


# --- one conversation's messages --------------------------------------------------------------


@dataclass(frozen=True)
class Messages:
    items: list[dict[str, Any]]
    total: int
    next_cursor: str | None


async def conversation_messages(
    session: AsyncSession, user_id: int, phone_number: str, limit: int, cursor: str | None
) -> Messages:
    """Outbound and inbound messages merged newest first.

    Each side is read by its own index, by id; the page merges the two by time (the later
    first; an outbound message first on a tie). The cursor keeps where each side stopped, so a
    next page goes on from both without a gap or a repeat whatever the times are."""
    out_before: int | None = None
    in_before: int | None = None
    if cursor is not None:
        out_before, in_before = decode_cursor(cursor, "m", (int, int))
    # 0: that side is exhausted.
    outs = (
        []
        if out_before == 0
        else await reading.outbound_page(session, user_id, phone_number, out_before, limit + 1)
    )
    ins = (
        []
        if in_before == 0
        else await reading.inbound_page(session, user_id, phone_number, in_before, limit + 1)
    )
    if cursor is None and not outs and not ins:
        raise ConversationNotFound()
    out_items, in_items = [_outbound(o) for o in outs], [_inbound(i) for i in ins]
    page = _merged(out_items, in_items, limit)
    taken_out = sum(1 for m in page if m["direction"] == "out")
    taken_in = len(page) - taken_out
    next_cursor = None
    if len(out_items) > taken_out or len(in_items) > taken_in:
        next_cursor = encode_cursor(
            "m",
            _next_bound(out_before, out_items, taken_out),
            _next_bound(in_before, in_items, taken_in),
        )
    total = await reading.count_messages(session, user_id, phone_number)
    return Messages(page, total, next_cursor)


def _merged(
    outs: list[dict[str, Any]], ins: list[dict[str, Any]], limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` messages, each time the later of the two sides' next ones: each side is
    taken in its own (id) order, so what a page takes of a side is always a prefix of it."""
    page: list[dict[str, Any]] = []
    o = i = 0
    while len(page) < limit and (o < len(outs) or i < len(ins)):
        if i >= len(ins) or (o < len(outs) and _order(outs[o]) > _order(ins[i])):
            page.append(outs[o])
            o += 1
        else:
            page.append(ins[i])
            i += 1
    return page


def _next_bound(before: int | None, fetched: list[dict[str, Any]], taken: int) -> int:
    """Where a side's next page starts: below the last id taken; 0 once nothing is left."""
    if taken == len(fetched):
        return 0  # all it had (fewer than a page and one) was taken
    if taken:
        return int(fetched[taken - 1]["id"])
    return before if before is not None else MAX_ID


def _order(message: dict[str, Any]) -> tuple[datetime, int, int]:
    return (message["at"], 1 if message["direction"] == "out" else 0, message["id"])


def _outbound(row: Row[Any]) -> dict[str, Any]:
    content: dict[str, Any] = row.content or {}
    is_template = row.kind == TEMPLATE
    return {
        "direction": "out",
        "id": row.id,
        "type": row.kind,
        "text": None if is_template else _outbound_text(content),
        "payload": None,
        "details": None,
        "media": _outbound_media(row.header_media_id, content),
        "reply_to": _int(content.get("reply_to")),
        "template_name": row.template_name if is_template else None,
        "status": row.state,
        "error_code": row.error_code,
        "at": row.created_at,
        "sent_at": row.sent_at,
        "delivered_at": row.delivered_at,
        "read_at": row.read_at,
        "failed_at": row.failed_at,
    }


def _outbound_text(content: dict[str, Any]) -> str | None:
    """A free-form message's words (as message/free_form.py stores them): its text's body, a
    file's caption, an interactive message's body."""
    text, media, interactive = (content.get(k) or {} for k in ("text", "media", "interactive"))
    for words in (text.get("body"), media.get("caption"), interactive.get("body")):
        if isinstance(words, str):
            return words
    return None


def _outbound_media(header_media_id: int | None, content: dict[str, Any]) -> dict[str, Any] | None:
    """A template's header file or a free-form message's file: Herald's copy, or the https
    link the provider fetched it from."""
    if header_media_id is not None:
        return {"id": header_media_id, "url": media_url(header_media_id), "status": MEDIA_STORED}
    link = (content.get("media") or {}).get("link") or content.get("header_media_url")
    return {"id": None, "url": link, "status": MEDIA_STORED} if isinstance(link, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _inbound(row: Row[Any]) -> dict[str, Any]:
    media = None
    if row.media_status is not None:
        stored = row.media_id is not None and row.media_status == MEDIA_STORED
        media = {
            "id": row.media_id if stored else None,
            "url": media_url(row.media_id) if stored else None,
            "status": row.media_status,
        }
    return {
        "direction": "in",
        "id": row.id,
        "type": row.kind,
        "text": row.text,
        "payload": row.payload,
        "details": row.details,
        "media": media,
        "reply_to": row.reply_to_message_id,
        "template_name": None,
        "status": None,
        "error_code": None,
        "at": row.received_at,
        "sent_at": None,
        "delivered_at": None,
        "read_at": row.read_at,
        "failed_at": None,
    }


# --- marking read ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadOutcome:
    marked_read: int
    read_receipt_for: int | None


async def mark_read(
    session: AsyncSession,
    user_id: int,
    phone_number: str,
    provider: Provider,
    cipher: Cipher,
    now: datetime,
) -> ReadOutcome:
    """Mark the customer's messages read and tell Meta (a read receipt for the newest one marks
    the earlier ones read too). The receipt goes first: when the provider fails, its
    ``ProviderError`` leaves Herald's rows as they were (the caller does not commit), so that
    a retry does both."""
    conversations = await reading.conversations_with(session, user_id, phone_number)
    if not conversations:
        if await reading.count_messages(session, user_id, phone_number):
            return ReadOutcome(0, None)  # only messages to them: nothing of theirs to read
        raise ConversationNotFound()
    marked, receipt_for = 0, None
    for conversation in conversations:
        latest = await reading.latest_unread(session, conversation)
        if latest is None:
            continue
        if now - latest.received_at <= RECEIPT_AGE_LIMIT:
            channel = await channels.get(session, conversation.channel_id)
            if channel is not None:
                access = channel_service.access(channel, cipher)
                await provider.mark_read(access, latest.provider_message_id)
                receipt_for = latest.id
        marked += await reading.mark_read(session, conversation, latest.id, now)
    return ReadOutcome(marked, receipt_for)
