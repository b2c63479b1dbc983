"""The emulator remembers what Meta remembers: ``herald emulator --state`` killed with SIGKILL
and started again on the same file still knows its templates, media, upload sessions and the
header handles they issued, phone numbers and knobs, and still sends the webhooks it had not
delivered; webhooks are retried as Meta retries them."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from herald.emulator.app import create_emulator_app
from herald.emulator.config import EmulatorConfig
from tests.cli.helpers import herald_started
from tests.emulator.test_app import (
    AUTH,
    SECRET,
    TOKEN,
    WABA,
    Emulator,
    Receiver,
    create,
    receiver,
    send,
    send_payload,
    template,
)
from tests.emulator.uploads import APP_ID, sample_handle
from tests.live import free_port, serve_app
from tests.live_herald import eventually
from tests.media import files

__all__ = ["receiver"]  # the fixture, shared with test_app.py


@contextmanager
def emulator_process(state: Path, webhook_url: str, log: Path, *extra: str) -> Iterator[str]:
    """``herald emulator --state`` (and ``extra`` options) on a port of its own; SIGKILLed on
    the way out."""
    port = free_port()
    options = ["--port", str(port), "--webhook-url", webhook_url, "--approve-after", "3600"]
    process = herald_started(
        ["emulator", *options, "--state", str(state), *extra],
        {"HERALD_EMULATOR_APP_SECRET": SECRET, "HERALD_EMULATOR_ACCESS_TOKEN": TOKEN},
        log,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)


@asynccontextmanager
async def running(
    state: Path, receiver: Receiver, tmp_path: Path, *extra: str
) -> AsyncIterator[httpx.AsyncClient]:
    with emulator_process(state, receiver.url, tmp_path / "emulator.log", *extra) as url:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:

            async def up() -> bool:
                try:
                    return (await http.get("/_emulator/config")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(up, timeout=30, message="the emulator answers")
            yield http


def as_emulator(http: httpx.AsyncClient, receiver: Receiver) -> Emulator:
    return Emulator(http, receiver, EmulatorConfig(access_token=TOKEN, app_secret=SECRET))


async def test_an_approved_template_survives_a_sigkill(receiver: Receiver, tmp_path: Path) -> None:
    state = tmp_path / "emulator.sqlite3"
    async with running(state, receiver, tmp_path) as http:
        template_id = await create(as_emulator(http, receiver))
        approved = await http.post(f"/_emulator/templates/{template_id}/approve")
        assert approved.json()["status"] == "APPROVED"
        await http.put("/_emulator/phone-numbers/777", json={"waba_id": WABA})
        await http.patch("/_emulator/config", json={"pair_rate_seconds": 30.0})
    # SIGKILLed, the moment the approval was answered; started again on the same file.
    async with running(state, receiver, tmp_path) as http:
        listed = (await http.get(f"/v23.0/{WABA}/message_templates", headers=AUTH)).json()
        assert [(t["id"], t["status"]) for t in listed["data"]] == [(template_id, "APPROVED")]
        assert (await http.get("/_emulator/config")).json()["pair_rate_seconds"] == 30.0
        answer = await http.post("/v23.0/777/messages", json=send_payload(), headers=AUTH)
        assert answer.status_code == 200, answer.text  # 777 still sends for the WABA
        wamid = answer.json()["messages"][0]["id"]

        async def read() -> bool:
            return any(
                s["id"] == wamid and s["status"] == "read"
                for c in receiver.changes()
                for s in c["value"].get("statuses", [])
            )

        await eventually(read, message="the send is delivered and read")
        again = await http.post(f"/v23.0/{WABA}/message_templates", json=template(), headers=AUTH)
        assert again.json()["error"]["error_subcode"] == 2388024  # still known: a duplicate
        new_id = (
            await http.post(
                f"/v23.0/{WABA}/message_templates", json=template("other"), headers=AUTH
            )
        ).json()["id"]
        assert int(new_id) > int(template_id)  # ids are never handed out twice


async def test_undelivered_statuses_arrive_after_a_sigkill(
    receiver: Receiver, tmp_path: Path
) -> None:
    state = tmp_path / "emulator.sqlite3"
    async with running(state, receiver, tmp_path) as http:
        template_id = await create(as_emulator(http, receiver))
        await http.post(f"/_emulator/templates/{template_id}/approve")

        async def approval_delivered() -> bool:
            return len(receiver.changes()) == 1

        await eventually(approval_delivered, message="the approval webhook")
        receiver.failures_left = 10**6  # Herald is down
        answer = await send(as_emulator(http, receiver))
        assert answer.status_code == 200, answer.text
        wamid = answer.json()["messages"][0]["id"]

        async def retried() -> bool:
            log = (await http.get("/_emulator/webhooks")).json()
            return any(d["attempts"] >= 3 for d in log)

        await eventually(retried, message="the statuses' delivery retried")
    receiver.failures_left = 0  # Herald is back; the emulator was killed meanwhile
    async with running(state, receiver, tmp_path):

        async def all_statuses() -> bool:
            statuses = [
                s["status"]
                for c in receiver.changes()
                for s in c["value"].get("statuses", [])
                if s["id"] == wamid
            ]
            return sorted(set(statuses)) == ["delivered", "read", "sent"]

        await eventually(all_statuses, timeout=20, message="sent, delivered, read after restart")


def document_template(handle: str) -> dict[str, Any]:
    payload = template("receipt")
    header = {"type": "HEADER", "format": "DOCUMENT", "example": {"header_handle": [handle]}}
    payload["components"].insert(0, header)
    return payload


async def test_uploads_survive_a_sigkill(receiver: Receiver, tmp_path: Path) -> None:
    state = tmp_path / "emulator.sqlite3"
    sample = files.pdf(4096)
    async with running(state, receiver, tmp_path) as http:
        handle = await sample_handle(http, AUTH, sample, "application/pdf")
        params = {"file_name": "b.pdf", "file_length": len(sample), "file_type": "application/pdf"}
        opened = await http.post(f"/v23.0/{APP_ID}/uploads", params=params, headers=AUTH)
        unfinished = opened.json()["id"]
        half = await http.post(
            f"/v23.0/{unfinished}", content=sample[:1000], headers={**AUTH, "file_offset": "0"}
        )
        assert half.json()["file_offset"] == 1000
    # SIGKILLed between the sample's upload and the template's creation.
    async with running(state, receiver, tmp_path) as http:
        created = await http.post(
            f"/v23.0/{WABA}/message_templates", json=document_template(handle), headers=AUTH
        )
        assert created.status_code == 200, created.text
        # The unfinished upload's bytes were not kept: it stands at 0, and is sent again from there.
        status = await http.get(f"/v23.0/{unfinished}", headers=AUTH)
        assert status.json()["file_offset"] == 0
        again = await http.post(
            f"/v23.0/{unfinished}", content=sample, headers={**AUTH, "file_offset": "0"}
        )
        assert again.json()["h"].startswith("4::")
    async with running(state, receiver, tmp_path) as http:  # a handle is still good later on
        payload = {**document_template(again.json()["h"]), "name": "receipt_two"}
        created = await http.post(f"/v23.0/{WABA}/message_templates", json=payload, headers=AUTH)
        assert created.status_code == 200, created.text


async def test_media_and_a_paused_template_survive_a_restart(
    receiver: Receiver, tmp_path: Path
) -> None:
    state = tmp_path / "emulator.sqlite3"
    async with running(state, receiver, tmp_path) as http:
        template_id = await create(as_emulator(http, receiver))
        await http.post(f"/_emulator/templates/{template_id}/approve")
        await http.post(f"/_emulator/templates/{template_id}/pause")
        uploaded = await http.post(
            f"/v23.0/{WABA}/media",
            data={"messaging_product": "whatsapp", "type": "image/png"},
            files={"file": ("a.png", b"\x89PNG" + b"0" * 100, "image/png")},
            headers=AUTH,
        )
        media_id = uploaded.json()["id"]
        # Delivered and written down: without it, a webhook the SIGKILL catches between the
        # two may come again after the restart (at least once, as Meta delivers them).
        await http.post("/_emulator/drain")
    async with running(state, receiver, tmp_path) as http:
        described = await http.get(f"/v23.0/{media_id}", headers=AUTH)
        assert described.json()["file_size"] == 104
        refused = await send(as_emulator(http, receiver))
        assert refused.json()["error"]["code"] == 132015
        await http.post(f"/_emulator/templates/{template_id}/reinstate")
        assert (await send(as_emulator(http, receiver))).status_code == 200
        await http.post("/_emulator/drain")
    events = [c["value"]["event"] for c in receiver.changes() if "event" in c["value"]]
    assert events == ["APPROVED", "PAUSED", "REINSTATED"]


@pytest.fixture
async def patient(receiver: Receiver) -> AsyncIterator[Emulator]:
    """An in-process emulator whose retries come quickly (the cap is a knob)."""
    config = EmulatorConfig(
        access_token=TOKEN,
        app_secret=SECRET,
        webhook_url=receiver.url,
        approve_after_seconds=None,
        webhook_retry_cap_seconds=0.2,
    )
    app = create_emulator_app(config)
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield Emulator(http, receiver, config)
    await app.state.emulator.aclose()


async def test_webhooks_are_retried_beyond_a_handful_of_tries(patient: Emulator) -> None:
    patient.receiver.failures_left = 12  # was given up after 5 tries in six seconds
    template_id = await create(patient)
    await patient.http.post(f"/_emulator/templates/{template_id}/approve")
    await patient.drain()
    assert len(patient.receiver.received) == 1
    log = (await patient.http.get("/_emulator/webhooks")).json()
    assert [(d["attempts"], d["delivered"]) for d in log] == [(13, True)]
