"""``POST /_emulator/inbound``: a customer writes to a business number, in any kind Meta
delivers, and the emulator sends Meta's webhook for it (``IncomingMessage`` of Meta's OpenAPI:
the same shape, the same required members). A file the customer sends is kept and served as
Meta serves a media message's file (``GET /{version}/{media-id}``, then its download URL with
the access token: media.py).

The control body: ``{"phone_number_id", "waba_id", "from", "type"?: "text" (default) | "image"
| "video" | "audio" | "document" | "sticker" | "location" | "contacts" | "reaction" | "button" |
"interactive" | "unsupported", "text"?, "media"?: {"content_base64", "mime_type", "filename"?,
"caption"?, "voice"?, "animated"?}, "location"?, "contacts"?, "reaction"?, "button"?: {"text",
"payload"}, "interactive"?: {"button_reply" | "list_reply": {"id", "title", "description"?}},
"context_message_id"?, "profile_name"?, "timestamp"?}``; a bad one is a 400 saying why.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from herald.emulator.records import EmulatedMedia
from herald.emulator.state import EmulatorState

router = APIRouter(prefix="/_emulator")

MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
KINDS = (
    "text",
    *MEDIA_KINDS,
    "location",
    "contacts",
    "reaction",
    "button",
    "interactive",
    "unsupported",
)
KB, MB = 1024, 1024 * 1024
_DOCUMENTS = (
    "text/plain",
    "application/pdf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)
# The types and sizes of Meta's supported media, by kind (its media guide): a customer's
# WhatsApp sends nothing else.
SUPPORTED: dict[str, tuple[tuple[str, ...], int]] = {
    "image": (("image/jpeg", "image/png"), 5 * MB),
    "video": (("video/mp4", "video/3gpp"), 16 * MB),
    "audio": (("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"), 16 * MB),
    "document": (_DOCUMENTS, 100 * MB),
    "sticker": (("image/webp",), 500 * KB),  # animated; a static one is at most 100 KB
}
# Meta answers a reply (a quick-reply tap, an interactive reply) with the message it answers.
NEEDS_CONTEXT = ("button", "interactive")


class BadInbound(ValueError):
    pass


def _string(body: dict[str, Any], key: str, where: str = "") -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadInbound(f"{where}{key} is required (a non-empty string)")
    return value


def _object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if not isinstance(value, dict):
        raise BadInbound(f"{key} is required (an object) for this type")
    return value


def _media(
    state: EmulatorState, kind: str, phone_number_id: str, given: dict[str, Any]
) -> dict[str, Any]:
    mime_type = _string(given, "mime_type", "media.")
    try:
        content = base64.b64decode(_string(given, "content_base64", "media."), validate=True)
    except (binascii.Error, ValueError):
        raise BadInbound("media.content_base64 is not base64") from None
    types, limit = SUPPORTED[kind]
    if mime_type.split(";")[0].strip() not in types or not content or len(content) > limit:
        raise BadInbound(f"media: {mime_type} of {len(content)} bytes is not a file Meta takes")
    digest = hashlib.sha256(content).digest()
    media = EmulatedMedia(
        state.new_id(),
        phone_number_id,
        mime_type,
        digest.hex(),
        len(content),
        given.get("filename") if isinstance(given.get("filename"), str) else None,
        time.time(),
        content=base64.b64encode(content).decode(),
    )
    state.media[media.id] = media
    # MediaMessageProperties: the id, the type and the digest (base64, as Meta's examples).
    part: dict[str, Any] = {
        "mime_type": mime_type,
        "sha256": base64.b64encode(digest).decode(),
        "id": media.id,
    }
    if kind in ("image", "video") and given.get("caption") is not None:
        part["caption"] = _string(given, "caption", "media.")
    elif given.get("caption") is not None:
        raise BadInbound(f"a {kind} has no caption")
    if kind == "document":
        part["filename"] = _string(given, "filename", "media.")
    if kind == "audio":
        part["voice"] = bool(given.get("voice", False))
    if kind == "sticker":
        part["animated"] = bool(given.get("animated", False))
    return part


def _location(given: dict[str, Any]) -> dict[str, Any]:
    part: dict[str, Any] = {}
    for key in ("latitude", "longitude"):
        value = given.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadInbound(f"location.{key} is required (a number)")
        part[key] = value
    for key in ("name", "address"):
        part[key] = _string(given, key, "location.")
    if given.get("url") is not None:
        part["url"] = _string(given, "url", "location.")
    return part


def _contacts(given: Any) -> list[dict[str, Any]]:
    if not isinstance(given, list) or not given:
        raise BadInbound("contacts is required (a non-empty list of Meta's contact objects)")
    for contact in given:
        if not isinstance(contact, dict) or not isinstance(contact.get("name"), dict):
            raise BadInbound("each of contacts has a name object")
        _string(contact["name"], "formatted_name", "contacts[].name.")
    return given


def _interactive(given: dict[str, Any]) -> dict[str, Any]:
    kinds = [k for k in ("button_reply", "list_reply") if k in given]
    if len(kinds) != 1 or not isinstance(given[kinds[0]], dict):
        raise BadInbound("interactive holds one of button_reply or list_reply (an object)")
    kind, chosen = kinds[0], given[kinds[0]]
    reply = {"id": _string(chosen, "id", f"{kind}."), "title": _string(chosen, "title", f"{kind}.")}
    if kind == "list_reply" and chosen.get("description") is not None:
        reply["description"] = _string(chosen, "description", f"{kind}.")
    return {"type": kind, kind: reply}


def message_of(state: EmulatorState, body: dict[str, Any], wamid: str) -> dict[str, Any]:
    """Meta's ``messages[]`` item for the control body (BadInbound: why it is refused)."""
    kind = body.get("type", "text")
    if kind not in KINDS:
        raise BadInbound(f"type is one of {', '.join(KINDS)}")
    sender = _string(body, "from")
    if not sender.isdigit():
        raise BadInbound("from is the customer's WhatsApp id (digits)")
    timestamp = body.get("timestamp", int(time.time()))
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise BadInbound("timestamp is Unix seconds (an integer)")
    message: dict[str, Any] = {"from": sender, "id": wamid, "timestamp": str(timestamp)}
    context = body.get("context_message_id")
    if context is not None:
        message["context"] = {"from": "15550000000", "id": _string(body, "context_message_id")}
    elif kind in NEEDS_CONTEXT:
        raise BadInbound(f"a {kind} reply answers a message: context_message_id is required")
    message["type"] = kind
    if kind == "text":
        message["text"] = {"body": _string(body, "text")}
    elif kind in MEDIA_KINDS:
        message[kind] = _media(state, kind, body["phone_number_id"], _object(body, "media"))
    elif kind == "location":
        message["location"] = _location(_object(body, "location"))
    elif kind == "contacts":
        message["contacts"] = _contacts(body.get("contacts"))
    elif kind == "reaction":
        reaction = _object(body, "reaction")
        message["reaction"] = {
            "message_id": _string(reaction, "message_id", "reaction."),
            "emoji": str(reaction.get("emoji", "")),  # empty: the reaction was removed
        }
    elif kind == "button":
        button = _object(body, "button")
        message["button"] = {
            "payload": _string(button, "payload", "button."),
            "text": _string(button, "text", "button."),
        }
    elif kind == "interactive":
        message["interactive"] = _interactive(_object(body, "interactive"))
    else:
        message["errors"] = [
            {
                "code": 131051,
                "title": "Message type unknown",
                "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."},
            }
        ]
    return message


