"""Issue 23's scenario, tried as a new user would, over real HTTP: a user with two numbers in two
WABAs sends the same campaign from each; one number's quality drops and its messaging limit is
exceeded: the excess is held, then released by the upgrade webhook, and nothing fails at Meta;
the dashboard shows both numbers' health and the day's cost by category; the CSV of a bulk
group opens in a spreadsheet with one row per message."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from herald.analytics import rates
from herald.db import create_engine, session_factory
from tests.callback.test_delivery import Receiver, register
from tests.conftest import DatabaseUnderTest, add_user
from tests.console.helpers import console_session
from tests.dispatch.test_end_to_end import approved_template
from tests.dispatch.test_senders_live import SECOND, second_channel
from tests.live_herald import Live, eventually

CAMPAIGN = 60
TIER = 50  # the second number's messaging limit once its quality drops (TIER_50)


async def bulk(
    live: Live, auth: dict[str, str], template_id: int, **sender: Any
) -> tuple[str, int | None]:
    """The campaign sent from ``sender``: its bulk group, and how many were held."""
    recipients = [
        {"to": f"2169{n:07d}", "country_code": "TN", "body_params": ["Sam", f"A-{n}"]}
        for n in range(CAMPAIGN)
    ]
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template_id}/send-bulk",
        json={"recipients": recipients, **sender},
        headers=auth,
    )
    assert answer.status_code == 202, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data["whatsapp_bulk_group_id"], data["held"] and data["held"]["count"]


async def states(live: Live, auth: dict[str, str], group: str) -> dict[str, int]:
    answer = await live.herald.get(
        "/api/whatsapp/", params={"whatsapp_bulk_group_id": group, "limit": 100}, headers=auth
    )
    counted: dict[str, int] = {}
    for message in answer.json()["data"]["items"]:
        counted[message["state"]] = counted.get(message["state"], 0) + 1
    return counted


async def health(live: Live, auth: dict[str, str], channel_id: int) -> dict[str, Any]:
    answer = await live.herald.get(f"/api/v2/channels/{channel_id}/health", headers=auth)
    assert answer.status_code == 200, answer.text
    shown: dict[str, Any] = answer.json()["data"]
    return shown


async def test_two_numbers_send_one_campaign_and_the_limited_one_holds_its_excess(
    live: Live, db: DatabaseUnderTest, receiver: Receiver
) -> None:
    ana = await add_user(db, "ana@example.com")
    auth = await live.auth_for(ana)
    await register(live, auth, receiver.url, ("message.status", "channel.updated"))
    first = await approved_template(live, auth)  # on ana's default number
    second_id = await second_channel(live, ana)
    await live.emulator.put(f"/_emulator/phone-numbers/{SECOND}", json={"waba_id": SECOND})
    second = await approved_template(live, auth, channel_id=second_id)
    assert (first["name"], first["language"]) == (second["name"], second["language"])
    assert first["waba_id"] != second["waba_id"] == SECOND
    engine = create_engine(live.settings.resolved_database_url)
    try:
        async with session_factory(engine)() as session:
            await rates.set_rates(
                session, [rates.entry("EUR", "utility", "216", "0.0100")], datetime.now(UTC)
            )
            await session.commit()
    finally:
        await engine.dispose()

    # The second number's quality drops, and Meta lowers its limit to 50 customers a day.
    for body in ({"event": "FLAGGED"}, {"event": "DOWNGRADE", "tier": "TIER_50"}):
        answer = await live.emulator.post(
            f"/_emulator/phone-numbers/{SECOND}/quality",
            json={"display_phone_number": "+44 7700 900002", **body},
        )
        assert answer.status_code == 200, answer.text

    async def lowered() -> bool:
        shown = await health(live, auth, second_id)
        return (shown["quality_rating"], shown["messaging_limit"]) == ("RED", TIER)

    await eventually(lowered, message="Herald hears the number's quality and tier drop")

    # The same campaign from each number: the second holds what its tier has no room for.
    group_one, held_one = await bulk(live, auth, first["id"])
    group_two, held_two = await bulk(live, auth, second["id"], channel_id=second_id)
    assert (held_one, held_two) == (None, CAMPAIGN - TIER)

    async def sent_but_the_excess() -> bool:
        one, two = await states(live, auth, group_one), await states(live, auth, group_two)
        return one.get("read") == CAMPAIGN and (two.get("read"), two.get("queued")) == (
            TIER,
            CAMPAIGN - TIER,
        )

    await eventually(sent_but_the_excess, timeout=60, message="all but the excess read")
    assert (await health(live, auth, second_id))["customers_reached_24h"] == TIER

    # Meta raises the number's limit: the held messages go out, and none failed at Meta.
    raised = await live.emulator.post(
        f"/_emulator/phone-numbers/{SECOND}/quality", json={"event": "UPGRADE", "tier": "TIER_250"}
    )
    assert raised.status_code == 200, raised.text

    async def all_read() -> bool:
        return (await states(live, auth, group_two)).get("read") == CAMPAIGN

    await eventually(all_read, timeout=60, message="the held messages go out on the upgrade")
    stats = (await live.emulator.get("/_emulator/stats")).json()
    assert stats["accepted"] == 2 * CAMPAIGN
    assert not stats["refused"], stats["refused"]  # nothing failed at Meta

    async def told() -> bool:
        tiers = {
            e["data"]["messaging_limit_tier"]
            for e in receiver.events
            if e["type"] == "channel.updated"
        }
        return tiers >= {"TIER_50", "TIER_250"}

    await eventually(told, message="the integrator is told of the drop and of the upgrade")

    # The dashboard: both numbers' health, and the day's cost by category.
    await console_session(live.herald, "ana@example.com")
    page = await live.herald.get("/console/dashboard")
    assert page.status_code == 200, page.text
    assert "+44 7700 900002" in page.text
    assert "TIER_250" in page.text
    assert page.text.count("customers in the last 24 h") == 2
    utility = page.text.split('data-category="utility"', 1)[1].split("</tr>", 1)[0]
    assert f"<td>{2 * CAMPAIGN}</td>" in utility
    assert "1.20" in utility

    # The CSV of the second group: a spreadsheet's file, one row per message.
    exported = await live.herald.get(
        "/api/whatsapp/",
        params={"format": "csv", "whatsapp_bulk_group_id": group_two},
        headers=auth,
    )
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.content.startswith(b"\xef\xbb\xbf")  # the BOM a spreadsheet reads UTF-8 by
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert len(rows) == CAMPAIGN
    assert {row["state"] for row in rows} == {"read"}
