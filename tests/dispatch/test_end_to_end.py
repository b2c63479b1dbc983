"""A send travels Herald → emulator → status webhooks → Herald, over real HTTP."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest

from herald.channel import repository as channels
from herald.db import create_engine, session_factory
from herald.kit.clock import SystemClock
from herald.meta_webhook.processor import process_pending
from tests.conftest import DatabaseUnderTest
from tests.live_herald import Live, eventually

ORDER = {
    "name": "order_confirmed",
    "language": "en",
    "category": "UTILITY",
    "body": "Hello {{1}}, your order {{2}} is confirmed.",
}
SAM = {"to": "21696816277", "country_code": "TN", "body_params": ["Sam", "ORD-2026-00041"]}


async def approved_template(
    live: Live, auth: dict[str, str], *, no_worker: DatabaseUnderTest | None = None, **fields: Any
) -> dict[str, Any]:
    """A template created, submitted and approved by the emulator, through the live Herald."""
    return await approved_through(live.herald, auth, no_worker=no_worker, **fields)


async def approved_through(
    herald: httpx.AsyncClient,
    auth: dict[str, str],
    *,
    no_worker: DatabaseUnderTest | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A template created, submitted and approved by the emulator, through the Herald that
    ``herald`` talks to. With ``no_worker`` (the database of an API that runs no background
    work), its status webhook, which then waits in the database, is applied here as a worker's
    loop would apply it."""
    created = await herald.post(
        "/api/v2/whatsapp/templates", json={**ORDER, **fields}, headers=auth
    )
    template: dict[str, Any] = created.json()["data"]
    await herald.post(f"/api/v2/whatsapp/templates/{template['id']}/submit", headers=auth)

    async def approved() -> bool:
        if no_worker is not None:
            await process_pending(session_factory(no_worker.engine), SystemClock())
        got = await herald.get(f"/api/v2/whatsapp/templates/{template['id']}", headers=auth)
        return bool(got.json()["data"]["state"] == "APPROVED")

    await eventually(approved, message="template approved")
    return template


async def messages_of(live: Live, auth: dict[str, str], group_id: str) -> list[dict[str, Any]]:
    answer = await live.herald.get(
        "/api/whatsapp/", params={"whatsapp_bulk_group_id": group_id, "limit": 100}, headers=auth
    )
    items: list[dict[str, Any]] = answer.json()["data"]["items"]
    return items


async def test_a_send_reaches_read_with_its_three_timestamps(
    live: Live, live_ana: dict[str, str]
) -> None:
    template = await approved_template(live, live_ana)
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send", json=SAM, headers=live_ana
    )
    assert answer.status_code == 202, answer.text
    group_id = answer.json()["data"]["whatsapp_bulk_group_id"]

    async def read() -> bool:
        return [m["state"] for m in await messages_of(live, live_ana, group_id)] == ["read"]

    await eventually(read, message="the message reaches read")
    message = (await messages_of(live, live_ana, group_id))[0]
    assert message["provider_message_id"].startswith("wamid.")
    assert message["sent_date"]
    assert message["delivered_at"]
    assert message["read_at"]
    assert message["error"] is None

    sent = (await live.emulator.get("/_emulator/messages")).json()
    assert len(sent) == 1
    payload = sent[0]["payload"]
    assert payload["to"] == "21696816277"
    assert payload["biz_opaque_callback_data"] == str(message["id"])
    assert payload["template"]["components"] == [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Sam"},
                {"type": "text", "text": "ORD-2026-00041"},
            ],
        }
    ]


async def test_a_bulk_send_is_delivered_once_each(live: Live, live_ana: dict[str, str]) -> None:
    template = await approved_template(live, live_ana)
    recipients = [
        {"to": f"2169681{n:04d}", "country_code": "TN", "body_params": ["A", str(n)]}
        for n in range(60)
    ]
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send-bulk",
        json={"recipients": recipients},
        headers=live_ana,
    )
    group_id = answer.json()["data"]["whatsapp_bulk_group_id"]

    async def all_read() -> bool:
        counts = (
            await live.herald.get(f"/api/v2/whatsapp/bulk-groups/{group_id}", headers=live_ana)
        ).json()["data"]["counts"]
        return counts.get("read") == 60

    await eventually(all_read, timeout=20, message="60 messages read")
    sent = (await live.emulator.get("/_emulator/messages")).json()
    assert sorted(m["to"] for m in sent) == sorted(r["to"] for r in recipients)  # none twice


async def test_permanent_errors_fail_with_the_providers_code(
    live: Live, live_ana: dict[str, str]
) -> None:
    template = await approved_template(live, live_ana)
    await live.emulator.patch(
        "/_emulator/config", json={"refusing_numbers": {"21696816277": 131026}}
    )
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send", json=SAM, headers=live_ana
    )
    group_id = answer.json()["data"]["whatsapp_bulk_group_id"]

    async def failed() -> bool:
        return [m["state"] for m in await messages_of(live, live_ana, group_id)] == ["failed"]

    await eventually(failed, message="failed")
    message = (await messages_of(live, live_ana, group_id))[0]
    assert message["error"]["code"] == "131026"
    assert message["error"]["title"]
    assert message["failed_at"]


