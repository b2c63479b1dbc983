"""Receiving Herald's callbacks (message.status, template.updated, message.received):
``construct_event`` checks a delivery's Standard Webhooks signature and age, then returns the
event, typed.

Herald signs ``"{webhook-id}.{webhook-timestamp}.{raw body}"`` with HMAC-SHA256 and sends
``webhook-signature: v1,<base64>``, one per secret in force (two while a rotation overlaps),
space-separated. The timestamp is part of what is signed, so a captured delivery replayed later
is refused once it is older than the tolerance; ``webhook-id`` is the event's id, the same on
every retry, to deduplicate on.

Written here rather than taken from the ``standardwebhooks`` package: that one fixes the
tolerance at five minutes, takes one secret at a time and reads the system clock, and a client
library is better with no dependency beyond httpx.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict

from herald_client.errors import SignatureVerificationError
from herald_client.models import Category, Message, TemplateState

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADERS = "webhook-signature"
DEFAULT_TOLERANCE = 300  # seconds, either way: Standard Webhooks' own default
SECRET_PREFIX = "whsec_"  # noqa: S105 - the marker of the format, not a secret
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


class MessageStatusEvent(TypedDict):
    """A message reached ``data["state"]``; ``data`` is the message as of that state (later
    timestamps are None in it). ``id`` is ``evt_<message id>_<state>``."""

    id: str
    type: Literal["message.status"]
    created_at: str
    data: Message


class TemplateChange(TypedDict):
    """A template as of one change (``template.updated``): ``previous`` holds the values the
    change replaced (state, category, quality, rejection_reason, flagged_at), only those;
    ``reason`` what changed it (Meta's status event such as ``PAUSED``, or ``QUALITY``,
    ``CATEGORY``, ``SYNC``, ``SEND_REFUSED``); ``detail`` Meta's own words, if any."""

    id: int
    name: str
    language: str
    state: TemplateState
    category: Category
    previous_category: str | None
    quality: str | None
    rejection_reason: str | None
    flagged_at: str | None
    updated_at: str
    previous: dict[str, Any]
    reason: str
    detail: str | None


class TemplateUpdatedEvent(TypedDict):
    """One change Meta (or Herald's sync) made to a template; ``id`` is
    ``evt_template_<template id>_<random>``."""

    id: str
    type: Literal["template.updated"]
    created_at: str
    data: TemplateChange


class ReceivedMedia(TypedDict):
    """A customer's file, in Herald's media store: ``url`` is Herald's path serving its bytes
    (``GET``, with your credentials), relative to Herald's base URL."""

    id: int
    url: str
    mime_type: str
    size: int
    filename: str


# A customer's message (``message.received``). ``from`` is the customer's number (E.164
# digits). ``kind`` is Meta's: text, image, video, audio, document, sticker, location,
# contacts, reaction, button (a quick-reply tap: its ``payload``), interactive (a reply button
# or list row: its id in ``payload``), or another kept as Meta sent it in ``details``.
# ``media`` is None without a file, or when it could not be fetched (``media_status``
# failed). ``reply_to_message_id`` is Herald's message it answers (``context_message_id`` its
# wamid). A functional TypedDict: ``from`` is a Python keyword.
ReceivedMessage = TypedDict(
    "ReceivedMessage",
    {
        "id": int,
        "channel_id": int,
        "from": str,
        "contact_id": int | None,
        "kind": str,
        "text": str | None,
        "payload": str | None,
        "details": dict[str, Any] | None,
        "media": ReceivedMedia | None,
        "media_status": Literal["stored", "failed"] | None,
        "reply_to_message_id": int | None,
        "context_message_id": str | None,
        "received_at": str,
        "window_expires_at": str,
    },
)


class MessageReceivedEvent(TypedDict):
    """A customer wrote to one of your numbers; ``id`` is ``evt_received_<inbound id>``, the
    same on every retry."""

    id: str
    type: Literal["message.received"]
    created_at: str
    data: ReceivedMessage


# Tell them apart by ``event["type"]``.
CallbackEvent = MessageStatusEvent | TemplateUpdatedEvent | MessageReceivedEvent


def construct_event(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str | Sequence[str],
    tolerance: float = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> CallbackEvent:
    """The event of a delivery whose signature is Herald's and whose timestamp is within
    ``tolerance`` seconds of ``now`` (Unix seconds, default the system clock); otherwise
    ``SignatureVerificationError``.

    Pass the body exactly as received, before any JSON parsing (re-serialising changes it), and
    the request's headers (any letter case). ``secret`` may be several, newest first, while you
    switch after a rotation. Comparisons take the same time wherever a difference is.
    """
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets or not all(secrets):
        raise ValueError("construct_event needs the callback's secret")
    raw = body.encode() if isinstance(body, str) else body
    lowered = {name.lower(): value for name, value in headers.items()}
    event_id = lowered.get(ID_HEADER, "")
    stamp = lowered.get(TIMESTAMP_HEADER, "").strip()
    given = lowered.get(SIGNATURE_HEADERS, "").split()
    if not event_id or not stamp or not given:
        raise SignatureVerificationError(
            f"missing {ID_HEADER}, {TIMESTAMP_HEADER} or {SIGNATURE_HEADERS} header"
        )
    if not stamp.isdigit():
        raise SignatureVerificationError(f"{TIMESTAMP_HEADER} is not Unix seconds")
    age = (time.time() if now is None else now) - int(stamp)
    if abs(age) > tolerance:
        raise SignatureVerificationError(
            f"the delivery is {age:.0f} s old, more than the {tolerance:g} s tolerated: "
            "a replay, or a clock out of step"
        )
    signed = f"{event_id}.{stamp}.".encode() + raw
    offered = [value.removeprefix("v1,").encode() for value in given if value.startswith("v1,")]
    expected = [_signature(signing_key(s), signed).encode() for s in secrets]
    # Every pair is compared, so the time taken does not say which one matched.
    if not sum(hmac.compare_digest(e, o) for e in expected for o in offered):
        raise SignatureVerificationError("no signature made with the given secret")
    return _event(raw)


def sign_event(secret: str, event_id: str, timestamp: int, body: bytes | str) -> dict[str, str]:
    """The Standard Webhooks headers Herald would send (useful to test a receiver)."""
    raw = body.encode() if isinstance(body, str) else body
    signed = f"{event_id}.{timestamp}.".encode() + raw
    return {
        ID_HEADER: event_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADERS: "v1," + _signature(signing_key(secret), signed),
    }


def signing_key(secret: str) -> bytes:
    """The HMAC key of a secret, as Herald derives it: the bytes a ``whsec_<base64>`` secret
    encodes, else the secret's UTF-8 bytes (secrets users chose, or generated before base64)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    if secret.startswith(SECRET_PREFIX) and _BASE64.fullmatch(encoded):
        try:
            key = base64.b64decode(encoded + "==")  # padding optional
        except binascii.Error:  # a length no base64 has (4n + 1 characters)
            key = b""
        if key:
            return key
    return secret.encode()


def _signature(key: bytes, signed: bytes) -> str:
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _event(raw: bytes) -> CallbackEvent:
    try:
        event = json.loads(raw)
    except ValueError:
        raise SignatureVerificationError("the body is not JSON") from None
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        raise SignatureVerificationError("the body is not an event")
    return event  # type: ignore[return-value]
