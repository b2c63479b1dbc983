"""The emulator's read receipts: Meta's shape (MarkMessageRequestPayload) and answer
(``{"success": true}``), only for a message a customer sent to that number."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from herald.emulator.app import create_emulator_app
from herald.emulator.config import EmulatorConfig
from tests.live import serve_app

TOKEN = "receipts-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NUMBER = "777"
CUSTOMER = "21696816277"


@pytest.fixture
async def emulator() -> AsyncIterator[httpx.AsyncClient]:
    config = EmulatorConfig(
        access_token=TOKEN, app_secret="s", approve_after_seconds=None, webhooks_enabled=False
    )
    app = create_emulator_app(config)
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
        yield http
    await app.state.emulator.aclose()


async def inbound(emulator: httpx.AsyncClient, number: str = NUMBER) -> str:
    written = await emulator.post(
        "/_emulator/inbound",
        json={"phone_number_id": number, "waba_id": number, "from": CUSTOMER, "text": "hi"},
    )
    wamid: str = written.json()["id"]
    return wamid


def receipt(wamid: str, **changes: Any) -> dict[str, Any]:
    body = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


async def test_a_receipt_for_a_customers_message_is_taken_and_kept(
    emulator: httpx.AsyncClient,
) -> None:
    wamid = await inbound(emulator)
    answer = await emulator.post(f"/v23.0/{NUMBER}/messages", json=receipt(wamid), headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"success": True}
    with_typing = receipt(wamid, typing_indicator={"type": "text"})
    answer = await emulator.post(f"/v23.0/{NUMBER}/messages", json=with_typing, headers=AUTH)
    assert answer.json() == {"success": True}
    kept = (await emulator.get("/_emulator/read-receipts")).json()
    assert [(r["phone_number_id"], r["message_id"], r["typing_indicator"]) for r in kept] == [
        (NUMBER, wamid, False),
        (NUMBER, wamid, True),
    ]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"messaging_product": "sms"}, 100),
        ({"status": "delivered"}, 100),
        ({"message_id": None}, 131008),
        ({"message_id": 12}, 100),
        ({"to": CUSTOMER}, 100),
        ({"typing_indicator": {"type": "audio"}}, 100),
    ],
)
async def test_a_malformed_receipt_is_refused_with_metas_code(
    emulator: httpx.AsyncClient, changes: dict[str, Any], code: int
) -> None:
    wamid = await inbound(emulator)
    answer = await emulator.post(
        f"/v23.0/{NUMBER}/messages", json=receipt(wamid, **changes), headers=AUTH
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == code
    assert (await emulator.get("/_emulator/read-receipts")).json() == []


async def test_only_a_message_a_customer_sent_to_that_number_can_be_read(
    emulator: httpx.AsyncClient,
) -> None:
    to_another_number = await inbound(emulator, number="888")
    for wamid in ("wamid.never-issued", to_another_number):
        answer = await emulator.post(f"/v23.0/{NUMBER}/messages", json=receipt(wamid), headers=AUTH)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == 100
    unauthenticated = await emulator.post(
        f"/v23.0/{NUMBER}/messages", json=receipt(await inbound(emulator))
    )
    assert unauthenticated.status_code == 401


async def test_a_customers_message_can_be_read_after_a_restart(tmp_path: Path) -> None:
    """What customers sent is kept in the state file, as the windows are."""
    config = EmulatorConfig(
        access_token=TOKEN,
        app_secret="s",
        approve_after_seconds=None,
        webhooks_enabled=False,
        state_path=str(tmp_path / "emulator.sqlite3"),
    )
    first = create_emulator_app(config)
    async with serve_app(first) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
        wamid = await inbound(http)
    await first.state.emulator.aclose()
    again = create_emulator_app(config)
    async with serve_app(again) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
        answer = await http.post(f"/v23.0/{NUMBER}/messages", json=receipt(wamid), headers=AUTH)
        assert answer.json() == {"success": True}
    await again.state.emulator.aclose()