async def test_a_failed_status_webhook_fails_the_message(
    live: Live, live_ana: dict[str, str]
) -> None:
    template = await approved_template(live, live_ana)
    await live.emulator.patch(
        "/_emulator/config", json={"failing_numbers": {"21696816277": 131026}}
    )
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send", json=SAM, headers=live_ana
    )
    group_id = answer.json()["data"]["whatsapp_bulk_group_id"]

    async def failed() -> bool:
        messages = await messages_of(live, live_ana, group_id)
        return bool(messages[0]["state"] == "failed" and messages[0]["sent_date"])

    await eventually(failed, message="failed after sent")
    assert (await messages_of(live, live_ana, group_id))[0]["error"]["code"] == "131026"


async def test_transient_errors_are_retried(live: Live, live_ana: dict[str, str]) -> None:
    template = await approved_template(live, live_ana)
    await live.emulator.patch("/_emulator/config", json={"error_rate": 1.0})
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send", json=SAM, headers=live_ana
    )
    group_id = answer.json()["data"]["whatsapp_bulk_group_id"]

    async def refused_once() -> bool:
        stats = (await live.emulator.get("/_emulator/stats")).json()
        return stats["refused"].get("131000", 0) >= 1

    await eventually(refused_once, message="a 500 from the provider")
    assert (await messages_of(live, live_ana, group_id))[0]["state"] in ("queued", "sending")
    await live.emulator.patch("/_emulator/config", json={"error_rate": 0.0})

    async def read() -> bool:
        return [m["state"] for m in await messages_of(live, live_ana, group_id)] == ["read"]

    await eventually(read, timeout=15, message="read after the retry")


async def test_a_stop_reply_opts_the_number_out(live: Live, live_ana: dict[str, str]) -> None:
    template = await approved_template(live, live_ana)
    await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send", json=SAM, headers=live_ana
    )
    channel = (await live.emulator.get("/_emulator/messages")).json()

    async def one_sent() -> bool:
        nonlocal channel
        channel = (await live.emulator.get("/_emulator/messages")).json()
        return len(channel) == 1

    await eventually(one_sent, message="sent")
    templates = (await live.emulator.get("/_emulator/templates")).json()
    await live.emulator.post(
        "/_emulator/inbound",
        json={
            "phone_number_id": channel[0]["phone_number_id"],
            "waba_id": templates[0]["waba_id"],
            "from": "21696816277",
            "text": "STOP",
        },
    )

    async def opted_out() -> bool:
        listed = await live.herald.get("/api/v2/opt-outs", headers=live_ana)
        return [o["number"] for o in listed.json()["data"]["items"]] == ["21696816277"]

    await eventually(opted_out, message="STOP reply opts out")
    again = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send", json=SAM, headers=live_ana
    )
    assert again.status_code == 409
    assert again.json()["code"] == "recipient_opted_out"


# Without pair spacing, nothing holds back a second copy of a message whose send just ended.
@pytest.mark.parametrize("live_overrides", [{"pair_spacing_seconds": 0.0}], ids=["unspaced"])
async def test_sends_accepted_while_a_bulk_goes_out_are_sent_once_each(
    live: Live, live_ana: dict[str, str]
) -> None:
    """Transactional sends accepted during a bulk go out before the rest of its batch, in chunks
    of their own, and only there. At 18/s a batch is 18 messages in chunks of 12: its last chunk
    had room for more and took in some already on their way, which went out twice when their
    first send ended before that chunk was prepared (a loaded machine; not every run). The
    mark that makes a second send impossible is checked in tests/dispatch/test_leases.py."""
    template = await approved_template(live, live_ana)
    engine = create_engine(live.settings.resolved_database_url)
    async with session_factory(engine)() as session:
        for channel in await channels.list_all(session):
            channel.throughput_per_second = 18
        await session.commit()
    await engine.dispose()
    send = f"/api/v2/whatsapp/templates/{template['id']}/send"
    bulk = [
        {"to": f"2169683{n:04d}", "country_code": "TN", "body_params": ["A", str(n)]}
        for n in range(54)
    ]
    answer = await live.herald.post(f"{send}-bulk", json={"recipients": bulk}, headers=live_ana)
    assert answer.status_code == 202, answer.text
    groups = [answer.json()["data"]["whatsapp_bulk_group_id"]]
    singles = [
        {"to": f"2169684{n:04d}", "country_code": "TN", "body_params": ["B", str(n)]}
        for n in range(12)
    ]
    for single in singles:  # one every batch's third or so, while the bulk (3 s) goes out
        answer = await live.herald.post(send, json=single, headers=live_ana)
        assert answer.status_code == 202, answer.text
        groups.append(answer.json()["data"]["whatsapp_bulk_group_id"])
        await asyncio.sleep(0.2)

    # Read: each was sent and its chunk's answers recorded (a copy goes out in the same chunk).
    async def all_read() -> bool:
        for group in groups:
            if any(m["state"] != "read" for m in await messages_of(live, live_ana, group)):
                return False
        return True

    await eventually(all_read, timeout=60, message="every message read")
    sent = Counter(m["to"] for m in (await live.emulator.get("/_emulator/messages")).json())
    assert sorted(sent) == sorted(r["to"] for r in bulk + singles)
    assert max(sent.values()) == 1
