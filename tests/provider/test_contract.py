"""Contract tests: the real Cloud API provider against the emulator over real HTTP, every
request it makes recorded at the emulator's edge and held against Meta's OpenAPI description
(tests/provider/contract.py). The emulator must take each request too: both sides agree."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from herald.emulator.app import create_emulator_app
from herald.emulator.config import EmulatorConfig
from herald.provider.base import (
    ButtonValue,
    ChannelAccess,
    FreeForm,
    FreeFormMedia,
    HeaderMedia,
    HeaderSample,
    Interactive,
    ListRow,
    ListSection,
    OtpOptions,
    OutboundMessage,
    ReplyButton,
    TemplateButton,
    TemplateDefinition,
)
from herald.provider.cloud_api import CloudApiProvider, new_session
from tests.live import serve_app
from tests.provider.contract import RecordedRequest, Recorder, contract

TOKEN = "contract-test-token"
SAM = "21696816277"


@dataclass
class Graph:
    provider: CloudApiProvider
    access: ChannelAccess
    control: httpx.AsyncClient
    recorder: Recorder

    def graph_requests(self) -> list[RecordedRequest]:
        return [r for r in self.recorder.requests if not r.path.startswith("/_emulator")]

    def assert_within_the_contract(self) -> None:
        requests = self.graph_requests()
        assert requests, "the provider made no request"
        violations = [v for request in requests for v in contract().violations(request)]
        assert violations == []

    async def approve(self, template_id: str) -> None:
        answer = await self.control.post(f"/_emulator/templates/{template_id}/approve")
        assert answer.status_code == 200, answer.text


@pytest.fixture
async def graph() -> AsyncIterator[Graph]:
    app = create_emulator_app(
        EmulatorConfig(
            access_token=TOKEN, app_secret="s", approve_after_seconds=None, webhooks_enabled=False
        )
    )
    recorder = Recorder(app)
    # Sized for a loaded machine (as the live fixture's provider): the point here is each
    # request's shape, and a template with a sample file makes three requests.
    async with serve_app(recorder) as url, new_session(30) as http:
        access = ChannelAccess(url, "v23.0", "1000", "1000", TOKEN, app_id="100000000000000")
        async with httpx.AsyncClient(base_url=url) as control:
            yield Graph(CloudApiProvider(http), access, control, recorder)
    await app.state.emulator.aclose()


def definition(**fields: object) -> TemplateDefinition:
    values: dict[str, object] = {
        "name": "order_update",
        "language": "en_US",
        "category": "UTILITY",
        "body": "Hi {{1}}, your order {{2}} ships today.",
        "placeholder_count": 2,
    }
    return TemplateDefinition(**{**values, **fields})  # type: ignore[arg-type]


LINKS = (
    TemplateButton("URL", "Track", "https://shop.example/o/{{1}}"),
    TemplateButton("QUICK_REPLY", "Stop"),
    TemplateButton("URL", "Shop", "https://shop.example"),
)
AUTHENTICATION = definition(
    name="login_code",
    category="AUTHENTICATION",
    body="",
    placeholder_count=0,
    otp=OtpOptions("COPY_CODE", add_security_recommendation=True, code_expiration_minutes=10),
)
ONE_TAP = definition(
    name="login_code_one_tap",
    category="AUTHENTICATION",
    body="",
    placeholder_count=0,
    otp=OtpOptions("ONE_TAP", package_name="com.example.shop", signature_hash="K8a%2FAINcGX7"),
)


def sample(tmp_path: Path, kind: str) -> HeaderSample:
    mime_type, content = MEDIA[kind]
    path = tmp_path / f"sample-{kind}"
    path.write_bytes(content)
    return HeaderSample(path, mime_type, len(content), f"sample-{kind}")


KINDS = {
    "body": definition(),
    "footer-and-buttons": definition(footer="Reply STOP to opt out", buttons=LINKS),
    "text-header": definition(header_format="TEXT", header_text="Your order"),
    "coupon": definition(
        category="MARKETING", buttons=(TemplateButton("COPY_CODE", example="SAVE10"),)
    ),
    "authentication": AUTHENTICATION,
    "authentication-one-tap": ONE_TAP,
}
MEDIA_HEADERS = ("image", "video", "document")


@pytest.mark.parametrize("kind", [*KINDS, *(f"{kind}-header" for kind in MEDIA_HEADERS)])
async def test_template_creation_of_each_kind(graph: Graph, tmp_path: Path, kind: str) -> None:
    if kind.endswith("-header") and kind.removesuffix("-header") in MEDIA_HEADERS:
        media = kind.removesuffix("-header")
        template = definition(header_format=media.upper(), header_sample=sample(tmp_path, media))
    else:
        template = KINDS[kind]
    await graph.provider.create_template(graph.access, template)
    graph.assert_within_the_contract()


async def upload(graph: Graph, tmp_path: Path, mime_type: str, content: bytes) -> str:
    path = tmp_path / "sample"
    path.write_bytes(content)
    return await graph.provider.upload_media(graph.access, path, mime_type, "sample.bin")


def outbound(**fields: object) -> OutboundMessage:
    values: dict[str, object] = {
        "to": SAM,
        "template_name": "order_update",
        "language": "en_US",
        "callback_data": "42",
        "body_params": ("Sam", "A-42"),
    }
    return OutboundMessage(**{**values, **fields})  # type: ignore[arg-type]


MEDIA = {
    "image": ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32),
    "video": ("video/mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 32),
    "document": ("application/pdf", b"%PDF-1.7 an invoice"),
}


@pytest.mark.parametrize(
    "kind", ["body", "footer-and-buttons", "coupon", "image", "video", "document", "otp"]
)
async def test_send_of_each_template_kind(graph: Graph, tmp_path: Path, kind: str) -> None:
    message = outbound()
    if kind == "otp":
        template, message = (
            AUTHENTICATION,
            outbound(template_name="login_code", body_params=(), otp_code="482913"),
        )
    elif kind in MEDIA:
        template = definition(header_format=kind.upper(), header_sample=sample(tmp_path, kind))
        media_id = await upload(graph, tmp_path, *MEDIA[kind])
        filename = "invoice.pdf" if kind == "document" else None
        message = outbound(header=HeaderMedia(kind, media_id, filename))
    else:
        template = KINDS[kind]
        buttons = {
            "footer-and-buttons": (
                ButtonValue(0, "url", "A-42"),
                ButtonValue(1, "quick_reply", "STOP"),
            ),
            "coupon": (ButtonValue(0, "copy_code", "SAVE10"),),
        }
        message = outbound(buttons=buttons.get(kind, ()))
    created = await graph.provider.create_template(graph.access, template)
    await graph.approve(created.id)
    graph.recorder.requests.clear()  # creation has its own test (above)

    receipt = await graph.provider.send_template(graph.access, message)
    assert receipt.provider_message_id.startswith("wamid.")
    graph.assert_within_the_contract()


FREE_FORMS = {
    "text": FreeForm("text", text="Where is my parcel? https://example.com/t/1", preview_url=True),
    "reply": FreeForm("text", text="On its way.", reply_to="wamid.HBgLMjE2OTY4MTYyNzcVAgASGBQ"),
    "image-link": FreeForm(
        "image", media=FreeFormMedia(link="https://example.com/p.png", caption="Your parcel")
    ),
    "video-link": FreeForm("video", media=FreeFormMedia(link="https://example.com/clip.mp4")),
    "audio-link": FreeForm("audio", media=FreeFormMedia(link="https://example.com/note.ogg")),
    "document-link": FreeForm(
        "document",
        media=FreeFormMedia(link="https://example.com/i.pdf", caption="Invoice", filename="i.pdf"),
    ),
    "buttons": FreeForm(
        "interactive",
        interactive=Interactive(
            "button",
            "Shall we deliver tomorrow?",
            header="Delivery",
            footer="Reply with a button",
            buttons=(ReplyButton("yes", "Yes"), ReplyButton("later", "Later")),
        ),
    ),
    "list": FreeForm(
        "interactive",
        interactive=Interactive(
            "list",
            "Pick a slot",
            list_button="Slots",
            sections=(
                ListSection("Morning", (ListRow("m1", "8-10", "Early"), ListRow("m2", "10-12"))),
                ListSection("Afternoon", (ListRow("a1", "14-16"),)),
            ),
        ),
    ),
}


async def open_window(graph: Graph) -> None:
    answer = await graph.control.post(
        "/_emulator/inbound",
        json={"phone_number_id": "1000", "waba_id": "1000", "from": SAM, "text": "hello"},
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("kind", [*FREE_FORMS, "image", "document", "audio"])
async def test_send_of_each_free_form_kind(graph: Graph, tmp_path: Path, kind: str) -> None:
    await open_window(graph)
    if kind in FREE_FORMS:
        message = FREE_FORMS[kind]
    else:
        mime_type, content = {**MEDIA, "audio": ("audio/ogg", b"OggS" + b"\x00" * 64)}[kind]
        media_id = await upload(graph, tmp_path, mime_type, content)
        filename = "invoice.pdf" if kind == "document" else None
        caption = None if kind == "audio" else "Here it is"
        media = FreeFormMedia(provider_media_id=media_id, caption=caption, filename=filename)
        message = FreeForm(kind, media=media)
    graph.recorder.requests.clear()
    receipt = await graph.provider.send_template(graph.access, outbound(free_form=message))
    assert receipt.provider_message_id.startswith("wamid.")
    graph.assert_within_the_contract()
    (sent,) = graph.graph_requests()
    payload = json.loads(sent.body)
    assert payload["type"] == message.type
    assert "template" not in payload
    assert payload["biz_opaque_callback_data"] == "42"
    if message.reply_to is not None:
        assert payload["context"] == {"message_id": message.reply_to}


async def test_the_contract_refuses_a_broken_free_form_send(graph: Graph) -> None:
    await open_window(graph)
    graph.recorder.requests.clear()
    await graph.provider.send_template(graph.access, outbound(free_form=FREE_FORMS["buttons"]))
    (sent,) = graph.graph_requests()
    payload = json.loads(sent.body)
    interactive = payload["interactive"]
    base = {k: payload[k] for k in ("messaging_product", "recipient_type", "to")}
    assert contract().violations(sent) == []
    four = [{"type": "reply", "reply": {"id": f"b{n}", "title": f"B{n}"}} for n in range(4)]
    breakages = [
        {**payload, "text": {"body": "x"}},
        {**payload, "colour": "red"},
        {**payload, "interactive": {**interactive, "action": {"buttons": four}}},
        {**payload, "interactive": {**interactive, "body": {"text": "x" * 1025}}},
        {**base, "type": "text", "text": {"body": "x" * 4097}},
        {**base, "type": "image", "image": {"id": "1", "link": "https://example.com/p.png"}},
    ]
    for broken in breakages:
        changed = dataclasses.replace(sent, body=json.dumps(broken).encode())
        assert contract().violations(changed), broken


async def test_media_upload(graph: Graph, tmp_path: Path) -> None:
    await upload(graph, tmp_path, *MEDIA["document"])
    graph.assert_within_the_contract()


async def test_listing_with_a_name_and_across_pages(graph: Graph) -> None:
    for n in range(3):
        await graph.provider.create_template(graph.access, definition(name=f"t{n}"))
    graph.recorder.requests.clear()
    names = [t.name async for t in graph.provider.list_templates(graph.access, page_size=2)]
    assert names == ["t0", "t1", "t2"]
    assert [t.name async for t in graph.provider.list_templates(graph.access, name="t1")] == ["t1"]
    assert len(graph.graph_requests()) == 3  # two pages, then one by name
    graph.assert_within_the_contract()


async def test_delete_by_name_and_by_id(graph: Graph) -> None:
    created = await graph.provider.create_template(graph.access, definition(name="gone"))
    await graph.provider.create_template(graph.access, definition(name="also_gone"))
    graph.recorder.requests.clear()
    await graph.provider.delete_template(graph.access, "gone", created.id)
    await graph.provider.delete_template(graph.access, "also_gone")
    graph.assert_within_the_contract()


async def test_the_contract_refuses_what_the_spec_refuses(graph: Graph) -> None:
    """The checker is not blind: a recorded send, broken one member at a time, is caught."""
    created = await graph.provider.create_template(graph.access, definition())
    await graph.approve(created.id)
    graph.recorder.requests.clear()
    await graph.provider.send_template(graph.access, outbound())
    (sent,) = graph.graph_requests()
    assert contract().violations(sent) == []
    payload = json.loads(sent.body)
    breakages = [
        ("type", "txt"),
        ("template", {"language": {"policy": "deterministic", "code": "en_US"}}),
    ]
    for member, value in breakages:
        broken = dataclasses.replace(sent, body=json.dumps({**payload, member: value}).encode())
        assert contract().violations(broken), member
    unauthenticated = dataclasses.replace(
        sent, headers={k: v for k, v in sent.headers.items() if k != "authorization"}
    )
    assert contract().violations(unauthenticated)
    unknown_query = dataclasses.replace(sent, method="GET", path="/v23.0/1000/message_templates")
    assert contract().violations(dataclasses.replace(unknown_query, query=[("sort", "x")]))
