"""The emulator's free-form sends (docs/emulator.md, "What a free-form send is checked for"):
every text, media and reply-button or list example of Meta's spec is accepted inside the
customer's window; one send per rule is refused with Meta's code; outside the window, 131047."""

from __future__ import annotations

import copy
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from herald.emulator.app import create_emulator_app
from herald.emulator.config import EmulatorConfig
from herald.emulator.state import CUSTOMER_WINDOW_SECONDS, EmulatorState
from tests.emulator.test_sends import PHONE, SAM, TOKEN, code_of, send, upload
from tests.live import serve_app
from tests.meta_spec import SEND_PATH, request_examples

FREE_FORM = ("text", "image", "video", "audio", "document")
FILES = {
    "image": ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
    "video": ("video/mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64),
    "audio": ("audio/ogg", b"OggS" + b"\x00" * 64),
    "document": ("application/pdf", b"%PDF-1.7 an invoice"),
}
LINKS = {
    "image": "https://example.com/p.png",
    "video": "https://example.com/v.mp4",
    "audio": "https://example.com/a.ogg",
    "document": "https://example.com/i.pdf",
}


@dataclass
class Served:
    http: httpx.AsyncClient
    state: EmulatorState


@pytest.fixture
async def emulator() -> AsyncIterator[Served]:
    config = EmulatorConfig(
        access_token=TOKEN, app_secret="s", approve_after_seconds=None, webhooks_enabled=False
    )
    app = create_emulator_app(config)
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
        yield Served(http, app.state.emulator)
    await app.state.emulator.aclose()


def free_form_examples() -> dict[str, dict[str, Any]]:
    """The spec's sends of the types Herald sends freely (reply buttons and lists for
    interactive messages)."""
    return {
        name: value
        for name, value in request_examples(SEND_PATH, "post").items()
        if value.get("type") in FREE_FORM
        or (
            value.get("type") == "interactive"
            and value.get("interactive", {}).get("type") in ("button", "list")
        )
    }


EXAMPLES = free_form_examples()


async def customer_wrote(emulator: Served) -> None:
    body = {"phone_number_id": PHONE, "waba_id": PHONE, "from": SAM, "text": "hi"}
    answer = await emulator.http.post("/_emulator/inbound", json=body)
    assert answer.status_code == 200, answer.text


def concrete(example: dict[str, Any], media: dict[str, str]) -> dict[str, Any]:
    """The example with its placeholders (``{{Recipient-Phone-Number}}``, ``<AUDIO_OBJECT_ID>``,
    ``<http(s)://audio-url>``) given real values: the recipient, an uploaded file, a link."""
    payload = copy.deepcopy(example)
    payload["to"] = SAM
    kind = payload["type"]
    part = payload.get(kind)
    if kind in LINKS and isinstance(part, dict):
        if "id" in part:
            part["id"] = media[kind]
        if "link" in part:
            part["link"] = LINKS[kind]
    return payload


def test_the_spec_gives_free_form_examples() -> None:
    kinds = {v["type"] for v in EXAMPLES.values()}
    assert kinds == {*FREE_FORM, "interactive"}


@pytest.fixture
async def media(emulator: Served) -> dict[str, str]:
    return {kind: await upload(emulator.http, *FILES[kind]) for kind in FILES}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
async def test_every_free_form_example_of_the_spec_is_accepted_inside_the_window(
    emulator: Served, media: dict[str, str], name: str
) -> None:
    payload = concrete(EXAMPLES[name], media)
    assert code_of(await send(emulator.http, payload)) == 131047  # the customer never wrote
    await customer_wrote(emulator)
    answer = await send(emulator.http, payload)
    assert answer.status_code == 200, answer.text
    assert answer.json()["messages"][0]["id"].startswith("wamid.")


async def test_the_window_closes_24_hours_after_the_customers_last_message(
    emulator: Served,
) -> None:
    await customer_wrote(emulator)
    text = {"messaging_product": "whatsapp", "to": SAM, "type": "text", "text": {"body": "hi"}}
    assert (await send(emulator.http, text)).status_code == 200
    emulator.state.customer_windows[f"{PHONE}:{SAM}"] = time.time() - CUSTOMER_WINDOW_SECONDS
    assert code_of(await send(emulator.http, text)) == 131047
    await customer_wrote(emulator)  # writing again opens it again
    assert (await send(emulator.http, text)).status_code == 200


Change = Callable[[dict[str, Any], dict[str, str]], None]


def text(body: str = "Hello", **members: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": SAM,
        "type": "text",
        "text": {"body": body, **members},
    }


BUTTONS = {
    "messaging_product": "whatsapp",
    "to": SAM,
    "type": "interactive",
    "interactive": {
        "type": "button",
        "body": {"text": "Deliver tomorrow?"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                {"type": "reply", "reply": {"id": "no", "title": "No"}},
            ]
        },
    },
}
LIST = {
    "messaging_product": "whatsapp",
    "to": SAM,
    "type": "interactive",
    "interactive": {
        "type": "list",
        "body": {"text": "Pick a slot"},
        "action": {
            "button": "Slots",
            "sections": [
                {"title": "Morning", "rows": [{"id": "m1", "title": "8-10"}]},
                {"title": "Afternoon", "rows": [{"id": "a1", "title": "14-16"}]},
            ],
        },
    },
}


