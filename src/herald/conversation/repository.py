"""SQL for conversations: one customer of one of a user's numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import Conversation, InboundMessage


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


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


async def add_inbound(
    session: AsyncSession,
    user_id: int,
    channel_id: int,
    wamid: str,
    sender: str,
    kind: str,
    text: str | None,
    context_message_id: str | None,
    now: datetime,
) -> int | None:
    """Store a customer's message unless its wamid is known; the new row's id, else None."""
    inserted: int | None = await session.scalar(
        _insert(session)(InboundMessage)
        .values(
            user_id=user_id,
            channel_id=channel_id,
            provider_message_id=wamid,
            phone_number=sender,
            kind=kind,
            text=text,
            context_message_id=context_message_id,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["provider_message_id"])
        .returning(InboundMessage.id)
    )
    return inserted


async def customer_wrote(
    session: AsyncSession,
    user_id: int,
    channel_id: int,
    phone_number: str,
    inbound_id: int,
    at: datetime,
) -> None:
    """The customer's message ``inbound_id`` arrived at ``at``: one more unread message, and the
    window runs from the latest message (webhooks may arrive out of order)."""
    insert = _insert(session)(Conversation).values(
        user_id=user_id,
        channel_id=channel_id,
        phone_number=phone_number,
        last_inbound_at=at,
        last_inbound_id=inbound_id,
        unread_count=1,
        created_at=at,
        updated_at=at,
    )
    later = insert.excluded.last_inbound_at > Conversation.last_inbound_at
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["user_id", "channel_id", "phone_number"],
            set_={
                "unread_count": Conversation.unread_count + 1,
                "last_inbound_at": case(
                    (later, insert.excluded.last_inbound_at), else_=Conversation.last_inbound_at
                ),
                "last_inbound_id": case(
                    (later, insert.excluded.last_inbound_id), else_=Conversation.last_inbound_id
                ),
                "updated_at": insert.excluded.updated_at,
            },
        )
    )
