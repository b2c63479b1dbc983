"""``GET /api/v2/analytics/messages``: messages, delivery and estimated cost over a period."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from herald.analytics import service
from herald.analytics.repository import GroupBy
from herald.analytics.schemas import AnalyticsOut, report_out
from herald.deps import CurrentUser, ReadSessionDep, RuntimeDep
from herald.kit.jsend import Success

router = APIRouter(tags=["analytics"])

Moment = Annotated[
    str | None,
    Query(
        max_length=40,
        description="ISO 8601 date (a whole day) or date-time; without an offset, UTC",
    ),
]


@router.get("/api/v2/analytics/messages", response_model_by_alias=True)
async def message_analytics(
    session: ReadSessionDep,  # before the caller: authentication reads through it too
    user: CurrentUser,
    runtime: RuntimeDep,
    from_: Annotated[Moment, Query(alias="from")] = None,
    to: Moment = None,
    group_by: GroupBy = "day",
) -> Success[AnalyticsOut]:
    """Per group: messages per state and per pricing category, billable messages and their
    estimated cost from the operator's rate card. At most 366 days; by default the last 30."""
    start, end = service.period(from_, to, runtime.clock.now())
    report = await service.messages(session, user.id, start, end, group_by)
    return Success(message="Message analytics", data=report_out(report))
