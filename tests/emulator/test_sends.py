"""The emulator's send checks against Meta's spec: every template-send example the spec gives
is accepted, and one payload per rule of docs/emulator.md ("What a send is checked for") is
refused with Meta's code. Templates are created and approved through the emulator's own API."""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from herald.emulator.app import create_emulator_app
from herald.emulator.config import EmulatorConfig
from tests.emulator.uploads import sample_handle
from tests.live import serve_app
from tests.meta_spec import template_send_examples

TOKEN = "send-checks-token"
PHONE = "777"  # sends for the WABA of the same id (the sandbox convention)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HANDLE = "4::aW1hZ2UvanBn:ARYytyb0kLp5htbBB8vWlclG5M9gMBxiEyt4FNCvrueWBOmF:e:1681000441:6349746"
SAM = "21696816277"

# The one example whose values contradict the spec's own descriptions (its README names it): a
# quick-reply button parameter of type text with a boolean. ButtonParameterObject says a quick
# reply takes a payload, and TextParameter's text is a string.
CONTRADICTING = "Send Sample Issue Resolution Template"


@pytest.fixture
async def emulator() -> AsyncIterator[httpx.AsyncClient]:
    config = EmulatorConfig(
        access_token=TOKEN, app_secret="s", approve_after_seconds=None, webhooks_enabled=False
    )
    app = create_emulator_app(config)
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
        yield http
    await app.state.emulator.aclose()


# A sample of each media header's kind, uploaded through the Resumable Upload API for its handle.
SAMPLES = {
    "IMAGE": ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32),
    "VIDEO": ("video/mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 32),
    "DOCUMENT": ("application/pdf", b"%PDF-1.7 a sample"),
}


async def with_uploaded_samples(
    http: httpx.AsyncClient, template: dict[str, Any]
) -> dict[str, Any]:
    """``template`` with each media header's placeholder handle replaced by one the emulator
    issued."""
    template = copy.deepcopy(template)
    for component in template.get("components", []):
        handles = (component.get("example") or {}).get("header_handle")
        if component.get("type") == "HEADER" and handles == [HANDLE]:
            file_type, data = SAMPLES[component["format"]]
            handles[0] = await sample_handle(http, AUTH, data, file_type)
    return template


async def approve(http: httpx.AsyncClient, template: dict[str, Any]) -> None:
    template = await with_uploaded_samples(http, template)
    created = await http.post(f"/v23.0/{PHONE}/message_templates", json=template, headers=AUTH)
    assert created.status_code == 200, created.text
    approved = await http.post(f"/_emulator/templates/{created.json()['id']}/approve")
    assert approved.status_code == 200, approved.text


