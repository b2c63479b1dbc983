"""One refused send per rule of docs/emulator.md ("What a send is checked for"), each answered
with Meta's code, beside the valid send it is made from (accepted)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.emulator.test_sends import HANDLE, SAM, approve, code_of, emulator, send, upload

__all__ = ["emulator"]  # the fixture, shared with test_sends

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7 an invoice"
DOCX = b"PK\x03\x04 a word file"

ORDER_UPDATE = {
    "name": "order_update",
    "language": "en_US",
    "category": "MARKETING",
    "components": [
        {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [HANDLE]}},
        {
            "type": "BODY",
            "text": "Hi {{1}}, your order {{2}} ships today.",
            "example": {"body_text": [["Sam", "42"]]},
        },
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "QUICK_REPLY", "text": "Stop"},
                {
                    "type": "URL",
                    "text": "Track",
                    "url": "https://shop.example/o/{{1}}",
                    "example": ["https://shop.example/o/42"],
                },
                {"type": "COPY_CODE", "example": "SAVE10"},
                {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "15550001111"},
                {"type": "URL", "text": "Shop", "url": "https://shop.example"},
            ],
        },
    ],
}
INVOICE = {
    "name": "invoice",
    "language": "en_US",
    "category": "UTILITY",
    "components": [
        {"type": "HEADER", "format": "DOCUMENT", "example": {"header_handle": [HANDLE]}},
        {"type": "BODY", "text": "Your invoice is attached."},
    ],
}
GREETING = {
    "name": "greeting",
    "language": "en_US",
    "category": "MARKETING",
    "parameter_format": "NAMED",
    "components": [
        {
            "type": "HEADER",
            "format": "TEXT",
            "text": "Hello {{name}}",
            "example": {"header_text_named_params": [{"param_name": "name", "example": "Sam"}]},
        },
        {
            "type": "BODY",
            "text": "Welcome back, {{first_name}}.",
            "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Sam"}]},
        },
    ],
}
PLAIN = {
    "name": "plain",
    "language": "en_US",
    "category": "UTILITY",
    "components": [{"type": "BODY", "text": "Your parcel has left."}],
}


@dataclass
class Media:
    image: str
    pdf: str
    docx: str


@pytest.fixture
async def media(emulator: httpx.AsyncClient) -> Media:
    for template in (ORDER_UPDATE, INVOICE, GREETING, PLAIN):
        await approve(emulator, template)
    return Media(
        image=await upload(emulator, "image/png", PNG),
        pdf=await upload(emulator, "application/pdf", PDF),
        docx=await upload(
            emulator,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            DOCX,
        ),
    )


def message(name: str, components: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": SAM,
        "type": "template",
        "template": {
            "name": name,
            "language": {"policy": "deterministic", "code": "en_US"},
            "components": components,
        },
    }


def text(value: str) -> dict[str, str]:
    return {"type": "text", "text": value}


def button(index: int, sub_type: str, parameter: dict[str, Any]) -> dict[str, Any]:
    return {"type": "button", "sub_type": sub_type, "index": str(index), "parameters": [parameter]}


def valid(media: Media) -> dict[str, dict[str, Any]]:
    """A send each template accepts."""
    return {
        "order_update": message(
            "order_update",
            [
                {"type": "header", "parameters": [{"type": "image", "image": {"id": media.image}}]},
                {"type": "body", "parameters": [text("Sam"), text("42")]},
                button(0, "quick_reply", {"type": "payload", "payload": "STOP"}),
                button(1, "url", text("42")),
                button(2, "copy_code", {"type": "coupon_code", "coupon_code": "SAVE10"}),
            ],
        ),
        "invoice": message(
            "invoice",
            [
                {
                    "type": "header",
                    "parameters": [
                        {"type": "document", "document": {"id": media.pdf, "filename": "a.pdf"}}
                    ],
                }
            ],
        ),
        "greeting": message(
            "greeting",
            [
                {"type": "header", "parameters": [{**text("Sam"), "parameter_name": "name"}]},
                {"type": "body", "parameters": [{**text("Sam"), "parameter_name": "first_name"}]},
            ],
        ),
        "plain": message("plain", []),
    }


Change = Callable[[dict[str, Any], Media], None]


def components(payload: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = payload["template"]["components"]
    return found


def first(payload: dict[str, Any], kind: str, index: int | None = None) -> dict[str, Any]:
    return next(
        c
        for c in components(payload)
        if c["type"] == kind and (index is None or c.get("index") == str(index))
    )


def drop(payload: dict[str, Any], kind: str, index: int | None = None) -> None:
    components(payload).remove(first(payload, kind, index))


def header_is(parameter: dict[str, Any]) -> Change:
    return lambda p, _: first(p, "header").update(parameters=[parameter])


def body_is(*parameters: dict[str, Any]) -> Change:
    return lambda p, _: first(p, "body").update(parameters=list(parameters))


def button_is(position: int, **members: Any) -> Change:
    return lambda p, _: first(p, "button", position).update(members)


# (rule as docs/emulator.md names it, template, change to its valid send, Meta's code)
RULES: list[tuple[str, str, Change, int]] = [
    ("messaging_product", "plain", lambda p, _: p.update(messaging_product="sms"), 100),
    ("recipient_type", "plain", lambda p, _: p.update(recipient_type="broadcast"), 100),
    ("type", "plain", lambda p, _: p.update(type="text"), 100),
    ("to", "plain", lambda p, _: p.update(to="sam"), 100),
    ("template_name", "plain", lambda p, _: p["template"].pop("name"), 131008),
    ("language_code", "plain", lambda p, _: p["template"]["language"].pop("code"), 131008),
    ("language_policy", "plain", lambda p, _: p["template"]["language"].update(policy="x"), 100),
    ("component_type", "plain", lambda p, _: components(p).append({"type": "footer"}), 100),
    (
        "parameters_list",
        "order_update",
        lambda p, _: first(p, "body").update(parameters="Sam"),
        100,
    ),
    (
        "header_parameters",
        "order_update",
        lambda p, _: first(p, "header").update(parameters=[]),
        131008,
    ),
    ("button_sub_type", "order_update", lambda p, _: first(p, "button", 1).pop("sub_type"), 131008),
    ("button_index", "order_update", lambda p, _: first(p, "button", 1).pop("index"), 131008),
    ("button_parameters", "order_update", button_is(1, parameters=[]), 131008),
    ("button_sub_type_enum", "order_update", button_is(1, sub_type="call"), 100),
    ("button_index_range", "order_update", button_is(1, index="10"), 131009),
    ("button_index_unique", "order_update", button_is(1, index="0"), 131009),
    ("parameter_type", "order_update", body_is({"type": "emoji", "emoji": "x"}, text("42")), 100),
    ("parameter_value", "order_update", body_is({"type": "text"}, text("42")), 131008),
    (
        "parameter_value_type",
        "order_update",
        body_is({"type": "text", "text": True}, text("42")),
        100,
    ),
    (
        "currency",
        "order_update",
        body_is({"type": "currency", "currency": {"code": "USD"}}, text("42")),
        100,
    ),
    ("text_length", "order_update", body_is(text("x" * 32769), text("42")), 100),
    ("media_id_or_link", "order_update", header_is({"type": "image", "image": {}}), 131008),
    (
        "media_not_both",
        "order_update",
        header_is({"type": "image", "image": {"id": "1", "link": "https://a.example/b.png"}}),
        100,
    ),
    (
        "media_link",
        "order_update",
        header_is({"type": "image", "image": {"link": "ftp://a.example/b.png"}}),
        100,
    ),
    # against the template
    ("body_count", "order_update", body_is(text("Sam")), 132000),
    (
        "body_parameter_types",
        "order_update",
        body_is(text("Sam"), {"type": "image", "image": {"link": "https://a.example/b.png"}}),
        132012,
    ),
    (
        "named_parameters",
        "greeting",
        body_is({**text("Sam"), "parameter_name": "last_name"}),
        132000,
    ),
    (
        "named_parameter_missing",
        "greeting",
        body_is(text("Sam")),
        100,  # Meta: (#100) Invalid parameter, "Parameter name is missing or empty"
    ),
    (
        "named_parameter_twice",
        "greeting",
        body_is({**text("Sam"), "parameter_name": "first_name"}, text("Sam")),
        132000,
    ),
    (
        "named_header",
        "greeting",
        header_is({**text("Sam"), "parameter_name": "first_name"}),
        132000,
    ),
    (
        "named_header_missing",
        "greeting",
        header_is(text("Sam")),
        100,
    ),
    (
        "positional_not_named",
        "order_update",
        body_is({**text("Sam"), "parameter_name": "first_name"}, text("42")),
        100,
    ),
    ("body_text_newline", "order_update", body_is(text("Sam"), text("A\n42")), 132018),
    ("body_text_tab", "order_update", body_is(text("Sam\tLee"), text("42")), 132018),
    ("body_text_spaces", "order_update", body_is(text("Sam"), text("A     42")), 132018),
    (
        "header_text_newline",
        "greeting",
        header_is({**text("Sam\nLee"), "parameter_name": "name"}),
        132018,
    ),
    ("header_missing", "order_update", lambda p, _: drop(p, "header"), 131008),
    (
        "header_count",
        "order_update",
        lambda p, m: first(p, "header")["parameters"].append(
            {"type": "image", "image": {"id": m.image}}
        ),
        132000,
    ),
    (
        "header_kind",
        "order_update",
        lambda p, m: header_is({"type": "video", "video": {"id": m.image}})(p, m),
        132012,
    ),
    (
        "header_text_kind",
        "greeting",
        header_is({"type": "image", "image": {"link": "https://a.example/b.png"}}),
        132012,
    ),
    (
        "header_takes_nothing",
        "plain",
        lambda p, _: components(p).append({"type": "header", "parameters": [text("x")]}),
        132000,
    ),
    (
        "header_media_known",
        "order_update",
        header_is({"type": "image", "image": {"id": "404"}}),
        131053,
    ),
    (
        "document_pdf_only",
        "invoice",
        lambda p, m: header_is({"type": "document", "document": {"id": m.docx}})(p, m),
        131053,
    ),
    (
        "button_index_exists",
        "order_update",
        lambda p, _: components(p).append(
            button(7, "quick_reply", {"type": "payload", "payload": "x"})
        ),
        131009,
    ),
    (
        "button_sub_type_matches",
        "order_update",
        button_is(0, sub_type="url", parameters=[text("x")]),
        132012,
    ),
    ("button_parameter_type", "order_update", button_is(0, parameters=[text("STOP")]), 132012),
    (
        "button_one_parameter",
        "order_update",
        button_is(1, parameters=[text("42"), text("43")]),
        132000,
    ),
    (
        "button_static_url",
        "order_update",
        lambda p, _: components(p).append(button(4, "url", text("x"))),
        132000,
    ),
    (
        "button_without_parameters",
        "order_update",
        lambda p, _: components(p).append(button(3, "url", text("x"))),
        132012,
    ),
    (
        "coupon_code_length",
        "order_update",
        button_is(2, parameters=[{"type": "coupon_code", "coupon_code": "X" * 16}]),
        131009,
    ),
    ("button_value_required", "order_update", lambda p, _: drop(p, "button", 1), 131008),
]


async def test_each_valid_send_is_accepted(emulator: httpx.AsyncClient, media: Media) -> None:
    for name, payload in valid(media).items():
        answer = await send(emulator, payload)
        assert answer.status_code == 200, (name, answer.text)


@pytest.mark.parametrize(("rule", "template", "change", "code"), RULES, ids=[r[0] for r in RULES])
async def test_each_rule_refuses_with_metas_code(
    emulator: httpx.AsyncClient, media: Media, rule: str, template: str, change: Change, code: int
) -> None:
    payload = copy.deepcopy(valid(media)[template])
    change(payload, media)
    assert code_of(await send(emulator, payload)) == code, rule


# An authentication template as Meta's creation takes it (its wording is Meta's): its code goes
# in the body and in the OTP button, sent as a url button at index 0.
AUTH_META = {
    "name": "login_code",
    "language": "en_US",
    "category": "AUTHENTICATION",
    "components": [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 10},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy"}]},
    ],
}


async def test_an_authentication_code_goes_in_the_body_and_a_url_button(
    emulator: httpx.AsyncClient,
) -> None:
    await approve(emulator, AUTH_META)
    code_send = message(
        "login_code",
        [{"type": "body", "parameters": [text("482913")]}, button(0, "url", text("482913"))],
    )
    assert (await send(emulator, code_send)).status_code == 200
    without_button = copy.deepcopy(code_send)
    drop(without_button, "button", 0)
    assert code_of(await send(emulator, without_button)) == 131008
    as_coupon = copy.deepcopy(code_send)
    button_is(0, sub_type="copy_code", parameters=[{"type": "coupon_code", "coupon_code": "1"}])(
        as_coupon, Media("", "", "")
    )
    assert code_of(await send(emulator, as_coupon)) == 132012
    without_body = copy.deepcopy(code_send)
    drop(without_body, "body")
    assert code_of(await send(emulator, without_body)) == 132000


async def test_a_header_link_is_accepted_and_its_type_left_to_the_fetch(
    emulator: httpx.AsyncClient, media: Media
) -> None:
    """header_media_link: Meta fetches a link when it sends; the send itself is accepted (the
    failed status a link of another type gets is tests/template/test_named_params.py's)."""
    for link in ("https://cdn.example.com/a.png", "https://cdn.example.com/terms.pdf"):
        payload = copy.deepcopy(valid(media)["order_update"])
        header_is({"type": "image", "image": {"link": link}})(payload, media)
        answer = await send(emulator, payload)
        assert answer.status_code == 200, answer.text
