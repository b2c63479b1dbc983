"""Free-form sends: a text, a file or an interactive message to a customer inside their 24-hour
window (spec/api.md, "Free-form messages"). One more adapter over the intake pipeline: the
route (``endpoints.send_free_form``) hands ``send`` to ``accept.accept_keyed``, which owns the
idempotency, the commit and what follows acceptance; the row is written by
``intake_repository.insert_rows`` as every single send's is, and the dispatcher sends it.

The message is stored with ``kind`` = its type, no template, and its parts in ``content``:
``text`` {body, preview_url}, ``media`` {media_id | link, caption?, filename?} (a media_id is
also the ``header_media_id`` column, so the dispatcher uploads it as a header file), or
``interactive`` {type, header?, body, footer?, action}; and, for a reply, ``reply_to`` (the
inbound message's id) with ``context_message_id`` (its wamid)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.callback.urls import CallbackUrlRefused, check_public_https
from herald.channel import senders
from herald.conversation.window import WindowClosed, is_open, window_expires_at
from herald.errors import HeraldError, NotFound, ValidationFailed
from herald.kit.phone import normalise
from herald.media import service as media_service
from herald.media.kinds import SENDABLE_TYPES
from herald.media.service import MediaNotFound
from herald.message import free_form_repository, intake_repository, repository
from herald.message.free_form_schemas import (
    MEDIA_TYPES,
    ROWS_MAX,
    InteractivePart,
    MediaPart,
    SendFreeForm,
)
from herald.message.service import SendPolicy, queued_columns
from herald.message.validation import RecipientOptedOut
from herald.models import MediaAsset, Message
from herald.models.message import TRANSACTIONAL

PARTS = ("text", *MEDIA_TYPES, "interactive")


class MediaTypeMismatch(HeraldError):
    code = "media_type_mismatch"


class MediaLinkInvalid(HeraldError):
    code = "media_link_invalid"


class ReplyToNotFound(NotFound):
    code = "reply_to_not_found"
    message = "reply_to is not a message this customer sent to this user."


def parts(body: SendFreeForm) -> dict[str, Any]:
    """The message's stored parts, or the first rule of Meta's it breaks (no database)."""
    for name in PARTS:
        given = getattr(body, name) is not None
        if name == body.type and not given:
            raise ValidationFailed.single(name, f"is required for a {body.type} message")
        if name != body.type and given:
            raise ValidationFailed.single(name, f"does not apply to a {body.type} message")
    if body.text is not None:
        return {"text": {"body": body.text.body, "preview_url": body.text.preview_url}}
    if body.interactive is not None:
        return {"interactive": _interactive(body.interactive)}
    media = body.media()
    assert media is not None  # one of the parts is the type's, checked above
    return {"media": _media(body.type, media)}


def _media(kind: str, media: MediaPart) -> dict[str, Any]:
    field = kind
    if (media.media_id is None) == (media.link is None):
        raise ValidationFailed.single(f"{field}.media_id", "give media_id or link, not both")
    if kind == "audio" and media.caption is not None:
        raise ValidationFailed.single(f"{field}.caption", "an audio message has no caption")
    if kind != "document" and media.filename is not None:
        raise ValidationFailed.single(f"{field}.filename", "only a document has a file name")
    stored: dict[str, Any] = {}
    if media.media_id is not None:
        stored["media_id"] = media.media_id
    else:
        try:
            stored["link"] = check_public_https(str(media.link))
        except CallbackUrlRefused as refused:
            reason = refused.message.removeprefix("url: ")
            raise MediaLinkInvalid(
                f"{field}.link {reason}.", data={"field": f"{field}.link", "reason": reason}
            ) from None
    if media.caption is not None:
        stored["caption"] = media.caption
    if media.filename is not None:
        stored["filename"] = media.filename
    return stored


def _interactive(part: InteractivePart) -> dict[str, Any]:
    action = part.action
    stored: dict[str, Any] = {"type": part.type, "body": part.body.text}
    if part.header is not None:
        stored["header"] = part.header.text
    if part.footer is not None:
        stored["footer"] = part.footer.text
    if part.type == "button":
        if action.buttons is None or action.button is not None or action.sections is not None:
            raise ValidationFailed.single(
                "interactive.action.buttons", "reply buttons take buttons (1 to 3), nothing else"
            )
        ids = [b.reply.id for b in action.buttons]
        titles = [b.reply.title for b in action.buttons]
        _unique("interactive.action.buttons", "id", ids)
        _unique("interactive.action.buttons", "title", titles)
        stored["action"] = {
            "buttons": [{"id": b.reply.id, "title": b.reply.title} for b in action.buttons]
        }
        return stored
    if action.sections is None or action.button is None or action.buttons is not None:
        raise ValidationFailed.single(
            "interactive.action.sections", "a list takes button (its label) and sections"
        )
    rows = [row for section in action.sections for row in section.rows]
    if len(rows) > ROWS_MAX:
        raise ValidationFailed.single(
            "interactive.action.sections", f"a list has at most {ROWS_MAX} rows in all sections"
        )
    _unique("interactive.action.sections", "row id", [row.id for row in rows])
    if len(action.sections) > 1 and any(s.title is None for s in action.sections):
        raise ValidationFailed.single(
            "interactive.action.sections", "each section needs a title when there are several"
        )
    stored["action"] = {
        "button": action.button,
        "sections": [
            {
                **({"title": section.title} if section.title is not None else {}),
                "rows": [
                    {
                        "id": row.id,
                        "title": row.title,
                        **({"description": row.description} if row.description else {}),
                    }
                    for row in section.rows
                ],
            }
            for section in action.sections
        ],
    }
    return stored


def _unique(field: str, what: str, values: list[str]) -> None:
    if len(set(values)) < len(values):
        raise ValidationFailed.single(field, f"each {what} must be unique")


def check_asset(kind: str, asset: MediaAsset) -> None:
    """The caller's file fits a message of ``kind``: the same kind, of a type Meta takes."""
    if asset.kind != kind or asset.mime_type not in SENDABLE_TYPES[kind]:
        raise MediaTypeMismatch(
            f"A {kind} message cannot carry media {asset.id} ({asset.mime_type}).",
            data={"field": f"{kind}.media_id", "media_type": asset.kind},
        )


