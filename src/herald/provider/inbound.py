"""A customer's message in a webhook (``messages[]`` of a ``messages`` change), every kind
Meta sends (its OpenAPI ``IncomingMessage``), read into one typed ``InboundMessage``: each
kind's own part typed, a kind Herald does not know kept raw. Part of the Meta boundary
(events.py reads the envelope and hands each message here)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# The kinds whose message carries a file at the provider (``MediaMessageProperties``).
MEDIA_KINDS = frozenset({"image", "video", "audio", "document", "sticker"})


@dataclass(frozen=True)
class InboundMedia:
    """A file a customer sent: its id at the provider (``GET /{media-id}`` gives its URL)."""

    provider_media_id: str
    mime_type: str | None
    sha256: str | None  # as Meta gives it (base64 in webhooks)
    caption: str | None = None  # image, video
    filename: str | None = None  # document
    voice: bool | None = None  # audio: recorded in WhatsApp
    animated: bool | None = None  # sticker


@dataclass(frozen=True)
class InboundLocation:
    latitude: float | None
    longitude: float | None
    name: str | None = None
    address: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class InboundReaction:
    message_id: str  # the wamid of the message reacted to
    emoji: str | None  # None: the reaction was removed


@dataclass(frozen=True)
class QuickReplyTap:
    """A template's quick-reply button tapped (``type: button``)."""

    text: str | None
    payload: str | None


@dataclass(frozen=True)
class InteractiveReply:
    """A reply button or a list row chosen (``type: interactive``)."""

    type: str  # button_reply | list_reply
    id: str | None
    title: str | None
    description: str | None = None  # list_reply only


@dataclass(frozen=True)
class InboundMessage:
    """A customer's message to the business number (``messages`` change, ``messages[]``), of
    any kind Meta sends (``IncomingMessage``): each kind's own part is typed, a kind Herald
    does not know is kept raw in ``raw``."""

    waba_id: str
    phone_number_id: str
    provider_message_id: str
    sender: str  # E.164 digits
    kind: str  # text | image | ... | button | interactive | unsupported | ... as Meta names it
    text: str | None  # a text's body, a caption, a tapped button's or chosen item's title
    context_message_id: str | None  # the business message it replies to
    sent_at: datetime | None = None  # when the customer sent it; None when unreadable
    profile_name: str | None = None  # the sender's WhatsApp profile name (``contacts[]``)
    payload: str | None = None  # a quick-reply tap's payload, an interactive reply's id
    media: InboundMedia | None = None
    location: InboundLocation | None = None
    contacts: tuple[dict[str, Any], ...] = ()  # shared contacts (Meta's ``ContactObject``)
    reaction: InboundReaction | None = None
    button: QuickReplyTap | None = None
    interactive: InteractiveReply | None = None
    # A kind without a typed part (unsupported, order, system, unknown ...): Meta's message
    # object as it came, less the envelope fields (from, id, timestamp).
    raw: dict[str, Any] | None = None
    # What came beside the kind's part: a Click-to-WhatsApp ad's ``referral``, a product
    # enquiry's ``context.referred_product``, an unsupported message's ``errors``.
    extra: dict[str, Any] | None = None


def inbound_message(
    waba_id: str, number: str, inbound: dict[str, Any], names: dict[str, str]
) -> InboundMessage | None:
    sender = re.sub(r"\D", "", str(inbound.get("from") or ""))
    wamid = str(inbound.get("id") or "")
    if not sender or not wamid or len(sender) > 15:  # E.164: 15 digits at most
        return None
    kind = str(inbound.get("type") or "unknown")
    context = member(inbound, "context")
    media = _media(member(inbound, kind)) if kind in MEDIA_KINDS else None
    button = _button(member(inbound, "button")) if kind == "button" else None
    interactive = _interactive(member(inbound, "interactive")) if kind == "interactive" else None
    typed = kind in _TYPED_KINDS
    return InboundMessage(
        waba_id=waba_id,
        phone_number_id=number,
        provider_message_id=wamid,
        sender=sender,
        kind=kind,
        text=_inboundoptional_text(kind, inbound, button, interactive),
        context_message_id=optional_text(context.get("id")),
        sent_at=unix_time(inbound.get("timestamp")),
        profile_name=names.get(sender) or (next(iter(names.values())) if len(names) == 1 else None),
        payload=button.payload if button else interactive.id if interactive else None,
        media=media,
        location=_location(member(inbound, "location")) if kind == "location" else None,
        contacts=_contacts(inbound.get("contacts")) if kind == "contacts" else (),
        reaction=_reaction(member(inbound, "reaction")) if kind == "reaction" else None,
        button=button,
        interactive=interactive,
        raw=None if typed else {k: v for k, v in inbound.items() if k not in _ENVELOPE},
        extra=_extra(inbound, context) if typed else None,
    )


