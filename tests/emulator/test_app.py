"""The emulator over real HTTP: Meta's contract for templates and sends, signed webhooks out,
the control API. Herald's provider tests lean on it, so its own behaviour is pinned here."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from herald.emulator.app import create_emulator_app
from herald.emulator.config import EmulatorConfig
from tests.emulator.uploads import sample_handle
from tests.live import serve_app

TOKEN = "emulator-token"
SECRET = "emulator-secret"
WABA = "555"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Receiver:
    """A webhook endpoint that records what arrives and can be told to fail first."""

    url: str = ""
    received: list[tuple[bytes, str]] = field(default_factory=list)
    failures_left: int = 0

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw, _ in self.received]

    def changes(self) -> list[dict[str, Any]]:
        return [c for body in self.bodies() for e in body["entry"] for c in e["changes"]]


@dataclass
class Emulator:
    http: httpx.AsyncClient
    receiver: Receiver
    config: EmulatorConfig

    async def drain(self) -> None:
        await self.http.post("/_emulator/drain")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recorder = Receiver()
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        if recorder.failures_left > 0:
            recorder.failures_left -= 1
            return Response(status_code=503)
        recorder.received.append(
            (await request.body(), request.headers.get("x-hub-signature-256", ""))
        )
        return Response(status_code=200)

    async with serve_app(app) as url:
        recorder.url = f"{url}/hook"
        yield recorder


@pytest.fixture
async def emulator(receiver: Receiver) -> AsyncIterator[Emulator]:
    config = EmulatorConfig(
        access_token=TOKEN,
        app_secret=SECRET,
        webhook_url=receiver.url,
        approve_after_seconds=None,
        status_delays=(0.0, 0.0, 0.0),
    )
    app = create_emulator_app(config)
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
        yield Emulator(http, receiver, config)
    await app.state.emulator.aclose()


def template(name: str = "order_update", body: str = "Hi {{1}}, order {{2}}") -> dict[str, Any]:
    return {
        "name": name,
        "language": "en",
        "category": "UTILITY",
        "components": [
            {"type": "BODY", "text": body, "example": {"body_text": [["Ana", "42"]]}},
        ],
    }


async def create(emulator: Emulator, payload: dict[str, Any] | None = None) -> str:
    answer = await emulator.http.post(
        f"/v23.0/{WABA}/message_templates", json=payload or template(), headers=AUTH
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "PENDING"
    return str(answer.json()["id"])


def send_payload(to: str = "4915112345678", params: int = 2) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "biz_opaque_callback_data": "herald-message-7",
        "template": {
            "name": "order_update",
            "language": {"code": "en"},
            "components": [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": str(n)} for n in range(params)],
                }
            ],
        },
    }


async def send(emulator: Emulator, payload: dict[str, Any] | None = None) -> httpx.Response:
    return await emulator.http.post(
        f"/v23.0/{WABA}/messages", json=payload or send_payload(), headers=AUTH
    )


def error_code(answer: httpx.Response) -> tuple[int, int | None]:
    error = answer.json()["error"]
    return error["code"], error.get("error_subcode")


# --- authentication and template validation ----------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, 104), ({"Authorization": "Bearer wrong"}, 190), ({"Authorization": TOKEN}, 190)],
)
async def test_graph_routes_need_the_access_token(
    emulator: Emulator, headers: dict[str, str], code: int
) -> None:
    """Meta's ``Unauthorized`` examples: no token is 104, a token it cannot take 190."""
    for answer in (
        await emulator.http.get(f"/v23.0/{WABA}/message_templates", headers=headers),
        await emulator.http.post(f"/v23.0/{WABA}/messages", json=send_payload(), headers=headers),
    ):
        assert answer.status_code == 401
        assert error_code(answer) == (code, None)
        assert answer.json()["error"]["type"] == "OAuthException"


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Has Spaces"},
        {"category": "NEWS"},
        {"language": ""},
        {"components": [{"type": "HEADER", "format": "TEXT", "text": "x"}]},
        {"components": [{"type": "BODY", "text": "Hi {{1}}"}]},  # no example for {{1}}
    ],
)
async def test_invalid_templates_are_code_100(emulator: Emulator, change: dict[str, Any]) -> None:
    answer = await emulator.http.post(
        f"/v23.0/{WABA}/message_templates", json={**template(), **change}, headers=AUTH
    )
    assert answer.status_code == 400
    assert error_code(answer) == (100, None)
    assert answer.json()["error"]["fbtrace_id"]