async def send(
    session: AsyncSession, user_id: int, body: SendFreeForm, policy: SendPolicy, now: datetime
) -> Message:
    """Check and store one free-form message in the caller's transaction (it commits). The
    window (the chosen sender's with this customer) is read from the database, after every
    other check: nothing is stored outside it."""
    content = parts(body)
    phone = normalise(body.to, body.country_code)
    channel = senders.for_free_form(
        await senders.of_user(session, user_id), senders.Named(body.channel_id, body.from_)
    )
    media_id = content.get("media", {}).get("media_id")
    if media_id is not None:
        # Share-locked on PostgreSQL until the send commits, as a header file is.
        asset = (await media_service.for_sending(session, user_id, {media_id})).get(media_id)
        if asset is None:
            raise MediaNotFound()
        check_asset(body.type, asset)
    if body.reply_to is not None:
        wamid = await free_form_repository.inbound_wamid(
            session, user_id, channel.id, phone.digits, body.reply_to
        )
        if wamid is None:
            raise ReplyToNotFound()
        content.update(reply_to=body.reply_to, context_message_id=wamid)
    if await repository.opted_out(session, user_id, [phone.digits]):
        raise RecipientOptedOut()
    expires_at = await window_expires_at(session, user_id, channel.id, phone.digits)
    if not is_open(expires_at, now):
        raise WindowClosed.since(expires_at)
    row = {
        **queued_columns(user_id, channel.id, TRANSACTIONAL, None, policy, now),
        "template_id": None,
        "kind": body.type,
        "template_name": "",
        "template_language": "",
        "contact_id": None,
        "whatsapp_bulk_group_id": str(uuid.uuid4()),
        "phone_number": phone.digits,
        "country_code": phone.country_code,
        "content": content,
        "header_media_id": media_id,
    }
    [message_id] = await intake_repository.insert_rows(session, [row])
    await repository.add_to_total(session, user_id, 1)
    return Message(id=message_id, **row)