@router.post("/inbound", response_model=None)
async def inbound(request: Request) -> dict[str, str] | JSONResponse:
    """A customer writes to a business number (e.g. "STOP", or a photo)."""
    state: EmulatorState = request.app.state.emulator
    try:
        body = await request.json()
    except ValueError:
        body = None
    try:
        if not isinstance(body, dict):
            raise BadInbound("the body is a JSON object")
        phone_number_id = _string(body, "phone_number_id")
        waba_id = body.get("waba_id") or state.waba_of(phone_number_id)
        if not isinstance(waba_id, str) or not waba_id:
            raise BadInbound("waba_id is required (the number's account is not known)")
        wamid = state.new_wamid()
        message = message_of(state, body, wamid)
    except BadInbound as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    state.customer_wrote(phone_number_id, message["from"], float(message["timestamp"]), wamid=wamid)
    name = body.get("profile_name") if isinstance(body.get("profile_name"), str) else "Customer"
    state.webhooks.enqueue(
        waba_id,
        {
            "field": "messages",
            "value": {
                "messaging_product": "whatsapp",
                "metadata": {
                    "display_phone_number": "15550000000",
                    "phone_number_id": phone_number_id,
                },
                "contacts": [{"profile": {"name": name}, "wa_id": message["from"]}],
                "messages": [message],
            },
        },
    )
    media = message.get(message["type"]) if message["type"] in MEDIA_KINDS else None
    return {"id": wamid, **({"media_id": media["id"]} if media else {})}
