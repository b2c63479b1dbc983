"""Every kind of customer message, sent through the emulator's control API as Meta's webhook,
reaches Herald over real HTTP: stored once with its fields, linked to the contact (created) and
to the template it answers, its file fetched from the emulator and served by the content
route, and announced to the callback, signed (a message with a file once the file is in)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import httpx
from herald_client.callbacks import construct_event
from herald_client.signature import verify_signature
from sqlalchemy import select
from standardwebhooks import Webhook

from herald.db import session_factory
from herald.models import CallbackDelivery, Contact, InboundMessage, MediaAsset, Message
from tests.callback.test_delivery import Receiver, register
from tests.conftest import EMULATOR_APP_SECRET, DatabaseUnderTest, add_user
from tests.dispatch.test_end_to_end import SAM, approved_template
from tests.live_herald import Live, eventually

CUSTOMER = "21696816277"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\0" * 200
PDF = b"%PDF-1.7 the invoice"
EVERY_EVENT = ("message.status", "template.updated", "message.received")


def media(content: bytes, mime_type: str, **extra: Any) -> dict[str, Any]:
    return {"content_base64": base64.b64encode(content).decode(), "mime_type": mime_type, **extra}


def kinds(wamid: str) -> list[dict[str, Any]]:
    """One control body of each kind (less the numbers), in the order they are sent."""
    return [
        {
            "type": "button",
            "button": {"text": "Where?", "payload": "WHERE"},
            "context_message_id": wamid,
        },
        {"text": "where is my parcel?", "profile_name": "Sam Sender"},
        {"type": "image", "media": media(PNG, "image/png", caption="the box")},
        {"type": "document", "media": media(PDF, "application/pdf", filename="../in voice.pdf")},
        {"type": "audio", "media": media(b"OggS" + b"\1" * 50, "audio/ogg", voice=True)},
        {"type": "video", "media": media(b"\0\0\0\x18ftypmp42" + b"\0" * 40, "video/mp4")},
        {"type": "sticker", "media": media(b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 30, "image/webp")},
        {
            "type": "location",
            "location": {"latitude": 36.8, "longitude": 10.18, "name": "Depot", "address": "Tunis"},
        },
        {
            "type": "contacts",
            "contacts": [{"name": {"formatted_name": "Lucía Gómez"}, "phones": [{"phone": "+1"}]}],
        },
        {"type": "reaction", "reaction": {"message_id": wamid, "emoji": "👍"}},
        {
            "type": "interactive",
            "interactive": {
                "list_reply": {"id": "express", "title": "Express", "description": "1 day"}
            },
            "context_message_id": wamid,
        },
        {"type": "unsupported"},
    ]


async def sent_template(live: Live, auth: dict[str, str]) -> dict[str, Any]:
    template = await approved_template(live, auth)
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send", json=SAM, headers=auth
    )
    assert answer.status_code == 202, answer.text

    async def out() -> bool:
        return len((await live.emulator.get("/_emulator/messages")).json()) == 1

    await eventually(out, message="the template reaches the emulator")
    sent: dict[str, Any] = (await live.emulator.get("/_emulator/messages")).json()[0]
    templates = (await live.emulator.get("/_emulator/templates")).json()
    sent["waba_id"] = templates[0]["waba_id"]
    return sent


async def test_every_kind_is_stored_linked_fetched_served_and_announced(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest, receiver: Receiver
) -> None:
    secret = await register(live, live_ana, receiver.url, EVERY_EVENT)
    sent = await sent_template(live, live_ana)
    numbers = {"phone_number_id": sent["phone_number_id"], "waba_id": sent["waba_id"]}
    bodies = kinds(sent["wamid"])
    for body in bodies:
        answer = await live.emulator.post(
            "/_emulator/inbound", json={**numbers, "from": CUSTOMER, **body}
        )
        assert answer.status_code == 200, answer.text

    def received() -> list[dict[str, Any]]:
        return [e for e in receiver.events if e["type"] == "message.received"]

    async def all_announced() -> bool:
        return len(received()) == len(bodies)

    await eventually(all_announced, message="every message announced")

    sessions = session_factory(db.engine)
    async with sessions() as session:
        rows = (await session.scalars(select(InboundMessage).order_by(InboundMessage.id))).all()
        [contact] = (await session.scalars(select(Contact))).all()
        [message] = (await session.scalars(select(Message))).all()
        assets = {a.id: a for a in (await session.scalars(select(MediaAsset))).all()}
    assert [r.kind for r in rows] == [b.get("type", "text") for b in bodies]
    by_kind = {r.kind: r for r in rows}
    # The contact is created once, from the first message (its profile name as first name only
    # when created: the button came first, with the emulator's default name).
    assert (contact.number, contact.country_code, contact.firstname) == (CUSTOMER, "TN", "Customer")
    assert {r.contact_id for r in rows} == {contact.id}
    button = by_kind["button"]
    assert (button.text, button.payload, button.reply_to_message_id) == (
        "Where?",
        "WHERE",
        message.id,
    )
    assert button.context_message_id == sent["wamid"]
    assert by_kind["text"].text == "where is my parcel?"
    assert by_kind["text"].details == {"profile_name": "Sam Sender"}
    assert by_kind["interactive"].payload == "express"
    assert by_kind["interactive"].details["interactive"]["list_reply"]["description"] == "1 day"
    assert by_kind["location"].details["location"]["latitude"] == 36.8
    assert by_kind["contacts"].details["contacts"][0]["name"]["formatted_name"] == "Lucía Gómez"
    assert by_kind["reaction"].details["reaction"] == {"message_id": sent["wamid"], "emoji": "👍"}
    assert by_kind["unsupported"].details["errors"][0]["code"] == 131051
    assert by_kind["image"].text == "the box"
    assert by_kind["audio"].details["audio"]["voice"] is True
    for kind in ("image", "document", "audio", "video", "sticker"):
        row = by_kind[kind]
        assert row.media_status == "stored", kind
        assert row.media_id is not None
        assert assets[row.media_id].origin == "inbound"
        assert assets[row.media_id].kind == kind
    assert assets[by_kind["document"].media_id].filename == "in voice.pdf"

    # Each event is signed, and carries the message as stored, its file's URL, the reply.
    events = {}
    for raw, headers in receiver.deliveries:
        event = Webhook(secret).verify(raw, headers)
        if event["type"] == "message.received":
            events[event["data"]["kind"]] = event["data"]
            # The SDK's helpers verify it too: the current check and the older header.
            assert construct_event(raw, headers, secret) == event
            assert verify_signature(secret, raw, headers.get("x-herald-signature"))
    tap = events["button"]
    assert (tap["payload"], tap["text"], tap["from"]) == ("WHERE", "Where?", CUSTOMER)
    assert (tap["reply_to_message_id"], tap["context_message_id"]) == (message.id, sent["wamid"])
    assert tap["media"] is None
    assert tap["window_expires_at"] is not None
    photo = events["image"]
    assert photo["media"]["mime_type"] == "image/png"
    content = await live.herald.get(photo["media"]["url"], headers=live_ana)
    assert content.status_code == 200
    assert content.content == PNG
    assert content.headers["content-type"] == "image/png"
    assert content.headers["x-content-type-options"] == "nosniff"
    document = await live.herald.get(events["document"]["media"]["url"], headers=live_ana)
    assert document.content == PDF
    assert "filename*=utf-8''in%20voice.pdf" in document.headers["content-disposition"]
    assert document.headers["content-disposition"].startswith("attachment")

    # Another user's media is a 404; inbound files are not among the user's uploads.
    bob = await live.auth_for(await add_user(db, "bob@example.com"))
    other = await live.herald.get(photo["media"]["url"], headers=bob)
    assert other.status_code == 404
    assert other.json()["code"] == "media_not_found"
    listed = await live.herald.get("/api/v2/whatsapp/media", headers=live_ana)
    assert listed.json()["data"]["items"] == []

    # Meta delivers a webhook again: nothing is stored or announced twice.
    log = (await live.emulator.get("/_emulator/webhooks")).json()
    again = [d["body"] for d in log if d["body"]["entry"][0]["changes"][0]["field"] == "messages"]
    for body in again:
        raw = httpx.Request("POST", "/", json=body).content
        signature = hmac.new(EMULATOR_APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        answer = await live.herald.post(
            "/webhooks/whatsapp",
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": f"sha256={signature}",
            },
        )
        assert answer.is_success, answer.text

    async def settled() -> bool:
        async with sessions() as session:
            rows = (await session.scalars(select(CallbackDelivery))).all()
        return all(r.done_at is not None for r in rows)

    await eventually(settled, message="deliveries settled")
    async with sessions() as session:
        assert len((await session.scalars(select(InboundMessage))).all()) == len(bodies)
        assert len((await session.scalars(select(MediaAsset))).all()) == 5
        received_rows = (
            await session.scalars(
                select(CallbackDelivery).where(CallbackDelivery.inbound_message_id.is_not(None))
            )
        ).all()
    assert len(received_rows) == len(bodies)
