"""SQL for conversations: one customer of one of a user's numbers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import Conversation


async def last_inbound_at(
    session: AsyncSession, user_id: int, channel_id: int, phone_number: str
) -> datetime | None:
    """When the customer last wrote to this number (None: never)."""
    found: datetime | None = await session.scalar(
        select(Conversation.last_inbound_at).where(
            Conversation.user_id == user_id,
            Conversation.channel_id == channel_id,
            Conversation.phone_number == phone_number,
        )
    )
    return found
