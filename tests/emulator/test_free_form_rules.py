"""The emulator's free-form sends (docs/emulator.md, "What a free-form send is checked for"):
every text, media and interactive example of Meta's spec is accepted inside the customer's
window (but the two whose type is outside the schema's enum); one send per rule is refused with
Meta's code; outside the window, 131047."""

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
from herald.emulator.send_interactive import INTERACTIVE_TYPES
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


def free_form_examples(interactive_types: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The spec's free-form sends: media and text, and interactive ones of these types."""
    return {
        name: value
        for name, value in request_examples(SEND_PATH, "post").items()
        if value.get("type") in FREE_FORM
        or (
            value.get("type") == "interactive"
            and value.get("interactive", {}).get("type") in interactive_types
        )
    }


EXAMPLES = free_form_examples(INTERACTIVE_TYPES)
# Two examples (order details and status: Meta's payments in India, Brazil, Singapore) have an
# interactive type outside InteractiveObject.type's enum: refused, as the schema says.
OUTSIDE_THE_ENUM = {
    name: value
    for name, value in request_examples(SEND_PATH, "post").items()
    if value.get("interactive", {}).get("type") in ("order_details", "order_status")
}


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
    header = part.get("header") if kind == "interactive" and isinstance(part, dict) else None
    if isinstance(header, dict) and header.get("type") == "<HEADER_TYPE>":
        header["type"] = "text"  # the multi-product example's placeholder: a text header
    return payload


def test_the_spec_gives_free_form_examples() -> None:
    kinds = {v["type"] for v in EXAMPLES.values()}
    assert kinds == {*FREE_FORM, "interactive"}
    interactive = {v["interactive"]["type"] for v in EXAMPLES.values() if "interactive" in v}
    assert interactive == {"button", "list", "product", "product_list", "catalog_message", "flow"}
    assert len(OUTSIDE_THE_ENUM) == 2


@pytest.mark.parametrize("name", sorted(OUTSIDE_THE_ENUM))
async def test_an_example_outside_the_schemas_enum_is_refused(
    emulator: Served, media: dict[str, str], name: str
) -> None:
    await customer_wrote(emulator)
    assert code_of(await send(emulator.http, concrete(OUTSIDE_THE_ENUM[name], media))) == 100


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


TEXT_HEADER = {"type": "text", "text": "Our picks"}


def image_header(**media: str) -> dict[str, Any]:
    return {"type": "image", "image": media}


def interactive(kind: str, action: dict[str, Any], **members: Any) -> dict[str, Any]:
    part = {"type": kind, "body": {"text": "Have a look"}, "action": action, **members}
    return {"messaging_product": "whatsapp", "to": SAM, "type": "interactive", "interactive": part}


def product(**members: Any) -> dict[str, Any]:
    action = members.pop("action", {"catalog_id": "c1", "product_retailer_id": "p1"})
    sent = interactive("product", action, **members)
    del sent["interactive"]["body"]  # optional for a single product
    return sent


def product_list(header: dict[str, Any] | None, items: list[dict[str, Any]]) -> dict[str, Any]:
    action = {"catalog_id": "c1", "sections": [{"title": "All", "product_items": items}]}
    return interactive("product_list", action, **({"header": header} if header else {}))


def flow(**parameters: Any) -> dict[str, Any]:
    given = {"flow_message_version": "3", "flow_cta": "Sign up", **parameters}
    return interactive("flow", {"name": "flow", "parameters": given})


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
    ("interactive type outside the enum", with_interactive(type="cta_url"), 100),
    ("button action on a product", with_interactive(type="product"), 100),
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
    ("header without type", with_interactive(header={"text": "h"}), 131008),
    ("header of another type", with_interactive(header={"type": "audio"}), 100),
    ("image header without its object", with_interactive(header={"type": "image"}), 131008),
    ("image header by unknown id", with_interactive(header=image_header(id="424242")), 131053),
    (
        "image header with a caption",
        with_interactive(header=image_header(link=LINKS["image"], caption="c")),
        100,
    ),
    (
        "image header on a list",
        {
            **LIST,
            "interactive": {**LIST["interactive"], "header": image_header(link=LINKS["image"])},
        },
        100,
    ),
    ("product list without header", product_list(None, [{"product_retailer_id": "p1"}]), 131008),
    (
        "product list over 30 products",
        product_list(TEXT_HEADER, [{"product_retailer_id": f"p{n}"} for n in range(31)]),
        131009,
    ),
    ("product item without its id", product_list(TEXT_HEADER, [{}]), 131008),
    ("product with a header", product(header=TEXT_HEADER), 100),
    ("product without retailer id", product(action={"catalog_id": "c1"}), 131008),
    (
        "catalog without parameters",
        interactive("catalog_message", {"name": "catalog_message"}),
        131008,
    ),
    (
        "catalog action named otherwise",
        interactive(
            "catalog_message",
            {"name": "flow", "parameters": {"thumbnail_product_retailer_id": "p"}},
        ),
        100,
    ),
    ("flow with id and name", flow(flow_id="1", flow_name="signup"), 131008),
    ("flow without id or name", flow(), 131008),
    ("flow message version 2", flow(flow_id="1", flow_message_version="2"), 100),
    ("flow cta over 30", flow(flow_id="1", flow_cta="c" * 31), 131009),
    ("flow mode unknown", flow(flow_id="1", mode="live"), 100),
    ("flow payload data empty", flow(flow_id="1", flow_action_payload={"data": {}}), 100),
    (
        "call permission named otherwise",
        interactive("call_permission_request", {"name": "call"}),
        100,
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
        with_interactive(header=image_header(id=media["image"])),
        with_interactive(header={"type": "video", "video": {"link": LINKS["video"]}}),
        with_interactive(header={"type": "document", "document": {"id": media["document"]}}),
        with_interactive(header={**TEXT_HEADER, "sub_text": "today"}),
        product(),
        product_list(TEXT_HEADER, [{"product_retailer_id": f"p{n}"} for n in range(30)]),
        interactive(
            "catalog_message",
            {"name": "catalog_message", "parameters": {"thumbnail_product_retailer_id": "p1"}},
        ),
        flow(
            flow_name="signup",
            mode="draft",
            flow_action="navigate",
            flow_action_payload={"screen": "WELCOME", "data": {"a": 1}},
        ),
        interactive("call_permission_request", {"name": "call_permission_request"}),
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
