"""SQL of the conversations the API shows: the list, one conversation's messages in and out,
marking read (service.py). Storing customers' messages is repository.py's."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import Contact, Conversation, InboundMessage, Message

CONVERSATION_COLUMNS = (
    Conversation.id,
    Conversation.channel_id,
    Conversation.phone_number,
    Conversation.last_inbound_at,
    Conversation.last_inbound_id,
    Conversation.unread_count,
    Contact.id.label("contact_id"),
    Contact.firstname,
    Contact.lastname,
)


async def conversations_page(
    session: AsyncSession,
    user_id: int,
    limit: int,
    after: tuple[datetime, int] | None,
    unread_only: bool,
    phone_number: str | None = None,
) -> Sequence[Row[Any]]:
    """The user's conversations, the customer who wrote last first (the index
    ``(user_id, last_inbound_at, id)`` read backwards), from after ``after``; each row carries
    its contact (linked, else the user's contact with the number) and its newest outbound id."""
    contact = or_(
        Contact.id == Conversation.contact_id,
        and_(
            Conversation.contact_id.is_(None),
            Contact.user_id == Conversation.user_id,
            Contact.number == Conversation.phone_number,
        ),
    )
    last_out = (
        select(func.max(Message.id))
        .where(Message.user_id == Conversation.user_id)
        .where(Message.phone_number == Conversation.phone_number)
        .scalar_subquery()
    )
    # The newest by id, not ``last_inbound_id``: two messages of the same second keep the first.
    last_in = (
        select(func.max(InboundMessage.id))
        .where(InboundMessage.user_id == Conversation.user_id)
        .where(InboundMessage.phone_number == Conversation.phone_number)
        .scalar_subquery()
    )
    query = (
        select(*CONVERSATION_COLUMNS, last_out.label("last_out_id"), last_in.label("last_in_id"))
        .outerjoin(Contact, contact)
        .where(Conversation.user_id == user_id)
    )
    if unread_only:
        query = query.where(Conversation.unread_count > 0)
    if phone_number is not None:
        query = query.where(Conversation.phone_number == phone_number)
    if after is not None:
        at, before_id = after
        query = query.where(
            or_(
                Conversation.last_inbound_at < at,
                and_(Conversation.last_inbound_at == at, Conversation.id < before_id),
            )
        )
    ordered = query.order_by(Conversation.last_inbound_at.desc(), Conversation.id.desc())
    return (await session.execute(ordered.limit(limit))).all()


async def count_conversations(session: AsyncSession, user_id: int, unread_only: bool) -> int:
    counted = select(func.count()).select_from(Conversation).where(Conversation.user_id == user_id)
    if unread_only:
        counted = counted.where(Conversation.unread_count > 0)
    return int((await session.execute(counted)).scalar_one())


OUTBOUND_COLUMNS = (
    Message.id,
    Message.kind,
    Message.template_name,
    Message.content,
    Message.header_media_id,
    Message.state,
    Message.error_code,
    Message.created_at,
    Message.sent_at,
    Message.delivered_at,
    Message.read_at,
    Message.failed_at,
)
INBOUND_COLUMNS = (
    InboundMessage.id,
    InboundMessage.kind,
    InboundMessage.text,
    InboundMessage.payload,
    InboundMessage.details,
    InboundMessage.reply_to_message_id,
    InboundMessage.provider_media_id,
    InboundMessage.media_id,
    InboundMessage.media_status,
    InboundMessage.received_at,
    InboundMessage.read_at,
)


async def outbound_by_ids(session: AsyncSession, ids: Iterable[int]) -> Sequence[Row[Any]]:
    return (await session.execute(select(*OUTBOUND_COLUMNS).where(Message.id.in_(ids)))).all()


async def inbound_by_ids(session: AsyncSession, ids: Iterable[int]) -> Sequence[Row[Any]]:
    wanted = select(*INBOUND_COLUMNS).where(InboundMessage.id.in_(ids))
    return (await session.execute(wanted)).all()


async def outbound_page(
    session: AsyncSession, user_id: int, phone_number: str, before_id: int | None, limit: int
) -> Sequence[Row[Any]]:
    """The user's newest messages to the number below ``before_id`` (index
    ``(user_id, phone_number, id)``)."""
    query = select(*OUTBOUND_COLUMNS).where(
        Message.user_id == user_id, Message.phone_number == phone_number
    )
    if before_id is not None:
        query = query.where(Message.id < before_id)
    return (await session.execute(query.order_by(Message.id.desc()).limit(limit))).all()


async def inbound_page(
    session: AsyncSession, user_id: int, phone_number: str, before_id: int | None, limit: int
) -> Sequence[Row[Any]]:
    """The number's newest messages to the user below ``before_id`` (index
    ``(user_id, phone_number, id)``)."""
    query = select(*INBOUND_COLUMNS).where(
        InboundMessage.user_id == user_id, InboundMessage.phone_number == phone_number
    )
    if before_id is not None:
        query = query.where(InboundMessage.id < before_id)
    return (await session.execute(query.order_by(InboundMessage.id.desc()).limit(limit))).all()


async def count_messages(session: AsyncSession, user_id: int, phone_number: str) -> int:
    outbound = select(func.count()).where(
        Message.user_id == user_id, Message.phone_number == phone_number
    )
    inbound = select(func.count()).where(
        InboundMessage.user_id == user_id, InboundMessage.phone_number == phone_number
    )
    total = await session.execute(select(outbound.scalar_subquery(), inbound.scalar_subquery()))
    outbound_count, inbound_count = total.one()
    return int(outbound_count) + int(inbound_count)


async def conversations_with(
    session: AsyncSession, user_id: int, phone_number: str
) -> Sequence[Conversation]:
    """The user's conversations with a number (one per channel: one today)."""
    found = select(Conversation).where(
        Conversation.user_id == user_id, Conversation.phone_number == phone_number
    )
    return (await session.scalars(found.order_by(Conversation.id))).all()


async def latest_unread(
    session: AsyncSession, conversation: Conversation
) -> Row[int, str, datetime] | None:
    """The customer's newest message not yet read in this conversation (id, wamid, time)."""
    found = (
        select(InboundMessage.id, InboundMessage.provider_message_id, InboundMessage.received_at)
        .where(
            InboundMessage.user_id == conversation.user_id,
            InboundMessage.phone_number == conversation.phone_number,
            InboundMessage.channel_id == conversation.channel_id,
            InboundMessage.read_at.is_(None),
        )
        .order_by(InboundMessage.id.desc())
        .limit(1)
    )
    return (await session.execute(found)).first()


async def mark_read(
    session: AsyncSession, conversation: Conversation, up_to_id: int, now: datetime
) -> int:
    """Mark the conversation's unread messages up to ``up_to_id`` read; how many were. The
    unread count goes down by as many (not to 0: a message that arrives meanwhile, in a
    transaction that has not committed, adds its own 1 to the count after this)."""
    marked = await session.execute(
        update(InboundMessage)
        .where(
            InboundMessage.user_id == conversation.user_id,
            InboundMessage.phone_number == conversation.phone_number,
            InboundMessage.channel_id == conversation.channel_id,
            InboundMessage.read_at.is_(None),
            InboundMessage.id <= up_to_id,
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(marked, "rowcount", 0) or 0)
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(
            unread_count=case(
                (Conversation.unread_count > count, Conversation.unread_count - count), else_=0
            ),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return count
