"""SQL for free-form sends: the customer's message a reply answers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import InboundMessage


async def inbound_wamid(
    session: AsyncSession, user_id: int, channel_id: int, phone_number: str, inbound_id: int
) -> str | None:
    """The provider's id of the message ``inbound_id`` that this customer wrote to this user's
    number; None when there is no such message (another user's, another customer's)."""
    found: str | None = await session.scalar(
        select(InboundMessage.provider_message_id).where(
            InboundMessage.id == inbound_id,
            InboundMessage.user_id == user_id,
            InboundMessage.channel_id == channel_id,
            InboundMessage.phone_number == phone_number,
        )
    )
    return found
