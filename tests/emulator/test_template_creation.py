"""Template creation at the emulator, held against Meta's own description: every creation
example of Meta's OpenAPI (v23.0) is accepted, and each rule refuses its own payload with the
code Meta answers. The Resumable Upload routes that media-header samples need are pinned too."""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from herald.emulator.app import create_emulator_app
from herald.emulator.config import EmulatorConfig
from tests.emulator.uploads import APP_ID, sample_handle
from tests.live import serve_app
from tests.media import files

TOKEN = "emulator-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SPEC = "shared/reference/meta/business-messaging-api_v23.0.yaml"
SAMPLES = {
    "IMAGE": (files.png(), "image/png"),
    "VIDEO": (files.mp4(), "video/mp4"),
    "DOCUMENT": (files.pdf(), "application/pdf"),
}


@functools.cache
def meta_examples() -> dict[str, dict[str, Any]]:
    """The request examples of Meta's ``POST /{WABA-ID}/message_templates``."""
    here = Path(__file__).resolve()
    found = next((p / SPEC for p in here.parents if (p / SPEC).is_file()), None)
    if found is None:
        pytest.skip(f"Meta's OpenAPI description is not here ({SPEC})", allow_module_level=True)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = yaml.load(found.read_text(), Loader=loader)  # noqa: S506 - a safe loader
    operation = spec["paths"]["/{Version}/{WABA-ID}/message_templates"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    return {title: example["value"] for title, example in examples.items()}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    config = EmulatorConfig(access_token=TOKEN, app_secret="secret", approve_after_seconds=None)
    app = create_emulator_app(config)
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield client
    await app.state.emulator.aclose()


async def create(http: httpx.AsyncClient, payload: Any, waba: str = "555") -> httpx.Response:
    return await http.post(f"/v23.0/{waba}/message_templates", json=payload, headers=AUTH)


def error_of(answer: httpx.Response) -> tuple[int, int | None]:
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    return error["code"], error.get("error_subcode")


async def with_own_samples(http: httpx.AsyncClient, payload: dict[str, Any]) -> dict[str, Any]:
    """Meta's example with each media header's handle replaced by one the emulator issued (a
    handle is only good where it was uploaded, at Meta too), and a real name where the example
    has a placeholder (``<TEMPLATE_NAME>``)."""
    payload = copy.deepcopy(payload)
    if not re.fullmatch(r"[a-z0-9_]+", payload["name"]):
        payload["name"] = "example_template"
    for component in payload["components"]:
        if "header_handle" in (component.get("example") or {}):
            data, file_type = SAMPLES[component["format"]]
            handle = await sample_handle(http, AUTH, data, file_type)
            component["example"]["header_handle"] = [handle]
    return payload


def test_metas_description_has_the_examples_this_module_relies_on() -> None:
    titles = set(meta_examples())
    assert {
        "Create authentication template w/ OTP copy code button",
        "Create authentication template w/ OTP one-tap autofill button",
        "Create template w/ document header, text body, a phone number button, and a URL button",
        "Create template w/ image header, text body, text footer, and 2 call-to-action buttons",
        "Create template w/ text header, text body, text footer, and 2 quick reply buttons",
    } <= titles


@pytest.mark.parametrize("title", sorted(meta_examples()))
async def test_every_creation_example_of_metas_description_is_accepted(
    http: httpx.AsyncClient, title: str
) -> None:
    payload = await with_own_samples(http, meta_examples()[title])
    answer = await create(http, payload, waba=str(abs(hash(title)) % 10**12))
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "PENDING"


async def test_kept_templates_are_in_metas_shape_with_types_upper_cased(
    http: httpx.AsyncClient,
) -> None:
    flow = meta_examples()["Create Flow Template Message by ID"]  # a lower-case "body"
    assert (await create(http, await with_own_samples(http, flow))).status_code == 200
    listed = await http.get("/v23.0/555/message_templates", headers=AUTH)
    components = listed.json()["data"][0]["components"]
    assert [c["type"] for c in components] == ["BODY", "BUTTONS"]
    assert components[1]["buttons"][0]["type"] == "FLOW"


CUSTOM: dict[str, Any] = {
    "name": "order_update",
    "language": "en",
    "category": "UTILITY",
    "components": [
        {"type": "BODY", "text": "Hi {{1}}, order {{2}}", "example": {"body_text": [["A", "4"]]}}
    ],
}
AUTHENTICATION: dict[str, Any] = {
    "name": "login_code",
    "language": "en_US",
    "category": "AUTHENTICATION",
    "components": [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 10},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]},
    ],
}
BODY = CUSTOM["components"][0]
ONE_TAP = {"type": "OTP", "otp_type": "ONE_TAP", "package_name": "com.example.app"}


