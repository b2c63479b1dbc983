"""``client.conversations``: the list, one conversation's messages by cursor, and marking read
(with Meta's read receipt, through the live emulator), on both clients."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from herald_client import AsyncHeraldClient, NotFound

from herald.config import Settings
from herald.kit.clock import FrozenClock
from herald.models import User
from tests.conftest import DatabaseUnderTest, add_user
from tests.conversation.helpers import Customers
from tests.dispatch.test_end_to_end import SAM
from tests.dispatch.test_end_to_end import approved_template as live_template
from tests.live_herald import Live, eventually
from tests.message.helpers import approved_template
from tests.sdk.conftest import FakeTime, sync_client
from tests.sdk.transports import AsyncWrapping, SyncWrapping

CUSTOMER = SAM["to"]


async def test_the_async_client_lists_pages_and_reads_conversations(
    sdk: AsyncHeraldClient,
    recorder: AsyncWrapping,
    herald: FastAPI,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    template = await approved_template(db, ana, settings, clock.now())
    transport = httpx.ASGITransport(app=herald)
    async with httpx.AsyncClient(transport=transport, base_url="http://herald.test") as http:
        customers = await Customers.of(http, db, clock, template)
        for text in ("one", "two", "three"):
            await customers.write(CUSTOMER, text)
            clock.advance(timedelta(minutes=1))
        await customers.write("21696810001", "other")

    listed = await sdk.conversations.list(limit=1)
    assert [c["phone_number"] for c in listed["items"]] == ["21696810001"]
    assert listed["pagination"]["total"] == 2
    cursor = listed["pagination"]["next_cursor"]
    assert cursor is not None
    rest = await sdk.conversations.list(limit=1, cursor=cursor)
    assert [(c["phone_number"], c["unread_count"]) for c in rest["items"]] == [(CUSTOMER, 3)]
    assert rest["pagination"]["next_cursor"] is None
    assert rest["items"][0]["window_open"] is True

    texts: list[str | None] = []
    page = await sdk.conversations.messages("+" + CUSTOMER, limit=2)
    while True:
        texts += [m["text"] for m in page["items"]]
        if page["pagination"]["next_cursor"] is None:
            break
        page = await sdk.conversations.messages(
            CUSTOMER, limit=2, cursor=page["pagination"]["next_cursor"]
        )
    assert texts == ["three", "two", "one"]
    assert recorder.requests[-1].url.params["cursor"]

    with pytest.raises(NotFound) as missing:
        await sdk.conversations.messages("21696819999")
    assert missing.value.code == "conversation_not_found"

    # A month later the messages are marked read in Herald only (too old for a receipt).
    clock.advance(timedelta(days=31))
    read = await sdk.conversations.read(CUSTOMER)
    assert read == {"phone_number": CUSTOMER, "marked_read": 3, "read_receipt_for": None}
    unread = await sdk.conversations.list(unread=True)
    assert [c["phone_number"] for c in unread["items"]] == ["21696810001"]
    assert recorder.requests[-1].url.params["unread"] == "true"


async def test_the_sync_client_reads_a_conversation_and_meta_gets_the_receipt(
    live: Live, db: DatabaseUnderTest, fake_time: FakeTime
) -> None:
    ana = await add_user(db, "ana@example.com")
    auth = await live.auth_for(ana)
    template = await live_template(live, auth)
    sent = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send", json=SAM, headers=auth
    )
    assert sent.status_code == 202, sent.text
    outbound: list[dict[str, Any]] = []

    async def one_sent() -> bool:
        nonlocal outbound
        outbound = (await live.emulator.get("/_emulator/messages")).json()
        return len(outbound) == 1

    await eventually(one_sent, message="sent")
    [emulated] = (await live.emulator.get("/_emulator/templates")).json()
    written = await live.emulator.post(
        "/_emulator/inbound",
        json={
            "phone_number_id": outbound[0]["phone_number_id"],
            "waba_id": emulated["waba_id"],
            "from": CUSTOMER,
            "text": "where is my parcel?",
        },
    )
    wamid = written.json()["id"]

    async def arrived() -> bool:
        listed = await live.herald.get("/api/v2/whatsapp/conversations", headers=auth)
        return bool(listed.json()["data"]["items"])

    await eventually(arrived, message="the customer's message arrives")

    def read_it() -> tuple[Any, Any, Any]:
        with sync_client(SyncWrapping(), fake_time, ana, str(live.herald.base_url)) as client:
            messages = client.conversations.messages(CUSTOMER)
            read = client.conversations.read(CUSTOMER)
            return messages, read, client.conversations.list()

    messages, read, listed = await asyncio.to_thread(read_it)
    assert [m["direction"] for m in messages["items"]] == ["in", "out"]
    assert read["marked_read"] == 1
    assert read["read_receipt_for"] == messages["items"][0]["id"]
    assert listed["items"][0]["unread_count"] == 0
    receipts = (await live.emulator.get("/_emulator/read-receipts")).json()
    assert [r["message_id"] for r in receipts] == [wamid]
