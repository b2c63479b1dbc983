"""The issue's scenario, tried as a new user would, over real HTTP: a template goes out; the
customer taps its quick reply and sends a photo asking "where is my parcel?"; the integrator's
callback hears both (the payload, the words, a photo it can download, the message they answer);
a text reply and a two-button question go out through the API and reach read; the conversation
shows all of it, in the API and in the console. (24 hours later a free-form send is refused with
nothing queued: tests/message/test_free_form.py, with a frozen clock.)"""

from __future__ import annotations

import base64
from typing import Any

from tests.callback.test_delivery import Receiver, register
from tests.console.helpers import console_session
from tests.console.test_conversations import bubbles
from tests.conversation.test_inbound import EVERY_EVENT, PNG
from tests.dispatch.test_end_to_end import SAM, approved_template
from tests.dispatch.test_free_form_live import reaches
from tests.live_herald import Live, eventually

CUSTOMER = SAM["to"]
TO = {"to": CUSTOMER, "country_code": "TN"}


async def test_a_customer_answers_a_template_and_the_business_replies(
    live: Live, live_ana: dict[str, str], receiver: Receiver
) -> None:
    await register(live, live_ana, receiver.url, EVERY_EVENT)
    template = await approved_template(
        live, live_ana, buttons=[{"type": "QUICK_REPLY", "text": "Where is it?"}]
    )
    sent = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send", json=SAM, headers=live_ana
    )
    assert sent.status_code == 202, sent.text
    template_message = sent.json()["data"]["message"]["id"]
    await reaches(live, live_ana, template_message, "read")
    [out] = (await live.emulator.get("/_emulator/messages")).json()
    waba_id = (await live.emulator.get("/_emulator/templates")).json()[0]["waba_id"]

    customer = {"phone_number_id": out["phone_number_id"], "waba_id": waba_id, "from": CUSTOMER}
    for body in (
        {
            "type": "button",
            "button": {"text": "Where is it?", "payload": "Where is it?"},
            "context_message_id": out["wamid"],
        },
        {
            "type": "image",
            "media": {
                "content_base64": base64.b64encode(PNG).decode(),
                "mime_type": "image/png",
                "caption": "where is my parcel?",
            },
        },
    ):
        answer = await live.emulator.post("/_emulator/inbound", json={**customer, **body})
        assert answer.status_code == 200, answer.text

    def received() -> dict[str, dict[str, Any]]:
        return {
            e["data"]["kind"]: e["data"] for e in receiver.events if e["type"] == "message.received"
        }

    async def both_heard() -> bool:
        return set(received()) == {"button", "image"}

    await eventually(both_heard, message="the callback hears the tap and the photo")
    tap, photo = received()["button"], received()["image"]
    assert (tap["payload"], tap["reply_to_message_id"]) == ("Where is it?", template_message)
    assert photo["text"] == "where is my parcel?"
    downloaded = await live.herald.get(photo["media"]["url"], headers=live_ana)
    assert (downloaded.status_code, downloaded.content) == (200, PNG)

    replies = [
        {"type": "text", "text": {"body": "It left this morning."}, "reply_to": photo["id"]},
        {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Deliver tomorrow?"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                        {"type": "reply", "reply": {"id": "later", "title": "Later"}},
                    ]
                },
            },
        },
    ]
    reply_ids = []
    for reply in replies:
        answer = await live.herald.post(
            "/api/v2/whatsapp/messages", json={**TO, **reply}, headers=live_ana
        )
        assert answer.status_code == 202, answer.text
        reply_ids.append(answer.json()["data"]["message"]["id"])
    for reply_id in reply_ids:
        await reaches(live, live_ana, reply_id, "read")

    listed = await live.herald.get(
        f"/api/v2/whatsapp/conversations/{CUSTOMER}/messages", headers=live_ana
    )
    assert listed.status_code == 200, listed.text
    items = list(reversed(listed.json()["data"]["items"]))  # oldest first
    assert [(i["direction"], i["type"], i["text"]) for i in items] == [
        ("out", "template", None),
        ("in", "button", "Where is it?"),
        ("in", "image", "where is my parcel?"),
        ("out", "text", "It left this morning."),
        ("out", "interactive", "Deliver tomorrow?"),
    ]
    assert [i["status"] for i in items if i["direction"] == "out"] == ["read"] * 3
    assert items[2]["media"]["url"] == photo["media"]["url"]
    assert items[3]["reply_to"] == photo["id"]

    await console_session(live.herald, "ana@example.com")
    page = await live.herald.get(f"/console/conversations/{CUSTOMER}")
    assert page.status_code == 200, page.text
    shown = bubbles(page)
    assert [direction for direction, _ in shown] == ["out", "in", "in", "out", "out"]
    assert "where is my parcel?" in shown[2][1]
    assert "It left this morning." in shown[3][1]
    assert "Deliver tomorrow?" in shown[4][1]