def custom(*components: dict[str, Any], body: dict[str, Any] | None = None) -> dict[str, Any]:
    return {**CUSTOM, "components": [body or BODY, *components]}


def authentication(*components: dict[str, Any]) -> dict[str, Any]:
    return {**AUTHENTICATION, "components": list(components)}


def buttons(*items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "BUTTONS", "buttons": list(items)}


AUTH_BODY = {"type": "BODY"}
COPY_CODE_OTP = buttons({"type": "OTP", "otp_type": "COPY_CODE"})
HEADER_SUBCODE, LENGTH_SUBCODE = 2388047, 2388040

REFUSED: dict[str, tuple[dict[str, Any], int | None]] = {
    "unknown category": ({**CUSTOM, "category": "PROMOTION"}, None),
    "unknown component type": (custom({"type": "CAROUSELS"}), None),
    "two bodies": (custom(BODY), None),
    "no body": ({**CUSTOM, "components": [{"type": "FOOTER", "text": "Bye"}]}, None),
    "body variables without example": (custom(body={"type": "BODY", "text": "Hi {{1}}!"}), None),
    "body example of the wrong size": (
        custom(body={**BODY, "example": {"body_text": [["A"]]}}),
        None,
    ),
    "body variables with a gap": (
        custom(body={**BODY, "text": "Hi {{1}}, order {{3}}"}),
        None,
    ),
    "body over 1024 characters": (
        custom(body={"type": "BODY", "text": "x" * 1025}),
        LENGTH_SUBCODE,
    ),
    "text header with two variables": (
        custom(
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": "{{1}} {{2}}",
                "example": {"header_text": ["a", "b"]},
            }
        ),
        HEADER_SUBCODE,
    ),
    "text header variable without example": (
        custom({"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}),
        None,
    ),
    "unknown header format": (custom({"type": "HEADER", "format": "GIF"}), HEADER_SUBCODE),
    "image header without a sample": (
        custom({"type": "HEADER", "format": "IMAGE"}),
        HEADER_SUBCODE,
    ),
    "image header with a handle not issued here": (
        custom({"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::x:y"]}}),
        None,
    ),
    "footer with a variable": (custom({"type": "FOOTER", "text": "Bye {{1}}"}), None),
    "quick reply without text": (custom(buttons({"type": "QUICK_REPLY"})), None),
    "url variable without example": (
        custom(buttons({"type": "URL", "text": "Go", "url": "https://x.example/{{1}}"})),
        None,
    ),
    "url variable not trailing": (
        custom(
            buttons(
                {"type": "URL", "text": "Go", "url": "https://x.example/{{1}}/a", "example": ["b"]}
            )
        ),
        None,
    ),
    "three url buttons": (
        custom(
            buttons(*[{"type": "URL", "text": f"Go {n}", "url": "https://x.ex"} for n in "abc"])
        ),
        None,
    ),
    "copy code without example": (custom(buttons({"type": "COPY_CODE"})), None),
    "phone number button without a number": (
        custom(buttons({"type": "PHONE_NUMBER", "text": "Call"})),
        None,
    ),
    "phone number button with letters": (
        custom(buttons({"type": "PHONE_NUMBER", "text": "Call", "phone_number": "call-us"})),
        None,
    ),
    "phone number over 20 characters": (
        custom(buttons({"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+" + "1" * 20})),
        LENGTH_SUBCODE,
    ),
    "phone number button without text": (
        custom(buttons({"type": "PHONE_NUMBER", "phone_number": "15550001111"})),
        None,
    ),
    "phone number button with a url": (
        custom(
            buttons(
                {
                    "type": "PHONE_NUMBER",
                    "text": "Call",
                    "phone_number": "15550001111",
                    "url": "https://x.example",
                }
            )
        ),
        None,
    ),
    "two phone number buttons": (
        custom(
            buttons(
                *[
                    {"type": "PHONE_NUMBER", "text": f"Call {n}", "phone_number": f"1555000111{n}"}
                    for n in "12"
                ]
            )
        ),
        None,
    ),
    "named variables without parameter_format": (
        custom(
            body={
                "type": "BODY",
                "text": "Hi {{first_name}}!",
                "example": {
                    "body_text_named_params": [{"param_name": "first_name", "example": "Sam"}]
                },
            }
        ),
        None,
    ),
    "named example missing a variable": (
        {
            **custom(
                body={
                    "type": "BODY",
                    "text": "Hi {{first_name}}, order {{order_id}}",
                    "example": {
                        "body_text_named_params": [{"param_name": "first_name", "example": "Sam"}]
                    },
                }
            ),
            "parameter_format": "NAMED",
        },
        None,
    ),
    "named header without its example": (
        {
            **custom(
                {"type": "HEADER", "format": "TEXT", "text": "Order {{order_id}}"},
                body={"type": "BODY", "text": "Your order is ready."},
            ),
            "parameter_format": "NAMED",
        },
        None,
    ),
    "named header with a positional example": (
        {
            **custom(
                {
                    "type": "HEADER",
                    "format": "TEXT",
                    "text": "Order {{order_id}}",
                    "example": {"header_text": ["A-1"]},
                },
                body={"type": "BODY", "text": "Your order is ready."},
            ),
            "parameter_format": "NAMED",
        },
        None,
    ),
    "otp button outside authentication": (
        custom(buttons({"type": "OTP", "otp_type": "COPY_CODE"})),
        None,
    ),
    "authentication body with text": (
        authentication({"type": "BODY", "text": "Your code is {{1}}"}, COPY_CODE_OTP),
        None,
    ),
    "authentication with a header": (
        authentication(
            {"type": "HEADER", "format": "TEXT", "text": "Code"}, AUTH_BODY, COPY_CODE_OTP
        ),
        None,
    ),
    "authentication footer with text": (
        authentication(AUTH_BODY, {"type": "FOOTER", "text": "Expires soon"}, COPY_CODE_OTP),
        None,
    ),
    "authentication without a button": (authentication(AUTH_BODY), None),
    "authentication with a copy-code (not OTP) button": (
        authentication(AUTH_BODY, buttons({"type": "COPY_CODE", "example": "123"})),
        None,
    ),
    "authentication with two OTP buttons": (
        authentication(AUTH_BODY, buttons(COPY_CODE_OTP["buttons"][0], ONE_TAP)),
        None,
    ),
    "one-tap without the app's signature hash": (
        authentication(AUTH_BODY, buttons(ONE_TAP)),
        None,
    ),
}


