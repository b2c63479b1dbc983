"""SQL of the analytics: one user's messages of a period, counted in the database.

One GROUP BY over the ``(user_id, created_at)`` index's range: a row per group, state, pricing
category, billable flag and country, whatever the number of messages (a million rows are never
read into Python).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Date, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import ColumnElement

from herald.models import Message

GroupBy = Literal["day", "template", "category", "channel"]


@dataclass(frozen=True)
class Tally:
    """How many messages of one group share a state, pricing and country."""

    key: str | None
    state: str
    category: str | None  # Meta's pricing category; None until a status carried one
    billable: bool | None
    country_code: str  # ISO 3166 alpha-2
    count: int


def _key(group_by: GroupBy, dialect: str) -> ColumnElement[Any] | QueryableAttribute[Any]:
    if group_by == "day":
        if dialect == "postgresql":  # the UTC day, whatever the session's time zone
            return cast(func.timezone("UTC", Message.created_at), Date)
        return func.date(Message.created_at)  # SQLite stores UTC text: its date part
    if group_by == "template":
        return Message.template_name
    if group_by == "channel":
        return Message.channel_id
    return Message.pricing_category


async def tallies(
    session: AsyncSession, user_id: int, start: datetime, end: datetime, group_by: GroupBy
) -> list[Tally]:
    """The user's messages created in [start, end), counted per group and per what prices
    them."""
    key = _key(group_by, session.get_bind().dialect.name).label("key")
    columns: Sequence[ColumnElement[Any] | QueryableAttribute[Any]] = (
        key,
        Message.state,
        Message.pricing_category,
        Message.billable,
        Message.country_code,
    )
    query = (
        select(*columns, func.count().label("n"))
        .where(
            Message.user_id == user_id,
            Message.created_at >= start,
            Message.created_at < end,
        )
        .group_by(*columns)
    )
    rows = (await session.execute(query)).all()
    return [
        Tally(
            key=None if row.key is None else str(row.key),
            state=row.state,
            category=row.pricing_category,
            billable=row.billable,
            country_code=row.country_code,
            count=int(row.n),
        )
        for row in rows
    ]
