"""A message as the API shows it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Row

from herald.kit.clock import iso_utc
from herald.message.schemas import (
    MessageError,
    MessageOut,
    MessagePricing,
    MessageState,
    MessageType,
)
from herald.models import Message
from herald.models.message import TEMPLATE


def message_out(message: Message | Row[Any]) -> MessageOut:
    """From a message, or from a history row (``repository.HISTORY_COLUMNS``)."""
    error = (
        MessageError(
            code=message.error_code, title=message.error_title, detail=message.error_detail
        )
        if message.error_code
        else None
    )
    return MessageOut(
        id=message.id,
        whatsapp_bulk_group_id=message.whatsapp_bulk_group_id,
        type=cast(MessageType, message.kind or TEMPLATE),
        template_id=message.template_id,
        template_name=message.template_name,
        contact_id=message.contact_id,
        phone_number=message.phone_number,
        country_code=message.country_code,
        state=cast(MessageState, message.state),
        error=error,
        provider_message_id=message.provider_message_id,
        created_at=message.created_at,
        scheduled_at=message.scheduled_at,
        sent_date=message.sent_at,
        delivered_at=message.delivered_at,
        read_at=message.read_at,
        failed_at=message.failed_at,
        held_reason=message.held_reason,
        pricing=(
            MessagePricing(
                billable=message.billable,
                category=message.pricing_category,
                model=message.pricing_model,
            )
            if _priced(message.billable, message.pricing_category, message.pricing_model)
            else None
        ),
    )


def _priced(*values: object) -> bool:
    return any(value is not None for value in values)


def _pricing_json(row: Row[Any]) -> dict[str, Any] | None:
    if not _priced(row.billable, row.pricing_category, row.pricing_model):
        return None
    return {"billable": row.billable, "category": row.pricing_category, "model": row.pricing_model}


def message_data(message: Message) -> dict[str, Any]:
    """``message_out`` in JSON: the ``data`` of a message's status callback."""
    return message_out(message).model_dump(mode="json")


def _utc(moment: datetime) -> str:
    """``iso_utc``, faster for what a UTC column reads back (aware, in UTC): a page has up to
    120 times to write, and ``strftime`` was a third of writing its items. Any other value
    takes ``iso_utc`` itself."""
    if moment.tzinfo is UTC and moment.year >= 1000:  # below, strftime does not pad the year
        return moment.isoformat(timespec="seconds")[:19] + "Z"
    return iso_utc(moment)


def _when(moment: datetime | None) -> str | None:
    return _utc(moment) if moment is not None else None


def message_json(row: Row[Any]) -> dict[str, Any]:
    """A history row (``repository.HISTORY_COLUMNS``) as ``MessageOut`` renders it in JSON.

    Written out rather than validated through the model: building twenty models, validating
    them again as the response model and dumping that was 5% of a request's samples under
    load. ``tests/message/test_history.py`` holds it to the model's JSON, field for field.
    """
    return {
        "id": row.id,
        "whatsapp_bulk_group_id": row.whatsapp_bulk_group_id,
        "type": row.kind,
        "template_id": row.template_id,
        "template_name": row.template_name,
        "contact_id": row.contact_id,
        "phone_number": row.phone_number,
        "country_code": row.country_code,
        "state": row.state,
        "error": (
            {"code": row.error_code, "title": row.error_title, "detail": row.error_detail}
            if row.error_code
            else None
        ),
        "provider_message_id": row.provider_message_id,
        "created_at": _utc(row.created_at),
        "scheduled_at": _when(row.scheduled_at),
        "sent_date": _when(row.sent_at),
        "delivered_at": _when(row.delivered_at),
        "read_at": _when(row.read_at),
        "failed_at": _when(row.failed_at),
        "held_reason": row.held_reason,
        "pricing": _pricing_json(row),
    }


def queued_json(message_id: int, row: Mapping[str, Any]) -> dict[str, Any]:
    """A message just stored from its row (``service.new_row``), as ``message_out`` renders it
    in JSON: queued, so no error, provider id or delivery times yet. Written out for the same
    reason as ``message_json``: the model, and the ORM object before it, were a tenth of a
    single send's samples (py-spy)."""
    return {
        "id": message_id,
        "whatsapp_bulk_group_id": row["whatsapp_bulk_group_id"],
        "type": row.get("kind", TEMPLATE),
        "template_id": row["template_id"],
        "template_name": row["template_name"],
        "contact_id": row["contact_id"],
        "phone_number": row["phone_number"],
        "country_code": row["country_code"],
        "state": row["state"],
        "error": None,
        "provider_message_id": None,
        "created_at": _utc(row["created_at"]),
        "scheduled_at": _when(row["scheduled_at"]),
        "sent_date": None,
        "delivered_at": None,
        "read_at": None,
        "failed_at": None,
        "held_reason": row.get("held_reason"),
        "pricing": None,
    }