@pytest.mark.parametrize("rule", sorted(REFUSED))
async def test_each_rule_refuses_its_payload_with_metas_code(
    http: httpx.AsyncClient, rule: str
) -> None:
    payload, subcode = REFUSED[rule]
    assert error_of(await create(http, payload)) == (100, subcode)


async def test_the_valid_payloads_the_refusals_start_from_are_accepted(
    http: httpx.AsyncClient,
) -> None:
    assert (await create(http, CUSTOM)).status_code == 200
    assert (await create(http, AUTHENTICATION)).status_code == 200
    one_tap = {**ONE_TAP, "signature_hash": "K8a/AINcGX7"}
    lower_case = authentication({"type": "body"}, {"type": "buttons", "buttons": [one_tap]})
    assert (await create(http, {**lower_case, "name": "login_tap"})).status_code == 200
    named_body = {
        "type": "BODY",
        "text": "Hi {{first_name}}!",
        "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Sam"}]},
    }
    named = {**custom(body=named_body), "name": "named", "parameter_format": "NAMED"}
    assert (await create(http, named)).status_code == 200
    header = {
        "type": "HEADER",
        "format": "TEXT",
        "text": "Order {{order_id}}",
        "example": {"header_text_named_params": [{"param_name": "order_id", "example": "A-1"}]},
    }
    call = {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550001111"}
    with_header = {**custom(header, buttons(call), body=named_body), "parameter_format": "NAMED"}
    assert (await create(http, {**with_header, "name": "named_header"})).status_code == 200
    named_body["example"] = {"body_text": [["Sam"]]}  # positional examples for named variables
    assert error_of(await create(http, {**named, "name": "named_two"})) == (100, None)


async def test_a_document_header_sample_must_be_a_pdf(http: httpx.AsyncClient) -> None:
    image = await sample_handle(http, AUTH, files.png(), "image/png")
    pdf = await sample_handle(http, AUTH, files.pdf(), "application/pdf")

    def document(handle: str) -> dict[str, Any]:
        return custom(
            {"type": "HEADER", "format": "DOCUMENT", "example": {"header_handle": [handle]}}
        )

    assert error_of(await create(http, document(image))) == (100, HEADER_SUBCODE)
    assert (await create(http, document(pdf))).status_code == 200


# --- the Resumable Upload API ------------------------------------------------------------------


async def open_session(
    http: httpx.AsyncClient, file_type: str = "application/pdf", length: int = 2048
) -> httpx.Response:
    params = {"file_name": "receipt.pdf", "file_length": length, "file_type": file_type}
    return await http.post(f"/v23.0/{APP_ID}/uploads", params=params, headers=AUTH)


async def test_an_upload_answers_a_handle_and_can_resume(http: httpx.AsyncClient) -> None:
    data = files.pdf(2048)
    upload_id = (await open_session(http)).json()["id"]
    assert upload_id.startswith("upload:")
    assert "?sig=" in upload_id
    oauth = {"Authorization": f"OAuth {TOKEN}"}  # the scheme Meta's upload guide shows
    first = await http.post(
        f"/v23.0/{upload_id}", content=data[:1000], headers={**oauth, "file_offset": "0"}
    )
    assert first.json()["file_offset"] == 1000
    status = await http.get(f"/v23.0/{upload_id}", headers=AUTH)
    assert status.json()["file_offset"] == 1000
    rest = await http.post(
        f"/v23.0/{upload_id}", content=data[1000:], headers={**oauth, "file_offset": "1000"}
    )
    assert rest.status_code == 200, rest.text
    assert rest.json()["h"].startswith("4::")


async def test_upload_refusals(http: httpx.AsyncClient) -> None:
    assert error_of(await open_session(http, file_type="application/msword")) == (100, None)
    assert error_of(await open_session(http, length=0)) == (100, None)
    no_app = await http.post(
        "/v23.0/not-an-app/uploads",
        params={"file_name": "a.pdf", "file_length": 10, "file_type": "application/pdf"},
        headers=AUTH,
    )
    assert error_of(no_app) == (100, 33)
    upload_id = (await open_session(http, length=len(files.png()))).json()["id"]
    unsigned = upload_id.split("?")[0]
    no_sig = await http.post(
        f"/v23.0/{unsigned}", content=b"x", headers={**AUTH, "file_offset": "0"}
    )
    assert error_of(no_sig) == (100, 33)
    wrong_offset = await http.post(
        f"/v23.0/{upload_id}", content=files.png(), headers={**AUTH, "file_offset": "5"}
    )
    assert error_of(wrong_offset) == (100, None)
    not_a_pdf = await http.post(
        f"/v23.0/{upload_id}", content=files.png(), headers={**AUTH, "file_offset": "0"}
    )
    assert error_of(not_a_pdf) == (100, None)  # declared application/pdf, sent a PNG
    anonymous = await http.post(f"/v23.0/{upload_id}", content=b"x", headers={"file_offset": "0"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == 104  # no token at all: Meta's example
