"""SQL for conversations: one customer of one of a user's numbers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import Contact, Conversation, InboundMessage, Message
from herald.models.inbound import MEDIA_PENDING


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


async def add_inbound(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """Store a customer's message (``values``: its columns) unless its wamid is known; the new
    row's id, else None."""
    inserted: int | None = await session.scalar(
        _insert(session)(InboundMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["provider_message_id"])
        .returning(InboundMessage.id)
    )
    return inserted


async def contact_of(
    session: AsyncSession,
    user_id: int,
    number: str,
    country_code: str | None,
    firstname: str | None,
    now: datetime,
) -> int | None:
    """The user's contact of this number, created (with ``firstname``) when there is none;
    None when there is none and the number's country is unknown."""
    found: int | None = await session.scalar(
        select(Contact.id).where(Contact.user_id == user_id, Contact.number == number)
    )
    if found is not None or country_code is None:
        return found
    created: int | None = await session.scalar(
        _insert(session)(Contact)
        .values(
            user_id=user_id,
            number=number,
            country_code=country_code,
            firstname=firstname,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "number"])
        .returning(Contact.id)
    )
    if created is not None:
        return created
    # Created by a concurrent transaction meanwhile.
    return await session.scalar(
        select(Contact.id).where(Contact.user_id == user_id, Contact.number == number)
    )


async def sent_message_id(session: AsyncSession, user_id: int, wamid: str) -> int | None:
    """The id of the user's outbound message with this wamid (what a reply answers)."""
    found: int | None = await session.scalar(
        select(Message.id)
        .where(Message.provider_message_id == wamid, Message.user_id == user_id)
        .limit(1)
    )
    return found


async def customer_wrote(
    session: AsyncSession,
    user_id: int,
    channel_id: int,
    phone_number: str,
    inbound_id: int,
    at: datetime,
    contact_id: int | None = None,
) -> datetime:
    """The customer's message ``inbound_id`` arrived at ``at``: one more unread message, and the
    window runs from the latest message (webhooks may arrive out of order); returns when the
    customer last wrote, after this message."""
    insert = _insert(session)(Conversation).values(
        user_id=user_id,
        channel_id=channel_id,
        phone_number=phone_number,
        last_inbound_at=at,
        last_inbound_id=inbound_id,
        contact_id=contact_id,
        unread_count=1,
        created_at=at,
        updated_at=at,
    )
    later = insert.excluded.last_inbound_at > Conversation.last_inbound_at
    last: datetime = await session.scalar(
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
                "contact_id": func.coalesce(insert.excluded.contact_id, Conversation.contact_id),
                "updated_at": insert.excluded.updated_at,
            },
        ).returning(Conversation.last_inbound_at)
    )
    return last


# --- customers' files (media_fetch.py) --------------------------------------------------------


async def pending_media(session: AsyncSession, limit: int) -> Sequence[InboundMessage]:
    """Messages whose file is still to fetch, fewest attempts first."""
    rows = await session.scalars(
        select(InboundMessage)
        .where(InboundMessage.media_status == MEDIA_PENDING)
        .order_by(InboundMessage.media_attempts, InboundMessage.id)
        .limit(limit)
    )
    return rows.all()


async def settle_media(
    session: AsyncSession,
    inbound_id: int,
    status: str,
    media_id: int | None,
    attempts: int,
) -> bool:
    """Record how fetching a message's file went (``status``: stored, failed, or pending again
    after ``attempts``); False when another process settled it first."""
    result = await session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == inbound_id, InboundMessage.media_status == MEDIA_PENDING)
        .values(media_status=status, media_id=media_id, media_attempts=attempts)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def inbound_by_id(session: AsyncSession, inbound_id: int) -> InboundMessage | None:
    return await session.get(InboundMessage, inbound_id, populate_existing=True)
