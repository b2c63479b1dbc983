"""The analytics' answers (docs/api.md, "Analytics")."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from herald.analytics.service import Figures, Report


class FiguresOut(BaseModel):
    total: int = Field(description="Messages created in the period")
    states: dict[str, int] = Field(description="Messages per state (every state, 0 included)")
    categories: dict[str, int] = Field(
        description="Messages per Meta pricing category; `unpriced`: no status priced it yet"
    )
    billable: int = Field(description="Messages Meta reported billable")
    cost: Decimal | None = Field(
        description="Estimated cost of the billable messages from the rate card, as a decimal "
        "string; null when a billable category has no rate (see `unrated_categories`)"
    )
    cost_by_category: dict[str, Decimal | None] = Field(
        description="Estimated cost per billable category; null: no rate for it"
    )
    unrated_categories: list[str] = Field(
        description="Billable categories the rate card has no price for"
    )


class GroupOut(FiguresOut):
    key: str | None = Field(
        description="The day (YYYY-MM-DD, UTC), the template's name (null: free-form "
        "messages), the pricing category, or the channel's id (null: no channel)"
    )


class AnalyticsOut(BaseModel):
    from_: datetime = Field(alias="from", serialization_alias="from")
    to: datetime
    group_by: Literal["day", "template", "category", "channel"]
    currency: str | None = Field(description="The rate card's currency; null: no rate set")
    groups: list[GroupOut]
    totals: FiguresOut


def _figures(figures: Figures) -> dict[str, object]:
    return {
        "total": figures.total,
        "states": figures.states,
        "categories": dict(sorted(figures.categories.items())),
        "billable": figures.billable,
        "cost": figures.cost,
        "cost_by_category": dict(sorted(figures.category_costs.items())),
        "unrated_categories": sorted(figures.unrated_categories),
    }


def report_out(report: Report) -> AnalyticsOut:
    return AnalyticsOut.model_validate(
        {
            "from": report.start,
            "to": report.end,
            "group_by": report.group_by,
            "currency": report.currency,
            "groups": [{"key": key, **_figures(f)} for key, f in report.groups.items()],
            "totals": _figures(report.totals),
        }
    )
