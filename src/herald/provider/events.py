"""Meta's webhook deliveries as typed events: the only code that reads a webhook's JSON.

Shapes: Meta's OpenAPI (``WebhookPayload``, ``StatusMessageValue``, ``IncomingMessage``) and
whatsapp-cloud-api.md ("Webhooks Meta sends to Herald"); a number's health (quality, limit,
restrictions): Meta's webhook reference pages, see account_events.py. Meta adds fields and
kinds freely: whatever Herald does not know is skipped, never an error; only a body that is not
Meta's envelope at all is refused (``parse_webhook``), so that the stored event is set aside.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson

from herald.provider import account_events
from herald.provider.account_events import AccountEvent
from herald.provider.errors import ProviderError, error_from_meta
from herald.provider.inbound import InboundMessage as InboundMessage
from herald.provider.inbound import inbound_message, profile_names
from herald.provider.inbound import member as _object
from herald.provider.inbound import optional_text as _text
from herald.provider.inbound import unix_time as _timestamp


class DeliveryStatus(StrEnum):
    """A sent message's status as Meta reports it (Herald's states of the same names)."""

    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


_DELIVERY_STATUSES = {status.value: status for status in DeliveryStatus}


@dataclass(frozen=True)
class Pricing:
    """What Meta charges for a message, as a status gives it (``Pricing``): whether it is
    billable, Meta's pricing category (marketing, utility, authentication, service ...: kept as
    Meta writes it, lower-cased, whatever new ones it adds) and the pricing model (CBP, PMP)."""

    billable: bool | None
    category: str | None
    model: str | None


@dataclass(frozen=True)
class MessageStatus:
    """A status of a message Herald sent (``messages`` change, ``statuses[]``)."""

    waba_id: str
    phone_number_id: str
    provider_message_id: str  # the wamid; "" when Meta left it out
    callback_data: str  # what the send put in biz_opaque_callback_data (Herald's message id)
    status: DeliveryStatus
    at: datetime | None  # when it happened at Meta; None when the timestamp is unreadable
    # A failed status's errors, classified as a refused send's would be (errors.py).
    errors: tuple[ProviderError, ...] = ()
    pricing: Pricing | None = None  # None when the status carries none

    @property
    def error(self) -> ProviderError | None:
        return self.errors[0] if self.errors else None


class TemplateStatus(StrEnum):
    """A template's status at the provider, as a status update leaves it."""

    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    PENDING = "PENDING"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"
    DELETED = "DELETED"  # deleted, or being deleted: never to be sent again


FLAGGED = "FLAGGED"  # a warning (negative feedback, at risk of a pause): the status stays
# Meta's events and the status each leaves the template in (None: as it was). The others
# (LOCKED, ARCHIVED, LIMIT_EXCEEDED ...) say nothing of whether it can be sent: skipped.
_TEMPLATE_EVENTS: dict[str, TemplateStatus | None] = {
    **{status.value: status for status in TemplateStatus},
    "REINSTATED": TemplateStatus.APPROVED,  # active again after a pause or a flag
    "PENDING_DELETION": TemplateStatus.DELETED,  # deleted in WhatsApp Manager, going away
    "IN_APPEAL": TemplateStatus.PENDING,  # a rejection appealed: in review again
    FLAGGED: None,
}


@dataclass(frozen=True)
class TemplateStatusUpdate:
    """Meta's review or quality verdict on a template (``message_template_status_update``)."""

    waba_id: str
    status: TemplateStatus | None  # None: the event leaves the status as it was (FLAGGED)
    provider_template_id: str | None
    name: str | None
    language: str | None
    reason: str | None  # a rejection's reason; None when Meta gives none ("NONE")
    event: str = ""  # Meta's own name for it: REINSTATED, FLAGGED, PENDING_DELETION ...
    # Meta's words beyond the reason: a pause's ``other_info`` (title: description), a
    # rejection's ``rejection_info`` reason.
    detail: str | None = None


@dataclass(frozen=True)
class TemplateQualityUpdate:
    """A template's quality rating changed (``message_template_quality_update``)."""

    waba_id: str
    provider_template_id: str | None
    name: str | None
    language: str | None
    previous_score: str | None  # GREEN | YELLOW | RED | UNKNOWN
    new_score: str | None


@dataclass(frozen=True)
class TemplateCategoryUpdate:
    """Meta moved a template to another category (``template_category_update``)."""

    waba_id: str
    provider_template_id: str | None
    name: str | None
    language: str | None
    previous_category: str | None
    new_category: str | None


ProviderEvent = (
    MessageStatus
    | InboundMessage
    | TemplateStatusUpdate
    | TemplateQualityUpdate
    | TemplateCategoryUpdate
    | AccountEvent
)

# A number's and an account's health (account_events.py): field → its reader.
_ACCOUNT_FIELDS = {
    "phone_number_quality_update": account_events.quality_update,
    "account_update": account_events.account_update,
    "business_capability_update": account_events.capability_update,
}


