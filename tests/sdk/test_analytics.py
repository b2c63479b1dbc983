"""``client.analytics.messages`` through the SDK (the async client; the sync one runs the
same ``Call``): the route's figures, dates as dates, a bad range as ``BadRequest``."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from herald_client import AsyncHeraldClient, BadRequest

from herald.models import User
from tests.analytics.helpers import store_messages
from tests.conftest import DatabaseUnderTest


async def test_the_client_reads_the_analytics(
    sdk: AsyncHeraldClient,
    db: DatabaseUnderTest,
    ana: User,
) -> None:
    created = datetime(2026, 11, 10, 10, tzinfo=UTC)
    await store_messages(
        db,
        [
            {"user_id": ana.id, "created_at": created, "state": "read"},
            {"user_id": ana.id, "created_at": created, "template_name": "promo"},
        ],
    )
    found = await sdk.analytics.messages(
        from_=date(2026, 11, 1), to=date(2026, 11, 30), group_by="template"
    )
    assert found["from"] == "2026-11-01T00:00:00Z"
    assert {g["key"]: g["total"] for g in found["groups"]} == {"order_confirmed": 1, "promo": 1}
    assert found["totals"]["states"]["read"] == 1

    with pytest.raises(BadRequest) as caught:
        await sdk.analytics.messages(from_="2026-11-03", to="2026-11-01")
    assert caught.value.code == "invalid_range"
