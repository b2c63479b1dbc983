"""SQL of the history's CSV export (export.py): every message a filter matches, read in
keyset batches, newest first, each batch a range of the same indexes the history's pages use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.message.repository import FILTERS, HISTORY_COLUMNS
from herald.models import Message

EXPORT_COLUMNS: tuple[Any, ...] = (
    *HISTORY_COLUMNS,
    Message.template_language,
    Message.channel_id,
    Message.billable,
    Message.pricing_category,
    Message.pricing_model,
)


async def export_batch(
    session: AsyncSession,
    user_id: int,
    filters: dict[str, Any],
    before_id: int | None,
    limit: int,
) -> Sequence[Row[Any]]:
    """Up to ``limit`` of the user's messages matching ``filters`` (the history's), with ids
    below ``before_id`` (None: from the newest), newest first."""
    query = select(*EXPORT_COLUMNS).where(Message.user_id == user_id)
    for name in FILTERS:
        if filters.get(name) is not None:
            query = query.where(getattr(Message, name) == filters[name])
    if filters.get("from") is not None:
        query = query.where(Message.created_at >= filters["from"])
    if filters.get("to") is not None:
        query = query.where(Message.created_at <= filters["to"])
    if before_id is not None:
        query = query.where(Message.id < before_id)
    query = query.order_by(Message.id.desc()).limit(limit)
    return (await session.execute(query)).all()