def parse_webhook(payload: str | bytes) -> list[ProviderEvent]:
    """Every event one delivery carries, in the order Meta wrote them (per ``messages``
    change: its statuses, then its inbound messages)."""
    envelope = orjson.loads(payload)
    if not isinstance(envelope, dict):
        # An AttributeError, as reading such a body with ``.get`` always raised: the name a
        # set-aside event's ``last_error`` has always shown stays the same.
        raise AttributeError(f"a webhook body is a JSON object, not {type(envelope).__name__}")
    events: list[ProviderEvent] = []
    for waba_id, field, value in _changes(envelope):
        if field == "messages":
            events.extend(_messages_change(waba_id, value))
        elif field == "message_template_status_update":
            update = _template_status(waba_id, value)
            if update is not None:
                events.append(update)
        elif field == "message_template_quality_update":
            events.append(_template_quality(waba_id, value))
        elif field == "template_category_update":
            events.append(_template_category(waba_id, value))
        elif field in _ACCOUNT_FIELDS:
            account_event = _ACCOUNT_FIELDS[field](waba_id, value)
            if account_event is not None:
                events.append(account_event)
    return events


def webhook_accounts(envelope: Any) -> list[str]:
    """The business account ids a delivery's entries name (checked before it is stored)."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("entry"), list):
        return []
    return [str(entry.get("id")) for entry in envelope["entry"] if isinstance(entry, dict)]


def _changes(envelope: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for entry in envelope.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        for change in entry.get("changes") or []:
            if isinstance(change, dict) and isinstance(change.get("value"), dict):
                yield str(entry.get("id")), str(change.get("field")), change["value"]


def _messages_change(waba_id: str, value: dict[str, Any]) -> Iterator[ProviderEvent]:
    metadata = value.get("metadata")
    number = _text(metadata.get("phone_number_id")) if isinstance(metadata, dict) else None
    if number is None:
        return
    for status in value.get("statuses") or []:
        if isinstance(status, dict):
            parsed = _status(waba_id, number, status)
            if parsed is not None:
                yield parsed
    names = profile_names(value)
    for inbound in value.get("messages") or []:
        if isinstance(inbound, dict):
            message = inbound_message(waba_id, number, inbound, names)
            if message is not None:
                yield message


def _status(waba_id: str, number: str, status: dict[str, Any]) -> MessageStatus | None:
    kind = _DELIVERY_STATUSES.get(str(status.get("status", "")).lower())
    if kind is None:
        return None  # a status Herald does not follow (deleted, warning, ...)
    errors = tuple(
        error_from_meta(error, title_keys=("title", "message"), default_title="")
        for error in status.get("errors") or []
        if isinstance(error, dict)
    )
    return MessageStatus(
        waba_id=waba_id,
        phone_number_id=number,
        provider_message_id=str(status.get("id") or ""),
        callback_data=str(status.get("biz_opaque_callback_data") or ""),
        status=kind,
        at=_timestamp(status.get("timestamp")),
        errors=errors,
        pricing=_pricing(status.get("pricing")),
    )


def _pricing(value: Any) -> Pricing | None:
    """A status's pricing; None when it has none, or nothing of it is readable."""
    if not isinstance(value, dict):
        return None
    billable = value.get("billable")
    category, model = _text(value.get("category")), _text(value.get("pricing_model"))
    pricing = Pricing(
        billable=billable if isinstance(billable, bool) else None,
        category=category.lower()[:40] if category else None,
        model=model.upper()[:8] if model else None,
    )
    return None if pricing == Pricing(None, None, None) else pricing


def _template_fields(value: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    return (
        _text(value.get("message_template_id")),
        _text(value.get("message_template_name")),
        _text(value.get("message_template_language")),
    )


def _template_status(waba_id: str, value: dict[str, Any]) -> TemplateStatusUpdate | None:
    event = str(value.get("event", "")).upper()
    if event not in _TEMPLATE_EVENTS:
        return None
    reason = _text(value.get("reason"))
    return TemplateStatusUpdate(
        waba_id,
        _TEMPLATE_EVENTS[event],
        *_template_fields(value),
        reason=None if reason is None or reason.upper() == "NONE" else reason,
        event=event,
        detail=_status_detail(value),
    )


def _status_detail(value: dict[str, Any]) -> str | None:
    other = _object(value, "other_info")
    title, description = _text(other.get("title")), _text(other.get("description"))
    if title or description:
        return ": ".join(part for part in (title, description) if part)
    return _text(_object(value, "rejection_info").get("reason"))


def _template_quality(waba_id: str, value: dict[str, Any]) -> TemplateQualityUpdate:
    return TemplateQualityUpdate(
        waba_id,
        *_template_fields(value),
        previous_score=_text(value.get("previous_quality_score")),
        new_score=_text(value.get("new_quality_score")),
    )


def _template_category(waba_id: str, value: dict[str, Any]) -> TemplateCategoryUpdate:
    return TemplateCategoryUpdate(
        waba_id,
        *_template_fields(value),
        previous_category=_text(value.get("previous_category")),
        new_category=_text(value.get("new_category")),
    )