async def test_a_duplicate_name_and_language_is_subcode_2388024(emulator: Emulator) -> None:
    await create(emulator)
    again = await emulator.http.post(
        f"/v23.0/{WABA}/message_templates", json=template(), headers=AUTH
    )
    assert error_code(again) == (100, 2388024)
    # The same name in another WABA is a different template.
    other = await emulator.http.post("/v23.0/777/message_templates", json=template(), headers=AUTH)
    assert other.status_code == 200


async def test_listing_pages_with_cursors_until_no_next(emulator: Emulator) -> None:
    for n in range(5):
        await create(emulator, template(name=f"t{n}"))
    names: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"after": after} if after else {})}
        answer = await emulator.http.get(
            f"/v23.0/{WABA}/message_templates", params=params, headers=AUTH
        )
        body = answer.json()
        names += [t["name"] for t in body["data"]]
        pages += 1
        if "next" not in body["paging"]:
            break
        after = body["paging"]["cursors"]["after"]
    assert names == [f"t{n}" for n in range(5)]
    assert pages == 3
    bad = await emulator.http.get(
        f"/v23.0/{WABA}/message_templates", params={"after": "!!"}, headers=AUTH
    )
    assert error_code(bad) == (100, None)


async def test_delete_removes_and_an_unknown_name_is_subcode_2593002(emulator: Emulator) -> None:
    await create(emulator)
    path = f"/v23.0/{WABA}/message_templates"
    gone = await emulator.http.delete(path, params={"name": "order_update"}, headers=AUTH)
    assert gone.json() == {"success": True}
    again = await emulator.http.delete(path, params={"name": "order_update"}, headers=AUTH)
    assert error_code(again) == (100, 2593002)
    listed = await emulator.http.get(path, headers=AUTH)
    assert listed.json()["data"] == []


# --- review and signed webhooks ------------------------------------------------------------------


async def test_control_review_sends_signed_status_webhooks(emulator: Emulator) -> None:
    approved = await create(emulator)
    rejected = await create(emulator, template(name="promo"))
    assert (await emulator.http.post(f"/_emulator/templates/{approved}/approve")).status_code == 200
    answer = await emulator.http.post(
        f"/_emulator/templates/{rejected}/reject", json={"reason": "PROMOTIONAL"}
    )
    assert answer.json()["rejected_reason"] == "PROMOTIONAL"
    await emulator.drain()

    for raw, signature in emulator.receiver.received:
        expected = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        assert signature == f"sha256={expected}"
    events = {
        c["value"]["message_template_id"]: (c["value"]["event"], c["value"]["reason"])
        for c in emulator.receiver.changes()
    }
    assert events == {
        int(approved): ("APPROVED", "NONE"),
        int(rejected): ("REJECTED", "PROMOTIONAL"),
    }
    assert all(b["entry"][0]["id"] == WABA for b in emulator.receiver.bodies())
    missing = await emulator.http.post("/_emulator/templates/404/approve")
    assert missing.status_code == 404


async def test_templates_are_approved_after_the_configured_delay(emulator: Emulator) -> None:
    await emulator.http.patch("/_emulator/config", json={"approve_after_seconds": 0.05})
    template_id = await create(emulator)
    await asyncio.sleep(0.3)
    await emulator.drain()
    listed = (await emulator.http.get("/_emulator/templates")).json()
    assert [(t["id"], t["status"]) for t in listed] == [(template_id, "APPROVED")]
    assert [c["value"]["event"] for c in emulator.receiver.changes()] == ["APPROVED"]


async def test_a_failing_receiver_gets_the_webhook_again(emulator: Emulator) -> None:
    emulator.receiver.failures_left = 2
    template_id = await create(emulator)
    await emulator.http.post(f"/_emulator/templates/{template_id}/approve")
    await emulator.drain()
    assert len(emulator.receiver.received) == 1
    log = (await emulator.http.get("/_emulator/webhooks")).json()
    assert [(d["attempts"], d["delivered"]) for d in log] == [(3, True)]


# --- sends ---------------------------------------------------------------------------------------


async def approve(emulator: Emulator) -> None:
    template_id = await create(emulator)
    await emulator.http.post(f"/_emulator/templates/{template_id}/approve")


