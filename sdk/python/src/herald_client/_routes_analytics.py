"""Calls for analytics: messages, delivery and estimated cost over a period."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from herald_client._call import Call, QueryValue, timestamp
from herald_client._envelope import parse_object
from herald_client.models import MessageAnalytics

ANALYTICS = "/api/v2/analytics/messages"
GroupBy = Literal["day", "template", "category", "channel"]


def _moment(value: date | datetime | str) -> str:
    if isinstance(value, datetime):
        return timestamp(value)
    return value.isoformat() if isinstance(value, date) else value


def message_analytics(
    *,
    from_: date | datetime | str | None = None,
    to: date | datetime | str | None = None,
    group_by: GroupBy = "day",
) -> Call[MessageAnalytics]:
    """Per day, template, pricing category or channel: messages per state and per pricing
    category, billable messages and their estimated cost (a decimal string; None when the rate
    card lacks a billable category). A date is its whole day; by default the last 30 days; at
    most 366 (``BadRequest`` ``range_too_long``; ``invalid_range`` when from is after to)."""
    params: dict[str, QueryValue] = {"group_by": group_by}
    if from_ is not None:
        params["from"] = _moment(from_)
    if to is not None:
        params["to"] = _moment(to)
    return Call("GET", ANALYTICS, parse_object, params=params)
