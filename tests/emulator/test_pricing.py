"""The emulator prices a message as Meta does (per-message pricing): a template by its
category, billable; a free-form reply inside the customer's window as ``service``, free."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.test_app import (  # noqa: F401
    AUTH,
    WABA,
    Emulator,
    create,
    emulator,
    receiver,
    send,
    send_payload,
    template,
)

CUSTOMER = "4915112345678"


def pricings(emulator: Emulator) -> list[tuple[str, Any]]:  # noqa: F811
    return [
        (s["status"], s.get("pricing"))
        for c in emulator.receiver.changes()
        for s in c["value"].get("statuses", [])
    ]


@pytest.mark.parametrize("category", ["MARKETING", "UTILITY", "AUTHENTICATION"])
async def test_a_template_is_billed_under_its_category(
    emulator: Emulator,  # noqa: F811
    category: str,
) -> None:
    payload = {**template(), "category": category}
    if category == "AUTHENTICATION":  # Meta's fixed authentication body: an OTP button
        payload["components"] = [
            {"type": "BODY", "add_security_recommendation": False},
            {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]},
        ]
    template_id = await create(emulator, payload)
    await emulator.http.post(f"/_emulator/templates/{template_id}/approve")
    sent = send_payload()
    if category == "AUTHENTICATION":
        sent["template"]["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": "123456"}]},
            {
                "type": "button",
                "sub_type": "url",
                "index": "0",
                "parameters": [{"type": "text", "text": "123456"}],
            },
        ]
    answer = await send(emulator, sent)
    assert answer.status_code == 200, answer.text
    await emulator.drain()
    priced = {"billable": True, "pricing_model": "PMP", "category": category.lower()}
    assert pricings(emulator) == [("sent", priced), ("delivered", priced), ("read", None)]


async def test_a_reply_inside_the_window_is_free_service(
    emulator: Emulator,  # noqa: F811
) -> None:
    wrote = {"phone_number_id": WABA, "waba_id": WABA, "from": CUSTOMER, "text": "hi"}
    assert (await emulator.http.post("/_emulator/inbound", json=wrote)).status_code == 200
    text = {
        "messaging_product": "whatsapp",
        "to": CUSTOMER,
        "type": "text",
        "text": {"body": "Your parcel left today."},
    }
    answer = await send(emulator, text)
    assert answer.status_code == 200, answer.text
    await emulator.drain()
    free = {"billable": False, "pricing_model": "PMP", "category": "service"}
    assert pricings(emulator) == [("sent", free), ("delivered", free), ("read", None)]
