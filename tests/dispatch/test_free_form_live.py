"""Free-form messages travel Herald → emulator → status webhooks → Herald over real HTTP: each
type reaches read; one that raced the window's end (Herald saw it open, the provider closed)
fails with window_closed."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select

from herald.db import create_engine, session_factory
from herald.models import InboundMessage
from tests.conftest import EMULATOR_APP_SECRET, DatabaseUnderTest, add_user
from tests.dispatch.test_end_to_end import approved_template
from tests.live_herald import Live, eventually
from tests.media import files
from tests.meta_webhook.test_endpoints import sign

CUSTOMER = "21696816277"
SEND = "/api/v2/whatsapp/messages"
TO = {"to": CUSTOMER, "country_code": "TN"}


async def sandbox_number(live: Live, auth: dict[str, str]) -> str:
    """The user's channel (made with their first template, as on the emulator), its number's
    id; the sandbox's account id is the same."""
    await approved_template(live, auth)
    templates = (await live.emulator.get("/_emulator/templates")).json()
    return str(templates[0]["waba_id"])


async def inbound_of(live: Live, wamid: str) -> int | None:
    engine = create_engine(live.settings.resolved_database_url)
    try:
        async with session_factory(engine)() as session:
            found = await session.scalar(
                select(InboundMessage.id).where(InboundMessage.provider_message_id == wamid)
            )
            return int(found) if found is not None else None
    finally:
        await engine.dispose()


async def customer_writes(live: Live, number_id: str) -> tuple[int, str]:
    """Through the emulator: its window and Herald's open; the inbound message's Herald id and
    wamid."""
    answer = await live.emulator.post(
        "/_emulator/inbound",
        json={"phone_number_id": number_id, "waba_id": number_id, "from": CUSTOMER, "text": "hi"},
    )
    wamid = answer.json()["id"]
    found: int | None = None

    async def arrived() -> bool:
        nonlocal found
        found = await inbound_of(live, wamid)
        return found is not None

    await eventually(arrived, message="the customer's message reaches Herald")
    assert found is not None
    return found, wamid


async def reaches(live: Live, auth: dict[str, str], message_id: int, state: str) -> dict[str, Any]:
    shown: dict[str, Any] = {}

    async def there() -> bool:
        nonlocal shown
        shown = (await live.herald.get(f"/api/whatsapp/{message_id}/", headers=auth)).json()["data"]
        return bool(shown["state"] == state)

    await eventually(there, message=f"message {message_id} reaches {state}")
    return shown


async def test_each_free_form_type_reaches_read(live: Live, live_ana: dict[str, str]) -> None:
    number_id = await sandbox_number(live, live_ana)
    inbound_id, inbound_wamid = await customer_writes(live, number_id)
    uploaded = await live.herald.post(
        "/api/v2/whatsapp/media",
        files={"file": ("parcel.png", files.png(), "image/png")},
        headers=live_ana,
    )
    assert uploaded.status_code == 201, uploaded.text
    photo = uploaded.json()["data"]["media_id"]
    sends: list[dict[str, Any]] = [
        {"type": "text", "text": {"body": "It left this morning."}, "reply_to": inbound_id},
        {"type": "image", "image": {"media_id": photo, "caption": "Your parcel"}},
        {"type": "video", "video": {"link": "https://example.com/clip.mp4"}},
        {"type": "audio", "audio": {"link": "https://example.com/note.ogg"}},
        {
            "type": "document",
            "document": {"link": "https://example.com/i.pdf", "filename": "invoice.pdf"},
        },
        {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Shall we deliver tomorrow?"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                        {"type": "reply", "reply": {"id": "later", "title": "Later"}},
                    ]
                },
            },
        },
        {
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Pick a slot"},
                "action": {
                    "button": "Slots",
                    "sections": [{"rows": [{"id": "m1", "title": "8-10"}]}],
                },
            },
        },
    ]
    ids = []
    for send in sends:
        answer = await live.herald.post(SEND, json={**TO, **send}, headers=live_ana)
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["data"]["message"]["id"])
    for message_id, send in zip(ids, sends, strict=True):
        shown = await reaches(live, live_ana, message_id, "read")
        assert shown["type"] == send["type"]
        assert all(shown[when] for when in ("sent_date", "delivered_at", "read_at"))

    sent = (await live.emulator.get("/_emulator/messages")).json()
    payloads = {p["biz_opaque_callback_data"]: p for p in (m["payload"] for m in sent)}
    text = payloads[str(ids[0])]
    assert text["type"] == "text"
    assert text["text"] == {"body": "It left this morning.", "preview_url": False}
    assert text["context"] == {"message_id": inbound_wamid}
    image = payloads[str(ids[1])]["image"]
    assert image["caption"] == "Your parcel"
    media = (await live.emulator.get("/_emulator/media")).json()
    assert image["id"] in [m["id"] for m in media]  # uploaded from Herald's store first


