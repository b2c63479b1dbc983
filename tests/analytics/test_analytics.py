"""``GET /api/v2/analytics/messages``: counts per state and pricing category, billable messages
and their estimated cost from the rate card, per day, template, category or channel; one
user's messages only; a bad range is a 400 with a stable code."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from herald.analytics import rates
from herald.config import Settings
from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.models import User
from herald.user import repository as users
from tests.analytics.helpers import day, store_messages
from tests.conftest import DatabaseUnderTest, assert_error
from tests.message.helpers import approved_template
from tests.secret_key.test_endpoints import create_key, plugin_headers

RANGE = {"from": "2026-11-01", "to": "2026-11-30"}
MARKETING = {"billable": True, "pricing_category": "marketing", "pricing_model": "PMP"}


@pytest.fixture
async def history(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock, bob_auth: Any
) -> int:
    """ana's messages of November (and one of December), bob's one; the card in EUR. Returns
    ana's channel id."""
    template = await approved_template(db, ana, settings, clock.now())
    channel = template.channel_id
    async with session_factory(db.engine)() as session:
        bob = await users.get_by_email(session, "bob@example.com")
        assert bob is not None
        lines = [
            rates.entry("EUR", "marketing", "*", "0.10"),
            rates.entry("EUR", "marketing", "+49", "0.1365"),
            rates.entry("EUR", "utility", "*", "0.02"),
            rates.entry("EUR", "service", "*", "0"),
        ]
        await rates.set_rates(session, lines, clock.now())
        await session.commit()
    ana_ = {"user_id": ana.id, "channel_id": channel}
    await store_messages(
        db,
        [
            {**ana_, **MARKETING, "created_at": day("2026-11-10"), "state": "read"},
            {
                **ana_,
                **MARKETING,
                "created_at": day("2026-11-10", 23),
                "phone_number": "21696816277",
                "country_code": "TN",
            },
            {**ana_, "created_at": day("2026-11-11"), "state": "failed", "template_name": "promo"},
            {
                **ana_,
                "created_at": day("2026-11-11"),
                "state": "read",
                "kind": "text",
                "template_name": "",
                "billable": False,
                "pricing_category": "service",
                "pricing_model": "PMP",
            },
            {
                **ana_,
                "created_at": day("2026-11-12"),
                "template_name": "otp",
                "billable": True,
                "pricing_category": "authentication",
                "pricing_model": "PMP",
            },
            {**ana_, **MARKETING, "created_at": day("2026-12-01", 0)},  # after the range
            {"user_id": bob.id, **MARKETING, "created_at": day("2026-11-10")},
        ],
    )
    return channel


async def analytics(
    client: httpx.AsyncClient, auth: dict[str, str], **params: str
) -> dict[str, Any]:
    answer = await client.get("/api/v2/analytics/messages", params=params, headers=auth)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def states(**counts: int) -> dict[str, int]:
    every = dict.fromkeys(
        ("queued", "sending", "sent", "delivered", "read", "failed", "cancelled"), 0
    )
    return {**every, **counts}


async def test_per_day_with_costs_from_the_rate_card(
    client: httpx.AsyncClient, auth: dict[str, str], history: int
) -> None:
    data = await analytics(client, auth, **RANGE, group_by="day")
    assert data["currency"] == "EUR"
    assert data["from"] == "2026-11-01T00:00:00Z"
    assert data["to"] == "2026-12-01T00:00:00Z"  # the whole of the 30th
    groups = {g["key"]: g for g in data["groups"]}
    assert list(groups) == ["2026-11-10", "2026-11-11", "2026-11-12"]
    first = groups["2026-11-10"]
    assert (first["total"], first["billable"]) == (2, 2)
    assert first["states"] == states(read=1, delivered=1)
    assert first["categories"] == {"marketing": 2}
    # Germany's own rate, and the default for Tunisia.
    assert money(first["cost"]) == Decimal("0.2365")
    second = groups["2026-11-11"]
    assert second["categories"] == {"service": 1, "unpriced": 1}
    assert (second["billable"], money(second["cost"])) == (0, Decimal(0))
    third = groups["2026-11-12"]
    assert third["cost"] is None
    assert third["unrated_categories"] == ["authentication"]
    totals = data["totals"]
    assert (totals["total"], totals["billable"]) == (5, 3)
    assert totals["states"] == states(read=2, delivered=2, failed=1)
    assert totals["cost"] is None  # not zero: authentication has no rate
    assert {k: money(v) for k, v in totals["cost_by_category"].items()} == {
        "authentication": None,
        "marketing": Decimal("0.2365"),
    }


