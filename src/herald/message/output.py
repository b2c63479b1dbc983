"""A message as the API shows it."""

from __future__ import annotations

from typing import cast

from herald.message.schemas import MessageError, MessageOut, MessageState
from herald.models import Message


def message_out(message: Message) -> MessageOut:
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
    )
