"""Marking a conversation read, end to end: the customer writes through the emulator, the
integrator reads the conversation, Meta (the emulator) receives the read receipt for the newest
message, and the unread count goes to 0."""

from __future__ import annotations

from typing import Any

from tests.dispatch.test_end_to_end import SAM, approved_template
from tests.live_herald import Live, eventually

CUSTOMER = SAM["to"]
CONVERSATIONS = "/api/v2/whatsapp/conversations"


async def test_reading_a_conversation_sends_meta_a_read_receipt(
    live: Live, live_ana: dict[str, str]
) -> None:
    template = await approved_template(live, live_ana)
    sent = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send", json=SAM, headers=live_ana
    )
    assert sent.status_code == 202, sent.text
    outbound: list[dict[str, Any]] = []

    async def one_sent() -> bool:
        nonlocal outbound
        outbound = (await live.emulator.get("/_emulator/messages")).json()
        return len(outbound) == 1

    await eventually(one_sent, message="sent")
    [emulated_template] = (await live.emulator.get("/_emulator/templates")).json()
    wamids = []
    for text in ("where is my parcel?", "hello?"):
        written = await live.emulator.post(
            "/_emulator/inbound",
            json={
                "phone_number_id": outbound[0]["phone_number_id"],
                "waba_id": emulated_template["waba_id"],
                "from": CUSTOMER,
                "text": text,
            },
        )
        wamids.append(written.json()["id"])

    async def both_unread() -> bool:
        listed = await live.herald.get(CONVERSATIONS, headers=live_ana)
        items = listed.json()["data"]["items"]
        return len(items) == 1 and items[0]["unread_count"] == 2

    await eventually(both_unread, message="the customer's two messages arrive")

    answer = await live.herald.post(f"{CONVERSATIONS}/{CUSTOMER}/read", headers=live_ana)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["marked_read"] == 2
    messages = await live.herald.get(f"{CONVERSATIONS}/{CUSTOMER}/messages", headers=live_ana)
    items = messages.json()["data"]["items"]
    newest_in = next(m for m in items if m["direction"] == "in")
    assert data["read_receipt_for"] == newest_in["id"]
    assert all(m["read_at"] for m in items if m["direction"] == "in")

    receipts = (await live.emulator.get("/_emulator/read-receipts")).json()
    assert [(r["phone_number_id"], r["message_id"]) for r in receipts] == [
        (outbound[0]["phone_number_id"], wamids[-1])
    ]
    [conversation] = (await live.herald.get(CONVERSATIONS, headers=live_ana)).json()["data"][
        "items"
    ]
    assert conversation["unread_count"] == 0
    assert conversation["window_open"] is True

    # Nothing new to read: no second receipt.
    again = await live.herald.post(f"{CONVERSATIONS}/{CUSTOMER}/read", headers=live_ana)
    assert again.json()["data"] == {
        "phone_number": CUSTOMER,
        "marked_read": 0,
        "read_receipt_for": None,
    }
    assert len((await live.emulator.get("/_emulator/read-receipts")).json()) == 1