async def test_a_send_that_raced_the_windows_end_fails_with_window_closed(
    live: Live, live_ana: dict[str, str]
) -> None:
    """Herald saw the window open (the customer's message reached it) but the provider's had
    closed: Meta refuses with 131047, and the message fails for good with window_closed."""
    number_id = await sandbox_number(live, live_ana)
    # The customer's message reaches Herald alone (signed as Meta signs): the emulator never
    # saw the customer write, so its window is closed.
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": number_id},
        "contacts": [{"profile": {"name": "Sam"}, "wa_id": CUSTOMER}],
        "messages": [
            {
                "from": CUSTOMER,
                "id": "wamid.raced",
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": "where is my parcel?"},
            }
        ],
    }
    entry = {"id": number_id, "changes": [{"field": "messages", "value": value}]}
    body = json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()
    delivered = await live.herald.post(
        "/webhooks/whatsapp", content=body, headers=sign(body, EMULATOR_APP_SECRET)
    )
    assert delivered.status_code == 200, delivered.text

    async def window_open() -> bool:
        return await inbound_of(live, "wamid.raced") is not None

    await eventually(window_open, message="Herald stores the customer's message")
    answer = await live.herald.post(
        SEND, json={**TO, "type": "text", "text": {"body": "On its way"}}, headers=live_ana
    )
    assert answer.status_code == 202, answer.text
    failed = await reaches(live, live_ana, answer.json()["data"]["message"]["id"], "failed")
    assert failed["error"]["code"] == "window_closed"
    assert failed["error"]["title"]
    assert failed["sent_date"] is None
    refused = (await live.emulator.get("/_emulator/stats")).json()
    assert refused["refused"].get("131047") == 1, refused


async def test_another_users_customer_does_not_open_a_window(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    number_id = await sandbox_number(live, live_ana)
    await customer_writes(live, number_id)
    bob = await live.auth_for(await add_user(db, "bob@example.com"))
    await approved_template(live, bob)
    answer = await live.herald.post(
        SEND, json={**TO, "type": "text", "text": {"body": "Hello"}}, headers=bob
    )
    assert answer.status_code == 409, answer.text
    assert answer.json()["code"] == "window_closed"


async def test_a_failed_status_with_131047_fails_the_message_with_window_closed(
    live: Live, live_ana: dict[str, str]
) -> None:
    """Meta may also take the send and fail it afterwards (a failed status webhook)."""
    number_id = await sandbox_number(live, live_ana)
    await customer_writes(live, number_id)
    await live.emulator.patch("/_emulator/config", json={"failing_numbers": {CUSTOMER: 131047}})
    answer = await live.herald.post(
        SEND, json={**TO, "type": "text", "text": {"body": "On its way"}}, headers=live_ana
    )
    assert answer.status_code == 202, answer.text
    failed = await reaches(live, live_ana, answer.json()["data"]["message"]["id"], "failed")
    assert failed["error"]["code"] == "window_closed"
    assert failed["sent_date"]
