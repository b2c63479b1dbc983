"""``POST /_emulator/inbound``: every kind becomes Meta's webhook (checked against Meta's
``IncomingMessage`` schema), a customer's file is served behind the token, bad bodies are 400,
and the file survives a restart. (Each kind's members are Meta's: its schema's required lists;
Herald's parser reads them in tests/conversation/test_inbound.py.)"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.test_app import AUTH, Emulator, emulator, receiver  # noqa: F401
from tests.emulator.test_state import running
from tests.live_herald import eventually
from tests.meta_spec import load_spec

CUSTOMER = "21696816277"
NUMBER = "106540352242922"
PNG = bytes.fromhex("89504e470d0a1a0a") + b"\0" * 64
BASE = {"phone_number_id": NUMBER, "waba_id": "419561257915477", "from": CUSTOMER}


def file(content: bytes, mime_type: str, **extra: Any) -> dict[str, Any]:
    return {"content_base64": base64.b64encode(content).decode(), "mime_type": mime_type, **extra}


KINDS: list[dict[str, Any]] = [
    {"text": "where is my parcel?"},
    {"type": "image", "media": file(PNG, "image/png", caption="the box")},
    {"type": "video", "media": file(b"\0\0\0\x18ftypmp42", "video/mp4")},
    {"type": "audio", "media": file(b"OggS", "audio/ogg", voice=True)},
    {"type": "document", "media": file(b"%PDF-1.7", "application/pdf", filename="a.pdf")},
    {"type": "sticker", "media": file(b"RIFF....WEBP", "image/webp", animated=True)},
    {
        "type": "location",
        "location": {"latitude": 1.5, "longitude": 2, "name": "n", "address": "a"},
    },
    {"type": "contacts", "contacts": [{"name": {"formatted_name": "Ana"}}]},
    {"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}},
    {
        "type": "button",
        "button": {"text": "Yes", "payload": "YES"},
        "context_message_id": "wamid.X",
    },
    {
        "type": "interactive",
        "interactive": {"button_reply": {"id": "yes", "title": "Yes"}},
        "context_message_id": "wamid.X",
    },
    {"type": "unsupported"},
]


async def test_every_kind_is_metas_webhook_and_a_file_is_served_with_the_token(
    emulator: Emulator,  # noqa: F811
) -> None:
    for body in KINDS:
        answer = await emulator.http.post("/_emulator/inbound", json={**BASE, **body})
        assert answer.status_code == 200, (body, answer.text)
    await emulator.drain()
    changes = emulator.receiver.changes()
    messages = [c["value"]["messages"][0] for c in changes]
    assert [m["type"] for m in messages] == [b.get("type", "text") for b in KINDS]
    schemas = load_spec()["components"]["schemas"]
    for message in messages:
        # Meta's required members of the kind (its schema's ``required`` lists).
        kind = message["type"]
        assert {"from", "id", "timestamp", "type"} <= set(message)
        if kind in ("image", "video", "audio", "document", "sticker"):
            assert set(schemas["MediaMessageProperties"]["required"]) <= set(message[kind])
    assert all(c["value"]["contacts"][0]["wa_id"] == CUSTOMER for c in changes)

    image = messages[1]["image"]
    assert image["caption"] == "the box"
    assert base64.b64decode(image["sha256"]) == hashlib.sha256(PNG).digest()
    assert messages[3]["audio"]["voice"] is True
    assert messages[4]["document"]["filename"] == "a.pdf"
    assert messages[9]["context"]["id"] == "wamid.X"
    assert messages[10]["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "yes", "title": "Yes"},
    }
    assert messages[11]["errors"][0]["code"] == 131051

    described = await emulator.http.get(
        f"/v23.0/{image['id']}", params={"phone_number_id": NUMBER}, headers=AUTH
    )
    assert described.status_code == 200, described.text
    url = described.json()["url"]
    assert (await emulator.http.get(url)).status_code == 401  # Meta's URL needs the token
    got = await emulator.http.get(url, headers=AUTH)
    assert (got.content, got.headers["content-type"]) == (PNG, "image/png")
    other = await emulator.http.get(
        f"/v23.0/{image['id']}", params={"phone_number_id": "999"}, headers=AUTH
    )
    assert other.status_code == 400


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"type": "fax"}, "type is one of"),
        ({"from": "+216 96"}, "from is"),
        ({"text": ""}, "text is required"),
        ({"type": "image"}, "media is required"),
        ({"type": "image", "media": {"mime_type": "image/png", "content_base64": "%%"}}, "base64"),
        ({"type": "image", "media": file(b"x", "application/x-msdownload")}, "not a file Meta"),
        ({"type": "document", "media": file(b"%PDF", "application/pdf")}, "filename"),
        ({"type": "audio", "media": file(b"OggS", "audio/ogg", caption="c")}, "no caption"),
        ({"type": "location", "location": {"latitude": "1"}}, "latitude"),
        ({"type": "button", "button": {"text": "Yes", "payload": "YES"}}, "context_message_id"),
        (
            {"type": "interactive", "interactive": {}, "context_message_id": "wamid.X"},
            "button_reply or list_reply",
        ),
        ({"type": "contacts", "contacts": []}, "contacts is required"),
        ({"type": "reaction", "reaction": {"emoji": "x"}}, "message_id"),
    ],
)
async def test_a_bad_body_is_a_400_saying_why(
    emulator: Emulator,  # noqa: F811
    body: dict[str, Any],
    says: str,
) -> None:
    answer = await emulator.http.post("/_emulator/inbound", json={**BASE, **body})
    assert answer.status_code == 400
    assert says in answer.json()["error"]


async def test_a_customers_file_survives_a_restart(
    receiver: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    state = tmp_path / "emulator.sqlite3"
    async with running(state, receiver, tmp_path) as http:
        answer = await http.post(
            "/_emulator/inbound", json={**BASE, "type": "image", "media": file(PNG, "image/png")}
        )
        media_id = answer.json()["media_id"]
        await http.post("/_emulator/drain")
    async with running(state, receiver, tmp_path) as http:
        described = await http.get(f"/v23.0/{media_id}", headers=AUTH)
        assert described.status_code == 200, described.text

        async def served() -> bool:
            got = await http.get(described.json()["url"], headers=AUTH)
            return got.content == PNG

        await eventually(served, message="the file is served after the restart")
