"""A free-form send's payload (text, media, interactive) against Meta's contract: the shapes of
Meta's OpenAPI (v23.0: ``TextMessage`` / ``TextMessage_1``, ``MediaObject`` / ``MediaObject_1``,
``InteractiveObject`` and its ``HeaderObject``, ``BodyObject``, ``FooterObject``,
``ActionObject``, ``SectionObject``; ``MessageContext``) with their limits, and the customer's
24-hour window (131047 outside it). Listed in docs/emulator.md ("What a free-form send is
checked for"). The codes are Meta's, as ``send_shape``'s: 100 for a member of the wrong type,
outside its enum or not in the schema, 131008 for a required member left out, 131009 for a
value out of its range."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from herald.emulator.send_shape import (
    INVALID_PARAMETER,
    PARAMETER_MISSING,
    PARAMETER_VALUE_INVALID,
    Refused,
    check_media,
    check_recipient,
)
from herald.emulator.state import EmulatorState

OUTSIDE_WINDOW = 131047  # "Re-engagement message"
MEDIA_UNAVAILABLE = 131053

FREE_FORM_TYPES = ("text", "image", "video", "audio", "document", "interactive")
_ENVELOPE = (
    "messaging_product",
    "recipient_type",
    "to",
    "type",
    "context",
    "biz_opaque_callback_data",
)
# What each media type's object may hold (MediaObject_1 has no caption for audio, and only
# a document has a file name).
_MEDIA_MEMBERS = {
    "image": ("id", "link", "caption"),
    "video": ("id", "link", "caption"),
    "audio": ("id", "link"),
    "document": ("id", "link", "caption", "filename"),
}
# Meta's "Supported media types" for an uploaded file sent as each type.
_MIME_TYPES = {
    "image": ("image/jpeg", "image/png"),
    "video": ("video/mp4", "video/3gpp"),
    "audio": ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"),
    "document": (
        "text/plain",
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
}
TEXT_MAX = 4096
CAPTION_MAX = 1024


@dataclass(frozen=True)
class SentFreeForm:
    to: str  # digits only
    type: str


def is_free_form(payload: Any) -> bool:
    return isinstance(payload, dict) and payload.get("type") in FREE_FORM_TYPES


def read_free_form(
    state: EmulatorState, payload: dict[str, Any], phone_number_id: str
) -> SentFreeForm:
    """The send, or ``Refused`` naming the first member that breaks Meta's contract."""
    to = check_recipient(payload)
    kind = str(payload["type"])
    extra = sorted(set(payload) - {*_ENVELOPE, kind})
    if extra:
        raise Refused(INVALID_PARAMETER, f"a {kind} message does not take {', '.join(extra)}")
    part = payload.get(kind)
    if not isinstance(part, dict):
        raise Refused(PARAMETER_MISSING, f"a {kind} message needs its {kind} object")
    context = payload.get("context")
    if context is not None and (
        not isinstance(context, dict)
        or set(context) != {"message_id"}
        or not _text(context["message_id"])
    ):
        raise Refused(INVALID_PARAMETER, "context takes message_id, a message's id")
    if kind == "text":
        _check_text(part)
    elif kind == "interactive":
        _check_interactive(part)
    else:
        _check_media(state, kind, part, phone_number_id)
    return SentFreeForm(to, kind)


