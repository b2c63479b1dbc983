"""A template the provider refuses (132001 missing, 132015 paused, 132016 disabled) holds its
queue instead of burning it: one refusal, one look at the provider, then every message of the
template settled from that verdict, none with a provider call of its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from herald.models import Message
from tests.conftest import EMULATOR_ACCESS_TOKEN, DatabaseUnderTest
from tests.dispatch.test_end_to_end import ORDER, approved_template
from tests.live_herald import Live, eventually

CHUNK = 25  # the most messages the dispatcher marks in flight at once (DispatchSettings.chunk)


async def queue_bulk(
    live: Live, auth: dict[str, str], template_id: int, count: int, seconds_ahead: float
) -> str:
    """``count`` messages of the template, due ``seconds_ahead`` from now (time enough to
    change the template at the provider while Herald still holds it APPROVED)."""
    send_at = datetime.now(UTC) + timedelta(seconds=seconds_ahead)
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template_id}/send-bulk",
        json={
            "recipients": [
                {"to": f"2169{n:07d}", "country_code": "TN", "body_params": ["A", str(n)]}
                for n in range(count)
            ],
            "send_at": send_at.isoformat(),
        },
        headers=auth,
    )
    assert answer.status_code == 202, answer.text
    group: str = answer.json()["data"]["whatsapp_bulk_group_id"]
    return group


async def counts(live: Live, auth: dict[str, str], group: str) -> dict[str, int]:
    answer = await live.herald.get(f"/api/v2/whatsapp/bulk-groups/{group}", headers=auth)
    result: dict[str, int] = answer.json()["data"]["counts"]
    return result


async def provider_template(live: Live) -> dict[str, Any]:
    (found,) = (await live.emulator.get("/_emulator/templates")).json()
    assert isinstance(found, dict)
    return found


async def refused(live: Live, code: int) -> int:
    stats = (await live.emulator.get("/_emulator/stats")).json()
    return int(stats["refused"].get(str(code), 0))


async def test_a_template_deleted_at_the_provider_fails_its_queue_without_a_call_each(
    live: Live, live_ana: dict[str, str]
) -> None:
    template = await approved_template(live, live_ana)
    group = await queue_bulk(live, live_ana, template["id"], 2000, seconds_ahead=2)
    at_provider = await provider_template(live)
    deleted = await live.emulator.delete(
        f"/v23.0/{at_provider['waba_id']}/message_templates",
        params={"name": ORDER["name"]},
        headers={"Authorization": f"Bearer {EMULATOR_ACCESS_TOKEN}"},
    )
    assert deleted.status_code == 200, deleted.text

    async def all_failed() -> bool:
        return (await counts(live, live_ana, group)).get("failed") == 2000

    await eventually(all_failed, timeout=60, message="2,000 messages failed")
    assert 1 <= await refused(live, 132001) <= CHUNK  # not one call per message
    stats = (await live.emulator.get("/_emulator/stats")).json()
    assert stats["accepted"] == 0
    failed = await live.herald.get(
        "/api/whatsapp/",
        params={"whatsapp_bulk_group_id": group, "limit": 100, "page": 7},
        headers=live_ana,
    )
    errors = {(m["error"]["code"], m["error"]["title"]) for m in failed.json()["data"]["items"]}
    assert errors == {("132001", "Template does not exist at the provider")}
    shown = await live.herald.get(f"/api/v2/whatsapp/templates/{template['id']}", headers=live_ana)
    assert shown.json()["data"]["state"] == "DRAFT"  # submit it again to re-create it


async def test_a_disabled_template_fails_its_queue_and_is_disabled(
    live: Live, live_ana: dict[str, str]
) -> None:
    template = await approved_template(live, live_ana)
    group = await queue_bulk(live, live_ana, template["id"], 300, seconds_ahead=2)
    await live.emulator.post(
        f"/_emulator/templates/{(await provider_template(live))['id']}/disable"
    )

    async def all_failed() -> bool:
        return (await counts(live, live_ana, group)).get("failed") == 300

    await eventually(all_failed, timeout=30, message="300 messages failed")
    assert await refused(live, 132016) <= CHUNK
    shown = await live.herald.get(f"/api/v2/whatsapp/templates/{template['id']}", headers=live_ana)
    assert shown.json()["data"]["state"] == "DISABLED"


async def test_a_paused_template_holds_its_messages_until_reinstated(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    template = await approved_template(live, live_ana)
    group = await queue_bulk(live, live_ana, template["id"], 100, seconds_ahead=2)
    provider_id = (await provider_template(live))["id"]
    await live.emulator.post(f"/_emulator/templates/{provider_id}/pause")

    async def held() -> bool:
        async with db.engine.connect() as connection:
            due = (await connection.execute(select(Message.state, Message.next_attempt_at))).all()
        later = datetime.now(UTC) + timedelta(seconds=60)
        return all(state == "queued" and at > later for state, at in due)

    await eventually(held, timeout=20, message="the messages held for the paused template")
    assert 1 <= await refused(live, 132015) <= CHUNK
    assert (await live.emulator.get("/_emulator/stats")).json()["accepted"] == 0
    assert await counts(live, live_ana, group) == {"queued": 100}
    shown = await live.herald.get(f"/api/v2/whatsapp/templates/{template['id']}", headers=live_ana)
    assert shown.json()["data"]["state"] == "PAUSED"

    await live.emulator.post(f"/_emulator/templates/{provider_id}/reinstate")

    async def all_read() -> bool:
        return (await counts(live, live_ana, group)).get("read") == 100

    await eventually(all_read, timeout=30, message="100 messages read once reinstated")