async def upload(http: httpx.AsyncClient, mime_type: str, content: bytes) -> str:
    answer = await http.post(
        f"/v23.0/{PHONE}/media",
        data={"messaging_product": "whatsapp", "type": mime_type},
        files={"file": ("sample", content, mime_type)},
        headers=AUTH,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


async def send(http: httpx.AsyncClient, payload: dict[str, Any]) -> httpx.Response:
    return await http.post(f"/v23.0/{PHONE}/messages", json=payload, headers=AUTH)


def code_of(answer: httpx.Response) -> int:
    assert answer.status_code != 200, answer.text
    code: int = answer.json()["error"]["code"]
    return code


# --- the spec's examples -------------------------------------------------------------------------

_PLAIN_PHONE = re.compile(r"\+?[0-9]{5,20}")
_NAME = re.compile(r"[a-z0-9_]+")
_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
_BUTTON_OF_SUB_TYPE: dict[str, dict[str, Any]] = {
    "quick_reply": {"type": "QUICK_REPLY", "text": "Reply"},
    "url": {
        "type": "URL",
        "text": "Open",
        "url": "https://shop.example/o/{{1}}",
        "example": ["https://shop.example/o/42"],
    },
    "copy_code": {"type": "COPY_CODE", "example": "SAVE10"},
    "catalog": {"type": "CATALOG", "text": "View catalog"},
    "flow": {"type": "FLOW", "text": "Open", "flow_id": "1", "flow_action": "navigate"},
}


def concrete(example_name: str, example: dict[str, Any], to: str) -> dict[str, Any]:
    """The example with its Postman placeholders (``{{Recipient-Phone-Number}}``,
    ``template-name``, ``language-and-locale-code``, ``http(s)://``) given real values."""
    payload = copy.deepcopy(example)
    if not _PLAIN_PHONE.fullmatch(payload["to"]):
        payload["to"] = to
    template = payload["template"]
    if not _NAME.fullmatch(template["name"]):
        template["name"] = re.sub(r"[^a-z0-9]+", "_", example_name.lower()).strip("_")
    if not _LANGUAGE.fullmatch(template["language"]["code"]):
        template["language"]["code"] = "en_US"
    for component in template.get("components", []):
        for parameter in component.get("parameters", []):
            media = parameter.get(parameter["type"])
            if isinstance(media, dict) and str(media.get("link", "")).startswith("http(s)://"):
                media["link"] = "https://" + media["link"].removeprefix("http(s)://")
    return payload


def template_for(payload: dict[str, Any]) -> dict[str, Any]:
    """A template, in Meta's creation shape, that the send ``payload`` fits."""
    sent = payload["template"]
    components: list[dict[str, Any]] = []
    by_type = {c["type"]: c for c in sent.get("components", [])}
    if "header" in by_type:
        kind = by_type["header"]["parameters"][0]["type"]
        components.append(
            {"type": "HEADER", "format": kind.upper(), "example": {"header_handle": [HANDLE]}}
        )
    count = len(by_type.get("body", {}).get("parameters", []))
    body: dict[str, Any] = {
        "type": "BODY",
        "text": " ".join(["Your update:", *(f"{{{{{n}}}}}" for n in range(1, count + 1))]),
    }
    if count:
        body["example"] = {"body_text": [[f"sample{n}" for n in range(1, count + 1)]]}
    components.append(body)
    sent_buttons = {
        int(c["index"]): str(c["sub_type"]).lower()
        for c in sent.get("components", [])
        if c["type"] == "button"
    }
    if sent_buttons:
        buttons = [
            _BUTTON_OF_SUB_TYPE[sent_buttons.get(index, "quick_reply")]
            for index in range(max(sent_buttons) + 1)
        ]
        components.append({"type": "BUTTONS", "buttons": buttons})
    return {
        "name": sent["name"],
        "language": sent["language"]["code"],
        "category": "MARKETING",
        "components": components,
    }


EXAMPLES = template_send_examples()


def test_the_spec_gives_template_send_examples() -> None:
    assert len(EXAMPLES) >= 5
    assert CONTRADICTING in EXAMPLES


@pytest.mark.parametrize("name", sorted(set(EXAMPLES) - {CONTRADICTING}))
async def test_every_template_send_example_of_the_spec_is_accepted(
    emulator: httpx.AsyncClient, name: str
) -> None:
    payload = concrete(name, EXAMPLES[name], SAM)
    await approve(emulator, template_for(payload))
    answer = await send(emulator, payload)
    assert answer.status_code == 200, answer.text
    assert answer.json()["messages"][0]["id"].startswith("wamid.")
    assert answer.json()["contacts"][0]["wa_id"] == payload["to"].removeprefix("+")


async def test_the_example_that_contradicts_its_descriptions_is_refused_as_given(
    emulator: httpx.AsyncClient,
) -> None:
    payload = concrete(CONTRADICTING, EXAMPLES[CONTRADICTING], SAM)
    await approve(emulator, template_for(payload))
    assert code_of(await send(emulator, payload)) == 100  # text: true is not a string
    for component in payload["template"]["components"]:
        if component["type"] == "button":  # as the descriptions have it: a payload string
            value = str(component["parameters"][0]["text"]).lower()
            component["parameters"] = [{"type": "payload", "payload": value}]
    answer = await send(emulator, payload)
    assert answer.status_code == 200, answer.text