def check_window(state: EmulatorState, phone_number_id: str, sent: SentFreeForm) -> None:
    if not state.window_open(phone_number_id, sent.to):
        raise Refused(
            OUTSIDE_WINDOW,
            "Message failed to send because more than 24 hours have passed since the customer "
            "last replied to this number.",
        )


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _only(part: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    extra = sorted(set(part) - set(allowed))
    if extra:
        raise Refused(INVALID_PARAMETER, f"{where} does not take {', '.join(extra)}")


def _string(part: dict[str, Any], member: str, where: str, limit: int, required: bool) -> None:
    if member not in part:
        if required:
            raise Refused(PARAMETER_MISSING, f"{where} needs {member}")
        return
    value = part[member]
    if not _text(value):
        raise Refused(INVALID_PARAMETER, f"{where}.{member} must be a non-empty string")
    if len(value) > limit:
        raise Refused(PARAMETER_VALUE_INVALID, f"{where}.{member} is over {limit} characters")


def _check_text(part: dict[str, Any]) -> None:
    _only(part, ("body", "preview_url"), "text")
    _string(part, "body", "text", TEXT_MAX, required=True)
    if "preview_url" in part and not isinstance(part["preview_url"], bool):
        raise Refused(INVALID_PARAMETER, "text.preview_url must be a boolean")


def _check_media(
    state: EmulatorState, kind: str, part: dict[str, Any], phone_number_id: str
) -> None:
    _only(part, _MEDIA_MEMBERS[kind], kind)
    check_media(part, kind)
    _string(part, "caption", kind, CAPTION_MAX, required=False)
    _string(part, "filename", kind, 240, required=False)
    if "id" in part:
        known = state.media.get(str(part["id"]))
        if known is None or known.expired or known.phone_number_id != phone_number_id:
            raise Refused(MEDIA_UNAVAILABLE, "the media id is unknown, expired or another number's")
        if known.mime_type not in _MIME_TYPES[kind]:
            raise Refused(
                MEDIA_UNAVAILABLE, f"a {kind} message cannot carry a file of {known.mime_type}"
            )


def _check_interactive(part: dict[str, Any]) -> None:
    _only(part, ("type", "header", "body", "footer", "action"), "interactive")
    kind = part.get("type")
    if kind is None:
        raise Refused(PARAMETER_MISSING, "interactive needs type")
    if kind not in ("button", "list"):
        raise Refused(INVALID_PARAMETER, "interactive.type: the emulator takes button or list")
    for member in ("body", "action"):
        if not isinstance(part.get(member), dict):
            raise Refused(PARAMETER_MISSING, f"interactive needs its {member} object")
    _only(part["body"], ("text",), "interactive.body")
    _string(part["body"], "text", "interactive.body", 1024, required=True)
    if "footer" in part:
        footer = part["footer"]
        if not isinstance(footer, dict):
            raise Refused(INVALID_PARAMETER, "interactive.footer must be an object")
        _only(footer, ("text",), "interactive.footer")
        _string(footer, "text", "interactive.footer", 60, required=True)
    if "header" in part:
        header = part["header"]
        if not isinstance(header, dict) or header.get("type") != "text":
            raise Refused(INVALID_PARAMETER, "interactive.header: the emulator takes a text header")
        _only(header, ("type", "text"), "interactive.header")
        _string(header, "text", "interactive.header", 60, required=True)
    if kind == "button":
        _check_buttons(part["action"])
    else:
        _check_list(part["action"])


def _check_buttons(action: dict[str, Any]) -> None:
    _only(action, ("buttons",), "interactive.action")
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise Refused(PARAMETER_MISSING, "interactive.action needs buttons")
    if len(buttons) > 3:
        raise Refused(PARAMETER_VALUE_INVALID, "interactive.action.buttons: at most 3")
    ids, titles = [], []
    for position, button in enumerate(buttons):
        where = f"interactive.action.buttons[{position}]"
        if not isinstance(button, dict) or button.get("type") != "reply":
            raise Refused(INVALID_PARAMETER, f"{where}.type must be reply")
        reply = button.get("reply")
        if not isinstance(reply, dict):
            raise Refused(PARAMETER_MISSING, f"{where} needs reply")
        _only(button, ("type", "reply"), where)
        _only(reply, ("id", "title"), f"{where}.reply")
        _string(reply, "id", f"{where}.reply", 256, required=True)
        _string(reply, "title", f"{where}.reply", 20, required=True)
        if reply["id"] != reply["id"].strip():
            raise Refused(PARAMETER_VALUE_INVALID, f"{where}.reply.id has spaces around it")
        ids.append(reply["id"])
        titles.append(reply["title"])
    if len(set(ids)) < len(ids) or len(set(titles)) < len(titles):
        raise Refused(PARAMETER_VALUE_INVALID, "each button's id and title must be unique")


def _check_list(action: dict[str, Any]) -> None:
    _only(action, ("button", "sections"), "interactive.action")
    _string(action, "button", "interactive.action", 20, required=True)
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise Refused(PARAMETER_MISSING, "interactive.action needs sections")
    if len(sections) > 10:
        raise Refused(PARAMETER_VALUE_INVALID, "interactive.action.sections: at most 10")
    ids: list[str] = []
    for position, section in enumerate(sections):
        where = f"interactive.action.sections[{position}]"
        if not isinstance(section, dict):
            raise Refused(INVALID_PARAMETER, f"{where} must be an object")
        _only(section, ("title", "rows"), where)
        _string(section, "title", where, 24, required=len(sections) > 1)
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise Refused(PARAMETER_MISSING, f"{where} needs rows")
        for number, row in enumerate(rows):
            at = f"{where}.rows[{number}]"
            if not isinstance(row, dict):
                raise Refused(INVALID_PARAMETER, f"{at} must be an object")
            _only(row, ("id", "title", "description"), at)
            _string(row, "id", at, 200, required=True)
            _string(row, "title", at, 24, required=True)
            _string(row, "description", at, 72, required=False)
            ids.append(row["id"])
    if len(ids) > 10:
        raise Refused(PARAMETER_VALUE_INVALID, "a list has at most 10 rows in all")
    if len(set(ids)) < len(ids):
        raise Refused(PARAMETER_VALUE_INVALID, "each row's id must be unique")