async def test_a_send_is_answered_with_a_wamid_then_sent_delivered_read(
    emulator: Emulator,
) -> None:
    await approve(emulator)
    answer = await send(emulator)
    assert answer.status_code == 200, answer.text
    wamid = answer.json()["messages"][0]["id"]
    assert answer.json()["contacts"] == [{"input": "4915112345678", "wa_id": "4915112345678"}]
    await asyncio.sleep(0.2)
    await emulator.drain()
    statuses = [s for c in emulator.receiver.changes() for s in c["value"].get("statuses", [])]
    assert [(s["id"], s["status"]) for s in statuses] == [
        (wamid, "sent"),
        (wamid, "delivered"),
        (wamid, "read"),
    ]
    assert {s["biz_opaque_callback_data"] for s in statuses} == {"herald-message-7"}
    recorded = (await emulator.http.get("/_emulator/messages")).json()
    assert [m["wamid"] for m in recorded] == [wamid]


async def test_an_unknown_or_pending_template_is_132001(emulator: Emulator) -> None:
    assert error_code(await send(emulator)) == (132001, None)
    await create(emulator)  # still PENDING
    assert error_code(await send(emulator)) == (132001, None)


async def test_a_wrong_parameter_count_is_132000(emulator: Emulator) -> None:
    await approve(emulator)
    assert error_code(await send(emulator, send_payload(params=1))) == (132000, None)


async def test_paused_templates_are_132015(emulator: Emulator) -> None:
    template_id = await create(emulator)
    await emulator.http.post(
        f"/_emulator/templates/{template_id}/status", json={"status": "paused"}
    )
    assert error_code(await send(emulator)) == (132015, None)


async def test_throughput_above_the_limit_is_130429(emulator: Emulator) -> None:
    await approve(emulator)
    await emulator.http.patch("/_emulator/config", json={"throughput_per_second": 5})
    answers = [await send(emulator, send_payload(to=f"49151000000{n:02d}")) for n in range(20)]
    refused = [a for a in answers if a.status_code != 200]
    assert refused, "20 sends at once must exceed 5/s"
    assert {error_code(a) for a in refused} == {(130429, None)}
    stats = (await emulator.http.get("/_emulator/stats")).json()
    assert stats["refused"] == {"130429": len(refused)}


async def test_the_tolerated_burst_is_configurable(emulator: Emulator) -> None:
    """At 1/s a tenth of a second holds one send; five seconds hold five at once."""
    await approve(emulator)

    async def accepted_at_once(burst: float) -> int:
        await emulator.http.patch(
            "/_emulator/config",
            json={"throughput_per_second": 1, "throughput_burst_seconds": burst},
        )
        answers = [await send(emulator, send_payload(to=f"49152000000{n:02d}")) for n in range(8)]
        return sum(a.status_code == 200 for a in answers)

    assert await accepted_at_once(0.1) == 1
    assert await accepted_at_once(5.0) == 5


async def test_a_second_message_to_one_recipient_too_soon_is_131056(emulator: Emulator) -> None:
    await approve(emulator)
    await emulator.http.patch("/_emulator/config", json={"pair_rate_seconds": 60})
    assert (await send(emulator)).status_code == 200
    assert error_code(await send(emulator)) == (131056, None)
    assert (await send(emulator, send_payload(to="4915199999999"))).status_code == 200


async def test_injected_server_errors_are_500_131000(emulator: Emulator) -> None:
    await approve(emulator)
    await emulator.http.patch("/_emulator/config", json={"error_rate": 1.0})
    answer = await send(emulator)
    assert answer.status_code == 500
    assert error_code(answer) == (131000, None)


async def test_failing_numbers_get_a_failed_status_with_the_code(emulator: Emulator) -> None:
    await approve(emulator)
    await emulator.http.patch(
        "/_emulator/config", json={"failing_numbers": {"4915112345678": 131026}}
    )
    assert (await send(emulator)).status_code == 200
    await asyncio.sleep(0.2)
    await emulator.drain()
    statuses = [s for c in emulator.receiver.changes() for s in c["value"].get("statuses", [])]
    assert [s["status"] for s in statuses] == ["sent", "failed"]
    assert statuses[-1]["errors"][0]["code"] == 131026


async def test_the_config_is_shown_without_its_secrets(emulator: Emulator) -> None:
    shown = (await emulator.http.get("/_emulator/config")).json()
    assert "access_token" not in shown
    assert "app_secret" not in shown
    assert TOKEN not in json.dumps(shown)
    assert SECRET not in json.dumps(shown)


