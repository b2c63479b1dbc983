"""Messages, delivery and estimated cost over a period: the analytics API's and the console
dashboard's one computation (docs/api.md, "Analytics").

Counted in SQL (``repository.tallies``), priced here from the rate card over the handful of
rows the count leaves. Cost is an estimate: the billable messages (as Meta's statuses said) of
each pricing category, at the card's price for the recipient's country calling code or else
its default. A billable category without a price makes the cost unknown (None), never zero;
the categories to blame are listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import phonenumbers
from sqlalchemy.ext.asyncio import AsyncSession

from herald.analytics import rates
from herald.analytics import repository as repository
from herald.analytics.repository import GroupBy, Tally
from herald.errors import HeraldError, ValidationFailed
from herald.models.lifecycle import STATES

DEFAULT_DAYS = 30
MAX_DAYS = 366
# The pricing category of a message no status has priced yet (queued, or sent and not yet
# reported): grouped and counted under this name rather than guessed from its template.
UNPRICED = "unpriced"


class InvalidRange(HeraldError):
    code = "invalid_range"
    message = "from must not be after to."


class RangeTooLong(HeraldError):
    code = "range_too_long"
    message = f"The range is at most {MAX_DAYS} days."


@dataclass
class Figures:
    """One group's counts, or the totals."""

    total: int = 0
    states: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))
    categories: dict[str, int] = field(default_factory=dict)
    billable: int = 0
    cost: Decimal | None = Decimal(0)
    unrated_categories: set[str] = field(default_factory=set)
    # Billable messages per category, and their cost (None: some had no price).
    category_costs: dict[str, Decimal | None] = field(default_factory=dict)

    def add(self, tally: Tally, card: rates.RateCard) -> None:
        category = tally.category or UNPRICED
        self.total += tally.count
        self.states[tally.state] = self.states.get(tally.state, 0) + tally.count
        self.categories[category] = self.categories.get(category, 0) + tally.count
        if not tally.billable or tally.category is None:
            return
        self.billable += tally.count
        price = card.price(tally.category, calling_code(tally.country_code))
        so_far = self.category_costs.get(category, Decimal(0))
        if price is None:
            self.unrated_categories.add(category)
            self.cost = self.category_costs[category] = None
            return
        amount = price * tally.count
        self.category_costs[category] = None if so_far is None else so_far + amount
        if self.cost is not None:
            self.cost += amount


@dataclass
class Report:
    start: datetime
    end: datetime
    group_by: GroupBy
    currency: str | None
    groups: dict[str | None, Figures]
    totals: Figures


def calling_code(country_code: str) -> str:
    """The calling code of an ISO country (``DE`` -> ``49``); "" when unknown."""
    code = phonenumbers.country_code_for_region(country_code.upper())
    return str(code) if code else ""


def period(start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) in UTC from the query's ``from``/``to`` (ISO 8601 dates or date-times;
    without an offset, UTC): a date alone is its whole day, ``to`` included. By default the
    last 30 days up to now."""
    end_at = _moment(end, "to") if end is not None else now
    start_at = (
        _moment(start, "from") if start is not None else end_at - timedelta(days=DEFAULT_DAYS)
    )
    if start_at > end_at:
        raise InvalidRange(data={"from": start_at.isoformat(), "to": end_at.isoformat()})
    if end_at - start_at > timedelta(days=MAX_DAYS):
        raise RangeTooLong(data={"max_days": MAX_DAYS})
    return start_at, end_at


def _moment(text: str, name: str) -> datetime:
    text = text.strip()
    try:
        if len(text) == 10:  # YYYY-MM-DD: a whole day
            day = datetime.combine(date.fromisoformat(text), time(0), UTC)
            return day + timedelta(days=1) if name == "to" else day
        moment = datetime.fromisoformat(text.replace("z", "Z"))
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationFailed.single(name, "must be an ISO 8601 date or date-time") from None


async def messages(
    session: AsyncSession,
    user_id: int,
    start: datetime,
    end: datetime,
    group_by: GroupBy,
) -> Report:
    card = await rates.card(session)
    groups: dict[str | None, Figures] = {}
    totals = Figures()
    for tally in await repository.tallies(session, user_id, start, end, group_by):
        key = _group_key(tally, group_by)
        groups.setdefault(key, Figures()).add(tally, card)
        totals.add(tally, card)
    ordered = dict(sorted(groups.items(), key=lambda item: (item[0] is None, item[0] or "")))
    return Report(start, end, group_by, card.currency, ordered, totals)


def _group_key(tally: Tally, group_by: GroupBy) -> str | None:
    if group_by == "category":
        return tally.key or UNPRICED
    if group_by == "template":
        return tally.key or None  # a free-form message has no template: None
    if group_by == "day" and tally.key is not None:
        return date.fromisoformat(tally.key[:10]).isoformat()
    return tally.key