async def test_per_template_category_and_channel(
    client: httpx.AsyncClient, auth: dict[str, str], history: int
) -> None:
    by_template = await analytics(client, auth, **RANGE, group_by="template")
    totals = {g["key"]: g["total"] for g in by_template["groups"]}
    assert totals == {"order_confirmed": 2, "otp": 1, "promo": 1, None: 1}
    by_category = await analytics(client, auth, **RANGE, group_by="category")
    groups = {
        g["key"]: (g["total"], g["billable"], money(g["cost"])) for g in by_category["groups"]
    }
    assert groups == {
        "authentication": (1, 1, None),
        "marketing": (2, 2, Decimal("0.2365")),
        "service": (1, 0, Decimal(0)),
        "unpriced": (1, 0, Decimal(0)),
    }
    by_channel = await analytics(client, auth, **RANGE, group_by="channel")
    assert [(g["key"], g["total"]) for g in by_channel["groups"]] == [(str(history), 5)]


async def test_another_users_messages_are_not_counted(
    client: httpx.AsyncClient, bob_auth: dict[str, str], history: int
) -> None:
    data = await analytics(client, bob_auth, **RANGE, group_by="day")
    assert data["totals"]["total"] == 1
    assert money(data["totals"]["cost"]) == Decimal("0.1365")


async def test_without_a_card_the_cost_is_unknown_not_zero(
    client: httpx.AsyncClient, auth: dict[str, str], history: int, db: DatabaseUnderTest
) -> None:
    async with session_factory(db.engine)() as session:
        for rate in await rates.list_rates(session):
            await rates.remove(session, rate.pricing_category, rate.country_calling_code)
        await session.commit()
    data = await analytics(client, auth, **RANGE)
    assert data["currency"] is None
    assert data["totals"]["cost"] is None
    assert data["totals"]["unrated_categories"] == ["authentication", "marketing"]


async def test_the_default_range_is_the_last_30_days(
    client: httpx.AsyncClient, auth: dict[str, str], clock: FrozenClock
) -> None:
    data = await analytics(client, auth)
    assert data["to"] == clock.now().isoformat().replace("+00:00", "Z")
    assert data["group_by"] == "day"
    assert data["groups"] == []


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "2026-11-03", "to": "2026-11-01"}, "invalid_range"),
        ({"from": "2025-01-01", "to": "2026-11-01"}, "range_too_long"),
        ({"from": "yesterday"}, "validation_failed"),
        ({"group_by": "week"}, "validation_failed"),
    ],
)
async def test_a_bad_range_or_grouping_is_a_400(
    client: httpx.AsyncClient, auth: dict[str, str], params: dict[str, str], code: str
) -> None:
    answer = await client.get("/api/v2/analytics/messages", params=params, headers=auth)
    assert_error(answer, 400, code)


async def test_a_secret_key_reads_them_too(
    client: httpx.AsyncClient, auth: dict[str, str], history: int
) -> None:
    created = await create_key(client, auth)
    data = await analytics(client, plugin_headers(created["secret_key"]), **RANGE)
    assert data["totals"]["total"] == 5


async def test_without_credentials_it_is_401(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/v2/analytics/messages"), 401, "token_missing")
