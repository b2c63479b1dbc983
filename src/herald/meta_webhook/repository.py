"""SQL for stored webhook events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import WebhookEvent


async def insert_once(session: AsyncSession, body_sha256: str, payload: str, now: datetime) -> bool:
    """Store the event unless the same body was stored before; True when it is new."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(WebhookEvent)
        .values(body_sha256=body_sha256, payload=payload, received_at=now, attempts=0)
        .on_conflict_do_nothing(index_elements=["body_sha256"])
        .returning(WebhookEvent.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


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
