"""The console's per-channel health page: what the API's health route answers, the user's own
channel only (another's is the console's 404 page), and a held channel says why."""

from __future__ import annotations

from datetime import timedelta

import httpx

from herald.channel import repository as channels
from herald.channel.health import apply_account_event
from herald.config import Settings
from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.models import User
from herald.provider.account_events import AccountUpdate, NumberQualityUpdate, Restriction
from tests.conftest import DatabaseUnderTest, add_user
from tests.console.helpers import console_session
from tests.message.helpers import approved_template


async def test_the_health_page_shows_the_channels_health_to_its_owner_only(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    settings: Settings,
    clock: FrozenClock,
    ana: User,
) -> None:
    now = clock.now()
    template = await approved_template(db, ana, settings, now)
    assert template.channel_id is not None
    async with session_factory(db.engine)() as session:
        channel = await channels.get(session, template.channel_id)
        assert channel is not None
        waba, display = channel.waba_id, channel.display_number or ""
        ends = now + timedelta(hours=2)
        for event in (
            NumberQualityUpdate(waba, display, "FLAGGED", "RED", "TIER_1K", None, None),
            AccountUpdate(
                waba,
                "ACCOUNT_RESTRICTION",
                None,
                (Restriction("RESTRICTED_BIZ_INITIATED_MESSAGING", ends),),
            ),
        ):
            await apply_account_event(session, event, now)
        await session.commit()

    await console_session(client, ana.email)
    page = await client.get(f"/console/channels/{template.channel_id}/health")
    assert page.status_code == 200, page.text
    for shown in ("RED", "TIER_1K", "1000 customers", "80</strong> messages/s", "RESTRICTED"):
        assert shown in page.text, shown
    assert "Sending is held: Meta restricted business-initiated messaging" in page.text

    bob = await add_user(db, "bob@example.com", now=now)
    client.cookies.clear()
    await console_session(client, bob.email)
    other = await client.get(f"/console/channels/{template.channel_id}/health")
    assert other.status_code == 404
    assert "RESTRICTED" not in other.text