_TYPED_KINDS = MEDIA_KINDS | {"text", "location", "contacts", "reaction", "button", "interactive"}
_ENVELOPE = ("from", "id", "timestamp", "context")


def profile_names(value: dict[str, Any]) -> dict[str, str]:
    """Each sender's profile name, by wa_id (``contacts[]`` beside the messages)."""
    names: dict[str, str] = {}
    for contact in value.get("contacts") or []:
        if isinstance(contact, dict):
            name = optional_text(member(contact, "profile").get("name"))
            wa_id = re.sub(r"\D", "", str(contact.get("wa_id") or ""))
            if name is not None:
                names[wa_id] = name
    return names


def _inboundoptional_text(
    kind: str,
    inbound: dict[str, Any],
    button: QuickReplyTap | None,
    interactive: InteractiveReply | None,
) -> str | None:
    if kind == "text":
        return optional_text(member(inbound, "text").get("body"))
    if button is not None:
        return button.text or button.payload
    if interactive is not None:
        return interactive.title or interactive.id
    if kind in MEDIA_KINDS:
        return optional_text(member(inbound, kind).get("caption"))
    return None


def _media(part: dict[str, Any]) -> InboundMedia | None:
    media_id = optional_text(part.get("id"))
    if media_id is None:
        return None
    return InboundMedia(
        provider_media_id=media_id,
        mime_type=optional_text(part.get("mime_type")),
        sha256=optional_text(part.get("sha256")),
        caption=optional_text(part.get("caption")),
        filename=optional_text(part.get("filename")),
        voice=_flag(part.get("voice")),
        animated=_flag(part.get("animated")),
    )


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _location(part: dict[str, Any]) -> InboundLocation:
    return InboundLocation(
        latitude=_number(part.get("latitude")),
        longitude=_number(part.get("longitude")),
        name=optional_text(part.get("name")),
        address=optional_text(part.get("address")),
        url=optional_text(part.get("url")),
    )


def _contacts(value: Any) -> tuple[dict[str, Any], ...]:
    return tuple(c for c in value if isinstance(c, dict)) if isinstance(value, list) else ()


def _reaction(part: dict[str, Any]) -> InboundReaction:
    return InboundReaction(str(part.get("message_id") or ""), optional_text(part.get("emoji")))


def _button(part: dict[str, Any]) -> QuickReplyTap:
    return QuickReplyTap(optional_text(part.get("text")), optional_text(part.get("payload")))


def _interactive(part: dict[str, Any]) -> InteractiveReply:
    kind = str(part.get("type") or "")
    if kind not in ("button_reply", "list_reply"):
        kind = "list_reply" if "list_reply" in part else "button_reply"
    chosen = member(part, kind)
    return InteractiveReply(
        kind,
        optional_text(chosen.get("id")),
        optional_text(chosen.get("title")),
        optional_text(chosen.get("description")),
    )


def _extra(inbound: dict[str, Any], context: dict[str, Any]) -> dict[str, Any] | None:
    extra: dict[str, Any] = {}
    if isinstance(inbound.get("referral"), dict):
        extra["referral"] = inbound["referral"]
    if isinstance(context.get("referred_product"), dict):
        extra["referred_product"] = context["referred_product"]
    if isinstance(inbound.get("errors"), list):
        extra["errors"] = inbound["errors"]
    return extra or None


def optional_text(value: Any) -> str | None:
    return str(value) if value is not None and value != "" else None


def unix_time(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def member(parent: dict[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key)
    return value if isinstance(value, dict) else {}
