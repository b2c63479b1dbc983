"""A free-form send's payload (text, media, interactive) against Meta's contract: the shapes
of Meta's OpenAPI (v23.0: ``TextMessage`` / ``TextMessage_1``, ``MediaObject`` /
``MediaObject_1``, ``MessageContext``; ``InteractiveObject`` in ``send_interactive``) with
their limits, and the customer's 24-hour window (131047 outside it). Listed in
docs/emulator.md ("What a free-form send is checked for"). The codes are Meta's, as
``send_shape``'s: 100 for a member of the wrong type, outside its enum or not in the schema,
131008 for a required member left out, 131009 for a value out of its range."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from herald.emulator.send_interactive import MediaCheck, check_interactive
from herald.emulator.send_shape import (
    INVALID_PARAMETER,
    PARAMETER_MISSING,
    Refused,
    check_media,
    check_recipient,
    non_empty_text,
    only,
    string,
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
        or not non_empty_text(context["message_id"])
    ):
        raise Refused(INVALID_PARAMETER, "context takes message_id, a message's id")
    if kind == "text":
        _check_text(part)
    elif kind == "interactive":
        check_interactive(part, _header_media(state, phone_number_id))
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


def _check_text(part: dict[str, Any]) -> None:
    only(part, ("body", "preview_url"), "text")
    string(part, "body", "text", TEXT_MAX, required=True)
    if "preview_url" in part and not isinstance(part["preview_url"], bool):
        raise Refused(INVALID_PARAMETER, "text.preview_url must be a boolean")


def _check_media(
    state: EmulatorState, kind: str, part: dict[str, Any], phone_number_id: str
) -> None:
    only(part, _MEDIA_MEMBERS[kind], kind)
    string(part, "caption", kind, CAPTION_MAX, required=False)
    string(part, "filename", kind, 240, required=False)
    _check_file(state, kind, part, kind, phone_number_id)


def _header_media(state: EmulatorState, phone_number_id: str) -> MediaCheck:
    """An interactive header's file: a MediaObject (``id`` or ``link``, nothing else), checked
    as a media message's file of its kind."""

    def check(kind: str, media: dict[str, Any], where: str) -> None:
        only(media, ("id", "link"), where)
        _check_file(state, kind, media, where, phone_number_id)

    return check


def _check_file(
    state: EmulatorState, kind: str, part: dict[str, Any], where: str, phone_number_id: str
) -> None:
    check_media(part, where)
    if "id" in part:
        known = state.media.get(str(part["id"]))
        if known is None or known.expired or known.phone_number_id != phone_number_id:
            raise Refused(MEDIA_UNAVAILABLE, "the media id is unknown, expired or another number's")
        if known.mime_type not in _MIME_TYPES[kind]:
            raise Refused(
                MEDIA_UNAVAILABLE, f"a {kind} message cannot carry a file of {known.mime_type}"
            )
