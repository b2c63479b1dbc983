"""``/console/dashboard``: the analytics of the chosen range as a page: the chart of messages
per day by state, delivery and read rates, top templates and the cost per category; only the
viewer's messages; a bad range is said on the page, not a 500."""

from __future__ import annotations

import re

import httpx

from herald.analytics import rates
from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.models import User
from tests.analytics.helpers import day, store_messages
from tests.conftest import DatabaseUnderTest, add_user
from tests.console.helpers import submit_login
from tests.console.test_pages import assert_console_page

RANGE = {"from": "2026-11-01", "to": "2026-11-30"}


def figure(page: httpx.Response, name: str) -> str:
    found = re.search(rf'<dd data-figure="{name}">(.*?)</dd>', page.text, re.S)
    assert found, page.text[:3000]
    return found.group(1).strip()


async def test_the_dashboard_shows_the_ranges_figures(
    client: httpx.AsyncClient, ana: User, db: DatabaseUnderTest, clock: FrozenClock
) -> None:
    bob = await add_user(db, "bob@example.com")
    async with session_factory(db.engine)() as session:
        await rates.set_rates(session, [rates.entry("EUR", "marketing", "*", "0.05")], clock.now())
        await session.commit()
    priced = {"billable": True, "pricing_category": "marketing", "pricing_model": "PMP"}
    await store_messages(
        db,
        [
            {"user_id": ana.id, "created_at": day("2026-11-10"), "state": "read", **priced},
            {"user_id": ana.id, "created_at": day("2026-11-10"), "state": "delivered", **priced},
            {
                "user_id": ana.id,
                "created_at": day("2026-11-11"),
                "state": "failed",
                "template_name": "promo",
            },
            {"user_id": ana.id, "created_at": day("2026-11-12"), "state": "sent"},
            {"user_id": bob.id, "created_at": day("2026-11-10"), "template_name": "bobs_own"},
        ],
    )
    await submit_login(client, ana.email)
    page = await client.get("/console/dashboard", params=RANGE)
    assert_console_page(page)
    assert figure(page, "total") == "4"
    assert figure(page, "delivery-rate") == "50.0%"  # 2 of the 4 that left
    assert figure(page, "read-rate") == "50.0%"  # 1 of the 2 delivered
    assert figure(page, "cost") == "0.100000 EUR"
    # One bar segment per state of each day, drawn on the server: no script, no CDN.
    segments = re.findall(r'<rect class="bar-(\w+)"', page.text)
    assert sorted(segments) == ["delivered", "failed", "read", "sent"]
    assert '<script src="http' not in page.text
    top = page.text[page.text.index('id="top-templates"') :]
    assert top.index("order_confirmed") < top.index("promo")
    assert "bobs_own" not in page.text
    assert 'data-category="marketing"' in page.text
    assert 'id="channel-health"' in page.text


async def test_a_bad_range_is_said_on_the_page(client: httpx.AsyncClient, ana: User) -> None:
    await submit_login(client, ana.email)
    page = await client.get("/console/dashboard", params={"from": "2026-12-01", "to": "2025-01-01"})
    assert_console_page(page)
    assert "from must not be after to" in page.text
    assert figure(page, "total") == "0"
    empty = await client.get("/console/dashboard", params={"from": "soon"})
    assert_console_page(empty)
    assert "ISO 8601" in empty.text