async def test_the_emulator_works_mounted_under_a_prefix(receiver: Receiver) -> None:
    config = EmulatorConfig(access_token=TOKEN, app_secret=SECRET, approve_after_seconds=None)
    inner = create_emulator_app(config)
    outer = FastAPI()
    outer.mount("/emulator", inner)
    async with serve_app(outer) as url, httpx.AsyncClient(base_url=url) as http:
        for n in range(3):
            payload = template(name=f"m{n}")
            await http.post(f"/emulator/v23.0/{WABA}/message_templates", json=payload, headers=AUTH)
        page = await http.get(
            f"/emulator/v23.0/{WABA}/message_templates", params={"limit": 2}, headers=AUTH
        )
        # Paging links must point back through the mount, or a client following them gets 404.
        following = await http.get(page.json()["paging"]["next"], headers=AUTH)
        assert [t["name"] for t in following.json()["data"]] == ["m2"]
    await inner.state.emulator.aclose()


# --- media ---------------------------------------------------------------------------------------


async def document_template(emulator: Emulator) -> dict[str, Any]:
    handle = await sample_handle(emulator.http, AUTH, b"%PDF-1.7 hello", "application/pdf")
    payload = template()
    header = {"type": "HEADER", "format": "DOCUMENT", "example": {"header_handle": [handle]}}
    payload["components"] = [header, *payload["components"]]
    return payload


async def upload(emulator: Emulator, phone_number_id: str = WABA) -> str:
    answer = await emulator.http.post(
        f"/v23.0/{phone_number_id}/media",
        data={"messaging_product": "whatsapp", "type": "application/pdf"},
        files={"file": ("a.pdf", b"%PDF-1.7 hello", "application/pdf")},
        headers=AUTH,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def with_header(kind: str, media_id: str) -> dict[str, Any]:
    payload = send_payload()
    payload["template"]["components"].insert(
        0, {"type": "header", "parameters": [{"type": kind, kind: {"id": media_id}}]}
    )
    return payload


async def test_media_upload_describe_delete(emulator: Emulator) -> None:
    media_id = await upload(emulator)
    described = await emulator.http.get(f"/v23.0/{media_id}", headers=AUTH)
    assert described.json()["file_size"] == len(b"%PDF-1.7 hello")
    assert described.json()["sha256"] == hashlib.sha256(b"%PDF-1.7 hello").hexdigest()
    assert (await emulator.http.delete(f"/v23.0/{media_id}", headers=AUTH)).json() == {
        "success": True
    }
    gone = await emulator.http.get(f"/v23.0/{media_id}", headers=AUTH)
    assert error_code(gone) == (100, 33)
    no_product = await emulator.http.post(
        f"/v23.0/{WABA}/media",
        data={"type": "application/pdf"},
        files={"file": ("a.pdf", b"%PDF", "application/pdf")},
        headers=AUTH,
    )
    assert error_code(no_product) == (100, None)


@pytest.mark.parametrize(
    ("name", "mime_type"),
    [("a.jpg", "image/jpeg"), ("a.webp", "image/webp"), ("a.ogg", "audio/ogg")],
)
async def test_the_uploads_of_metas_examples_are_taken(
    emulator: Emulator, name: str, mime_type: str
) -> None:
    """Meta's ``POST /{Phone-Number-ID}/media`` examples upload an image, a sticker and an
    audio file; each is taken, and the same file without its ``type`` is not."""
    form = {"messaging_product": "whatsapp", "type": mime_type}
    files = {"file": (name, b"\x00" * 64, mime_type)}
    answer = await emulator.http.post(f"/v23.0/{WABA}/media", data=form, files=files, headers=AUTH)
    assert answer.status_code == 200, answer.text
    del form["type"]
    untyped = await emulator.http.post(f"/v23.0/{WABA}/media", data=form, files=files, headers=AUTH)
    assert error_code(untyped) == (100, None)


async def test_template_sends_check_the_header_media(emulator: Emulator) -> None:
    template_id = await create(emulator, await document_template(emulator))
    await emulator.http.post(f"/_emulator/templates/{template_id}/approve")
    media_id = await upload(emulator)
    assert error_code(await send(emulator)) == (131008, None)  # no header at all
    assert error_code(await send(emulator, with_header("image", media_id))) == (132012, None)
    assert error_code(await send(emulator, with_header("document", "404"))) == (131053, None)
    assert (await send(emulator, with_header("document", media_id))).status_code == 200

    other_number = await upload(emulator, phone_number_id="999")
    refused = await send(emulator, with_header("document", other_number))
    assert error_code(refused) == (131053, None)  # uploaded from another number

    expired = await emulator.http.post(f"/_emulator/media/{media_id}/expire")
    assert expired.json()["expired"] is True
    assert error_code(await send(emulator, with_header("document", media_id))) == (131053, None)
