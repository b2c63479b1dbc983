"""A number's health from Meta's account webhooks, the emulator sending them over real HTTP:
each changes the channel (GET /api/v2/channels/{id}/health, the user's own only), is told to
the owner's callbacks as ``channel.updated`` and shows on /metrics; a restricted number's
messages wait while another user's go out, and go once the restriction is lifted."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from herald.db import session_factory
from herald.models import CallbackDelivery, Channel, User
from tests.callback.test_delivery import Receiver, register
from tests.conftest import DatabaseUnderTest, add_user
from tests.dispatch.test_end_to_end import SAM, approved_template, messages_of
from tests.live_herald import Live, eventually

Check = Callable[[dict[str, Any]], bool]


async def channel_of(db: DatabaseUnderTest, email: str) -> Channel:
    async with session_factory(db.engine)() as session:
        found = await session.execute(
            select(Channel).join(User, User.id == Channel.user_id).where(User.email == email)
        )
        return found.scalar_one()


async def health_once(
    live: Live, auth: dict[str, str], channel: Channel, check: Check
) -> dict[str, Any]:
    shown: dict[str, Any] = {}

    async def holds() -> bool:
        answer = await live.herald.get(f"/api/v2/channels/{channel.id}/health", headers=auth)
        assert answer.status_code == 200, answer.text
        shown.clear()
        shown.update(answer.json()["data"])
        return check(shown)

    await eventually(holds, message="the channel's health changed in Herald")
    return shown


async def meta(live: Live, channel: Channel, route: str, body: dict[str, Any]) -> None:
    answer = await live.emulator.post(
        f"/_emulator/phone-numbers/{channel.phone_number_id}/{route}",
        json={"display_phone_number": channel.display_number, **body},
    )
    assert answer.status_code == 200, answer.text


SENDING = "RESTRICTED_BIZ_INITIATED_MESSAGING"


async def test_each_health_webhook_changes_the_channel_and_is_announced(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest, receiver: Receiver
) -> None:
    await register(live, live_ana, receiver.url, ("channel.updated",))
    await approved_template(live, live_ana)
    channel = await channel_of(db, "ana@example.com")
    ends = int(time.time()) + 3600
    steps: list[tuple[str, dict[str, Any], Check, str]] = [
        (
            "quality",
            {"event": "FLAGGED", "tier": "TIER_1K"},
            lambda h: (
                (h["quality_rating"], h["status"], h["messaging_limit_tier"])
                == ("RED", "FLAGGED", "TIER_1K")
                and h["messaging_limit"] == 1000
            ),
            "FLAGGED",
        ),
        (
            "quality",
            {"event": "DOWNGRADE", "tier": "TIER_250"},
            lambda h: h["messaging_limit_tier"] == "TIER_250",
            "DOWNGRADE",
        ),
        (
            "throughput",
            {"per_second": 1000},
            lambda h: h["throughput_per_second"] == 1000,
            "THROUGHPUT_UPGRADE",
        ),
        (
            "account_update",
            {
                "event": "ACCOUNT_RESTRICTION",
                "restriction_info": [{"restriction_type": SENDING, "expiration": ends}],
            },
            lambda h: h["status"] == "RESTRICTED" and not h["sending"] and h["hold_reason"],
            "ACCOUNT_RESTRICTION",
        ),
        (
            "account_update",
            {"event": "ACCOUNT_RESTRICTION", "restriction_info": []},
            lambda h: h["status"] == "CONNECTED" and h["sending"],
            "ACCOUNT_RESTRICTION",
        ),
        (
            "account_update",
            {"event": "DISABLED_UPDATE", "ban_state": "DISABLE"},
            lambda h: h["status"] == "BANNED" and not h["sending"],
            "DISABLED_UPDATE",
        ),
        (
            "account_update",
            {"event": "DISABLED_UPDATE", "ban_state": "REINSTATE"},
            lambda h: h["status"] == "CONNECTED" and h["sending"],
            "DISABLED_UPDATE",
        ),
    ]
    restricted: dict[str, Any] = {}
    for route, body, check, _ in steps:
        await meta(live, channel, route, body)
        shown = await health_once(live, live_ana, channel, check)
        if shown["status"] == "RESTRICTED":
            restricted = shown
    assert restricted["restrictions"] == [
        {"type": SENDING, "expires_at": restricted["restricted_until"]}
    ]
    assert restricted["restricted_until"].startswith(time.strftime("%Y-%m-%d", time.gmtime(ends)))

    async def all_told() -> bool:
        async with session_factory(db.engine)() as session:
            rows = (
                await session.execute(
                    select(CallbackDelivery.delivered).where(
                        CallbackDelivery.channel_id == channel.id
                    )
                )
            ).all()
        return len(rows) == len(steps) and all(row.delivered for row in rows)

    await eventually(all_told, message="every change told to the callback")
    told = [e for e in receiver.events if e["type"] == "channel.updated"]
    assert [e["data"]["reason"] for e in told] == [s[3] for s in steps]
    assert told[0]["data"]["previous"] == {
        "quality_rating": "UNKNOWN",
        "messaging_limit_tier": None,
        "account_status": "CONNECTED",
    }
    assert told[2]["data"]["previous"] == {"throughput_per_second": 80}
    assert {e["data"]["channel_id"] for e in told} == {channel.id}

    metrics = (await live.herald.get("/metrics")).text
    label = f'{{channel_id="{channel.id}"}}'
    assert f"herald_channel_quality{label} 1.0" in metrics
    assert f"herald_channel_sending_held{label} 0.0" in metrics
    assert f"herald_channel_throughput_per_second{label} 1000.0" in metrics


async def test_the_health_route_is_the_owners_only(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    await approved_template(live, live_ana)
    channel = await channel_of(db, "ana@example.com")
    bob = await live.auth_for(await add_user(db, "bob@example.com"))
    for auth, status in ((live_ana, 200), (bob, 404)):
        answer = await live.herald.get(f"/api/v2/channels/{channel.id}/health", headers=auth)
        assert answer.status_code == status, answer.text
    assert answer.json()["code"] == "channel_not_found"
    fresh = (
        await live.herald.get(f"/api/v2/channels/{channel.id}/health", headers=live_ana)
    ).json()["data"]
    assert {k: fresh[k] for k in ("quality_rating", "messaging_limit_tier", "status")} == {
        "quality_rating": "UNKNOWN",
        "messaging_limit_tier": None,
        "status": "CONNECTED",
    }
    assert fresh["sending"]
    assert fresh["hold_reason"] is None
    unknown = await live.herald.get("/api/v2/channels/0/health", headers=live_ana)
    assert unknown.status_code == 422 or unknown.status_code == 400


async def test_a_restricted_numbers_messages_wait_then_go_after_the_lift(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    bob = await live.auth_for(await add_user(db, "bob@example.com"))
    anas_template = await approved_template(live, live_ana)
    bobs_template = await approved_template(live, bob, name="bobs_order")
    anas = await channel_of(db, "ana@example.com")
    bobs = await channel_of(db, "bob@example.com")
    restriction = [{"restriction_type": SENDING}]  # no end given
    await meta(
        live,
        anas,
        "account_update",
        {"event": "ACCOUNT_RESTRICTION", "restriction_info": restriction},
    )
    await health_once(live, live_ana, anas, lambda h: h["status"] == "RESTRICTED")

    async def send(auth: dict[str, str], template: dict[str, Any]) -> str:
        answer = await live.herald.post(
            f"/api/v2/whatsapp/templates/{template['id']}/send", json=SAM, headers=auth
        )
        assert answer.status_code == 202, answer.text
        return str(answer.json()["data"]["whatsapp_bulk_group_id"])

    anas_group = await send(live_ana, anas_template)
    bobs_group = await send(bob, bobs_template)

    async def bobs_read() -> bool:
        return [m["state"] for m in await messages_of(live, bob, bobs_group)] == ["read"]

    await eventually(bobs_read, message="the other user's message goes out meanwhile")

    async def sent_from(channel: Channel) -> list[dict[str, Any]]:
        answer = await live.emulator.get(
            "/_emulator/messages", params={"phone_number_id": channel.phone_number_id}
        )
        found: list[dict[str, Any]] = answer.json()
        return found

    assert [m["state"] for m in await messages_of(live, live_ana, anas_group)] == ["queued"]
    assert await sent_from(anas) == []
    stats = (await live.emulator.get("/_emulator/stats")).json()
    assert 368 not in {int(code) for code in stats["refused"]}  # nothing failed at Meta

    await meta(
        live, anas, "account_update", {"event": "ACCOUNT_RESTRICTION", "restriction_info": []}
    )

    async def anas_read() -> bool:
        return [m["state"] for m in await messages_of(live, live_ana, anas_group)] == ["read"]

    await eventually(anas_read, message="the held message goes out after the lift")
    assert len(await sent_from(anas)) == 1
    assert len(await sent_from(bobs)) == 1
