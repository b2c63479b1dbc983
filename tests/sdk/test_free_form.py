"""Free-form sends through the SDK to the live Herald and its emulator: ``send_text`` and
``send_free_form`` (both clients) reach read inside the customer's window; outside it the answer
is ``Conflict`` ``window_closed``; a broken message is ``BadRequest``."""

from __future__ import annotations

import asyncio

import pytest
from herald_client import AsyncHeraldClient, BadRequest, Conflict, HeraldClient

from tests.conftest import PASSWORD
from tests.dispatch.test_free_form_live import customer_writes
from tests.live_herald import Live
from tests.sdk.test_sending import approve, live_sdk, wait_for_state

__all__ = ["live_sdk"]  # the fixture, shared with test_sending

SAM = "21696816277"


async def number_id(live: Live, sdk: AsyncHeraldClient) -> str:
    """The channel's number (made with the first template, as on the emulator)."""
    await approve(sdk)
    templates = (await live.emulator.get("/_emulator/templates")).json()
    return str(templates[0]["waba_id"])


async def test_send_text_and_an_interactive_message_reach_read(
    live_sdk: AsyncHeraldClient, live: Live
) -> None:
    number = await number_id(live, live_sdk)
    with pytest.raises(Conflict) as closed:
        await live_sdk.messages.send_text(SAM, "TN", "Before the customer wrote")
    assert closed.value.code == "window_closed"
    assert closed.value.data == {"window_expires_at": None}

    inbound_id, _ = await customer_writes(live, number)
    text = await live_sdk.messages.send_text(
        SAM, "TN", "It left this morning.", reply_to=inbound_id
    )
    assert text["message"]["type"] == "text"
    assert text["message"]["template_id"] is None
    buttons = await live_sdk.messages.send_free_form(
        SAM,
        "TN",
        "interactive",
        {
            "type": "button",
            "body": {"text": "Shall we deliver tomorrow?"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                    {"type": "reply", "reply": {"id": "later", "title": "Later"}},
                ]
            },
        },
    )
    for accepted in (text, buttons):
        message = await wait_for_state(live_sdk, accepted["message"]["id"], "read")
        assert message["read_at"]
    listed = await live_sdk.list_messages(phone_number=SAM)
    assert [m["type"] for m in listed["items"]] == ["interactive", "text"]

    with pytest.raises(BadRequest) as refused:
        await live_sdk.messages.send_text(SAM, "TN", "x" * 4097)
    assert refused.value.code == "validation_failed"


async def test_the_sync_client_sends_a_text_and_a_file(
    live_sdk: AsyncHeraldClient, live: Live
) -> None:
    number = await number_id(live, live_sdk)
    await customer_writes(live, number)

    def send() -> list[int]:
        with HeraldClient(
            str(live.herald.base_url), email="ana@example.com", password=PASSWORD
        ) as sdk:
            text = sdk.messages.send_text(
                SAM, "TN", "See https://example.com/t/1", preview_url=True
            )
            image = sdk.messages.send_free_form(
                SAM, "TN", "image", {"link": "https://example.com/p.png", "caption": "Yours"}
            )
            return [text["message"]["id"], image["message"]["id"]]

    for message_id in await asyncio.to_thread(send):
        assert (await wait_for_state(live_sdk, message_id, "read"))["state"] == "read"
    sent = (await live.emulator.get("/_emulator/messages")).json()
    # By type: two sends of one channel leave a few ms apart, and may arrive in either order.
    payloads = {m["payload"]["type"]: m["payload"] for m in sent}
    assert payloads["text"]["text"] == {"body": "See https://example.com/t/1", "preview_url": True}
    assert payloads["image"]["image"] == {"link": "https://example.com/p.png", "caption": "Yours"}