def media_send(kind: str, **part: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": SAM, "type": kind, kind: part}


def buttons(*pairs: tuple[str, str]) -> dict[str, Any]:
    sent = copy.deepcopy(BUTTONS)
    sent["interactive"]["action"]["buttons"] = [
        {"type": "reply", "reply": {"id": i, "title": t}} for i, t in pairs
    ]
    return sent


def listed(*sections: dict[str, Any], **action: Any) -> dict[str, Any]:
    sent = copy.deepcopy(LIST)
    if sections:
        sent["interactive"]["action"]["sections"] = list(sections)
    sent["interactive"]["action"].update(action)
    return sent


def with_interactive(**members: Any) -> dict[str, Any]:
    sent = copy.deepcopy(BUTTONS)
    sent["interactive"].update(members)
    return sent


def rows(count: int, title: str = "S", start: int = 0) -> dict[str, Any]:
    return {
        "title": title,
        "rows": [{"id": f"r{n}", "title": "R"} for n in range(start, start + count)],
    }


# Each rule: a payload (or a function of the uploaded media ids) and Meta's code.
RULES: list[tuple[str, Any, int]] = [
    ("text without body", {**text(), "text": {}}, 131008),
    ("text body empty", text(""), 100),
    ("text body over 4096", text("x" * 4097), 131009),
    ("preview_url not a boolean", text(preview_url="yes"), 100),
    ("text member unknown", text(colour="red"), 100),
    ("message member unknown", {**text(), "template": {"name": "x"}}, 100),
    ("type's object missing", {**text(), "text": None}, 131008),
    ("context without message_id", {**text(), "context": {}}, 100),
    ("media without id or link", media_send("image"), 131008),
    (
        "media with id and link",
        lambda m: media_send("image", id=m["image"], link=LINKS["image"]),
        100,
    ),
    ("link not http(s)", media_send("image", link="ftp://example.com/p.png"), 100),
    ("caption over 1024", media_send("image", link=LINKS["image"], caption="c" * 1025), 131009),
    ("audio with a caption", media_send("audio", link=LINKS["audio"], caption="c"), 100),
    ("image with a file name", media_send("image", link=LINKS["image"], filename="p.png"), 100),
    ("unknown media id", media_send("image", id="424242"), 131053),
    ("media of another type", lambda m: media_send("image", id=m["document"]), 131053),
    ("interactive without type", with_interactive(type=None), 131008),
    ("interactive type not button or list", with_interactive(type="product"), 100),
    ("interactive without body", with_interactive(body=None), 131008),
    ("body over 1024", with_interactive(body={"text": "b" * 1025}), 131009),
    ("footer over 60", with_interactive(footer={"text": "f" * 61}), 131009),
    ("header over 60", with_interactive(header={"type": "text", "text": "h" * 61}), 131009),
    ("no buttons", buttons(), 131008),
    ("four buttons", buttons(("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")), 131009),
    ("button id twice", buttons(("a", "A"), ("a", "B")), 131009),
    ("button title twice", buttons(("a", "A"), ("b", "A")), 131009),
    ("button title over 20", buttons(("a", "t" * 21)), 131009),
    ("button id over 256", buttons(("i" * 257, "A")), 131009),
    ("button id with spaces around", buttons((" a", "A")), 131009),
    ("list label over 20", listed(button="b" * 21), 131009),
    ("list without sections", listed(sections=[]), 131008),
    ("eleven sections", listed(*[rows(1, f"S{n}", n) for n in range(11)]), 131009),
    ("eleven rows in all", listed(rows(6), rows(5, "T", 6)), 131009),
    ("row id twice", listed(rows(1), rows(1, "T")), 131009),
    (
        "sections without titles",
        listed({"rows": [{"id": "a", "title": "A"}]}, {"rows": [{"id": "b", "title": "B"}]}),
        131008,
    ),
    ("row title over 24", listed({"rows": [{"id": "a", "title": "t" * 25}]}), 131009),
    (
        "row description over 72",
        listed({"rows": [{"id": "a", "title": "A", "description": "d" * 73}]}),
        131009,
    ),
    ("row id over 200", listed({"rows": [{"id": "i" * 201, "title": "A"}]}), 131009),
    (
        "section title over 24",
        listed({"title": "s" * 25, "rows": [{"id": "a", "title": "A"}]}),
        131009,
    ),
]


async def test_each_valid_free_form_send_is_accepted(
    emulator: Served, media: dict[str, str]
) -> None:
    await customer_wrote(emulator)
    valid = [
        text("Hello", preview_url=True),
        {**text(), "context": {"message_id": "wamid.earlier"}, "biz_opaque_callback_data": "7"},
        BUTTONS,
        LIST,
        listed(rows(10)),
        media_send("image", id=media["image"], caption="Yours"),
        media_send("audio", id=media["audio"]),
        media_send("document", link=LINKS["document"], caption="Invoice", filename="i.pdf"),
    ]
    for payload in valid:
        answer = await send(emulator.http, payload)
        assert answer.status_code == 200, (payload, answer.text)


@pytest.mark.parametrize(("rule", "payload", "code"), RULES, ids=[r[0] for r in RULES])
async def test_each_free_form_rule_refuses_with_metas_code(
    emulator: Served, media: dict[str, str], rule: str, payload: Any, code: int
) -> None:
    await customer_wrote(emulator)
    sent = payload(media) if callable(payload) else copy.deepcopy(payload)
    if isinstance(sent.get("interactive"), dict):
        sent["interactive"] = {k: v for k, v in sent["interactive"].items() if v is not None}
    if sent.get(sent["type"], 0) is None:
        del sent[sent["type"]]
    assert code_of(await send(emulator.http, sent)) == code, rule
