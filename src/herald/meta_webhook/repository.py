"""SQL for stored webhook events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import WebhookEvent


async def insert_new(session: AsyncSession, rows: Sequence[tuple[str, str, datetime]]) -> set[str]:
    """Store these deliveries (body digest, body, received at), skipping bodies stored before;
    the digests that were new.

    One statement with many parameter sets rather than one multi-row VALUES: the statement is
    compiled once and cached, and SQLAlchemy's "insertmanyvalues" still sends few round trips.
    Compiling a new VALUES list for every batch size cost more than the INSERT itself."""
    statement = _INSERT_NEW[session.get_bind().dialect.name]
    parameters = [
        {"body_sha256": digest, "payload": payload, "received_at": at, "attempts": 0}
        for digest, payload, at in rows
    ]
    return set((await session.execute(statement, parameters)).scalars())


_EVENTS = WebhookEvent.__table__
_INSERT_NEW = {
    name: dialect.insert(_EVENTS)
    .on_conflict_do_nothing(index_elements=["body_sha256"])
    .returning(_EVENTS.c.body_sha256)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


async def pending_ids(session: AsyncSession, limit: int) -> Sequence[int]:
    result = await session.execute(
        select(WebhookEvent.id)
        .where(WebhookEvent.processed_at.is_(None))
        .order_by(WebhookEvent.id)
        .limit(limit)
    )
    return result.scalars().all()


async def claim(session: AsyncSession, ids: Sequence[int]) -> Sequence[WebhookEvent]:
    """Lock still-pending events; other workers skip them (PostgreSQL) rather than wait."""
    query = (
        select(WebhookEvent)
        .where(WebhookEvent.id.in_(ids), WebhookEvent.processed_at.is_(None))
        .order_by(WebhookEvent.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return (await session.execute(query)).scalars().all()


async def count_set_aside(session: AsyncSession) -> int:
    query = select(func.count()).select_from(WebhookEvent).where(WebhookEvent.dead_at.is_not(None))
    return int((await session.execute(query)).scalar_one())


async def recent(session: AsyncSession, set_aside_only: bool, limit: int) -> Sequence[WebhookEvent]:
    """The latest stored events, newest first; only those set aside when asked."""
    query = select(WebhookEvent).order_by(WebhookEvent.id.desc()).limit(limit)
    if set_aside_only:
        query = query.where(WebhookEvent.dead_at.is_not(None))
    return (await session.execute(query)).scalars().all()


async def get(session: AsyncSession, event_id: int) -> WebhookEvent | None:
    return await session.get(WebhookEvent, event_id)
