"""Meta's template model through Herald's API, against the emulator: named parameters (body and
TEXT header), PHONE_NUMBER buttons among others, and a media header given by its https URL;
each created, reviewed by the emulator, sent singly and in bulk, and each wrong form refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import assert_error
from tests.live_herald import Live, eventually
from tests.media import files
from tests.template.test_meta_shapes import TEMPLATES, TO, approved, upload

# A NAMED template: a named TEXT-header variable, two body names, and a URL button after a
# PHONE_NUMBER one (the URL's send index is its position among all the buttons: 1).
NAMED: dict[str, Any] = {
    "name": "order_named",
    "category": "UTILITY",
    "parameter_format": "NAMED",
    "header": {"format": "TEXT", "text": "Order {{order_id}}", "example": "A-1041"},
    "body": "Hello {{first_name}}, your order {{order_id}} is ready.",
    "footer": "Thank you",
    "buttons": [
        {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550051310"},
        {"type": "URL", "text": "Track", "url": "https://shop.example/t/{{1}}"},
    ],
}
NAMED_SEND: dict[str, Any] = {
    "header_params": {"order_id": "A-2001"},
    "body_params": {"first_name": "Sam", "order_id": "A-2001"},
    "buttons": [{"index": 1, "sub_type": "url", "value": "A-2001"}],
}
POSITIONAL: dict[str, Any] = {
    "name": "order_positional",
    "category": "UTILITY",
    "body": "Hello {{1}}, your order {{2}} is ready.",
    "buttons": [{"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "15550051310"}],
}


async def sent_payloads(live: Live, name: str) -> list[dict[str, Any]]:
    messages = (await live.emulator.get("/_emulator/messages")).json()
    return [m["payload"]["template"] for m in messages if m["template"] == name]


def component(sent: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in sent["components"] if c["type"] == kind)


async def test_a_named_template_is_created_in_metas_shape_and_previewed(
    live: Live, live_ana: dict[str, str]
) -> None:
    created = await live.herald.post(TEMPLATES, json={"language": "en", **NAMED}, headers=live_ana)
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    assert data["parameter_format"] == "NAMED"
    assert data["parameters"] == {
        "format": "NAMED",
        "body": ["first_name", "order_id"],
        "header": ["order_id"],
    }
    assert data["preview"] == {
        "header": "Order A-1041",
        "body": "Hello sample_first_name, your order sample_order_id is ready.",
        "footer": "Thank you",
        "buttons": ["Call us", "Track"],
    }
    assert data["buttons"][0]["phone_number"] == "+15550051310"

    submitted = await live.herald.post(f"{TEMPLATES}/{data['id']}/submit", headers=live_ana)
    assert submitted.status_code == 200, submitted.text
    at_meta = next(
        t
        for t in (await live.emulator.get("/_emulator/templates")).json()
        if t["name"] == "order_named"
    )
    components = {c["type"]: c for c in at_meta["components"]}
    assert components["HEADER"]["example"] == {
        "header_text_named_params": [{"param_name": "order_id", "example": "A-1041"}]
    }
    assert components["BODY"]["example"] == {
        "body_text_named_params": [
            {"param_name": "first_name", "example": "sample_first_name"},
            {"param_name": "order_id", "example": "sample_order_id"},
        ]
    }
    assert components["BUTTONS"]["buttons"][0] == {
        "type": "PHONE_NUMBER",
        "text": "Call us",
        "phone_number": "+15550051310",
    }
    recorded = [
        r
        for r in (await live.emulator.get("/_emulator/templates")).json()
        if r["name"] == "order_named"
    ]
    assert len(recorded) == 1


async def test_named_parameters_are_sent_with_their_names(
    live: Live, live_ana: dict[str, str]
) -> None:
    template_id = await approved(live, live_ana, NAMED)
    send = f"{TEMPLATES}/{template_id}/send"
    for _ in range(2):  # the second from the process's memory (the fast route)
        answer = await live.herald.post(send, json={**TO, **NAMED_SEND}, headers=live_ana)
        assert answer.status_code == 202, answer.text
    bulk = await live.herald.post(
        f"{TEMPLATES}/{template_id}/send-bulk",
        json={
            "recipients": [
                {**TO, **NAMED_SEND},
                {
                    "to": "4915112345678",
                    "country_code": "DE",
                    **NAMED_SEND,
                    "body_params": {"order_id": "B-7", "first_name": "Lea"},
                },
            ]
        },
        headers=live_ana,
    )
    assert bulk.status_code == 202, bulk.text
    assert bulk.json()["data"]["queued"] == 2

    async def all_sent() -> bool:
        return len(await sent_payloads(live, "order_named")) == 4

    await eventually(all_sent, message="the four sends reached the emulator")
    for sent in await sent_payloads(live, "order_named"):
        assert component(sent, "header")["parameters"] == [
            {"type": "text", "parameter_name": "order_id", "text": "A-2001"}
        ]
        body = component(sent, "body")["parameters"]
        assert [p["parameter_name"] for p in body] == ["first_name", "order_id"]
        assert all(p["type"] == "text" for p in body)
        button = component(sent, "button")
        assert (button["index"], button["sub_type"]) == ("1", "url")
    names = {
        component(s, "body")["parameters"][0]["text"]
        for s in await sent_payloads(live, "order_named")
    }
    assert names == {"Sam", "Lea"}


@pytest.mark.parametrize(
    ("change", "code", "data"),
    [
        (
            {"body_params": ["Sam", "A-1"]},
            "body_params_mismatch",
            {"parameter_format": "NAMED", "expected": ["first_name", "order_id"], "given": "list"},
        ),
        (
            {"body_params": {"first_name": "Sam"}},
            "body_params_mismatch",
            {
                "parameter_format": "NAMED",
                "expected": ["first_name", "order_id"],
                "missing": ["order_id"],
                "unknown": [],
            },
        ),
        (
            {"body_params": {"first_name": "Sam", "order_id": "1", "last_name": "Lee"}},
            "body_params_mismatch",
            {
                "parameter_format": "NAMED",
                "expected": ["first_name", "order_id"],
                "missing": [],
                "unknown": ["last_name"],
            },
        ),
        (
            {"header_params": ["A-1"]},
            "header_params_mismatch",
            {"parameter_format": "NAMED", "expected": ["order_id"], "given": "list"},
        ),
        ({"header_params": {}}, "header_params_mismatch", None),
        ({"buttons": [{"index": 0, "sub_type": "url", "value": "x"}]}, "invalid_button", None),
    ],
    ids=["list", "missing", "unknown", "header_list", "header_missing", "phone_button_value"],
)
async def test_the_wrong_form_or_names_are_refused_naming_the_expected_ones(
    live: Live,
    live_ana: dict[str, str],
    change: dict[str, Any],
    code: str,
    data: dict[str, Any] | None,
) -> None:
    template_id = await approved(live, live_ana, NAMED)
    body = {**TO, **NAMED_SEND, **change}
    refused = await live.herald.post(f"{TEMPLATES}/{template_id}/send", json=body, headers=live_ana)
    error = assert_error(refused, 400, code)
    if data is not None:
        assert error["data"] == data
    v1 = await live.herald.post(
        "/api/whatsapp/",
        json={
            "template_id": template_id,
            "phone_number": TO["to"],
            "country_code": TO["country_code"],
            **NAMED_SEND,
            **change,
        },
        headers=live_ana,
    )
    assert_error(v1, 400, code)
    bulk = await live.herald.post(
        f"{TEMPLATES}/{template_id}/send-bulk",
        json={"recipients": [body], "skip_invalid": True},
        headers=live_ana,
    )
    assert bulk.status_code == 202, bulk.text
    assert [r["code"] for r in bulk.json()["data"]["rejected"]] == [code]


async def test_a_positional_template_with_a_phone_button_takes_a_list(
    live: Live, live_ana: dict[str, str]
) -> None:
    template_id = await approved(live, live_ana, POSITIONAL)
    send = f"{TEMPLATES}/{template_id}/send"
    named = await live.herald.post(
        send, json={**TO, "body_params": {"first_name": "Sam"}}, headers=live_ana
    )
    error = assert_error(named, 400, "body_params_mismatch")
    assert error["data"] == {"parameter_format": "POSITIONAL", "expected": 2, "given": "object"}
    accepted = await live.herald.post(
        send, json={**TO, "body_params": ["Sam", "A-1"]}, headers=live_ana
    )
    assert accepted.status_code == 202, accepted.text

    async def sent() -> bool:
        return bool(await sent_payloads(live, "order_positional"))

    await eventually(sent, message="the positional send reached the emulator")
    (payload,) = await sent_payloads(live, "order_positional")
    assert [c["type"] for c in payload["components"]] == ["body"]  # the phone button takes none
    assert component(payload, "body")["parameters"] == [
        {"type": "text", "text": "Sam"},
        {"type": "text", "text": "A-1"},
    ]


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"body": "Hi {{first_name}}"}, "placeholder_format"),
        ({"parameter_format": "NAMED", "body": "Hi {{1}}"}, "placeholder_format"),
        ({"parameter_format": "NAMED", "body": "Hi {{First Name}}"}, "placeholder_format"),
        ({"parameter_format": "NAMED", "body": "{{a}} and {{a}}"}, "placeholder_sequence"),
        (
            {
                "parameter_format": "NAMED",
                "body": "Hi",
                "header": {"format": "TEXT", "text": "{{a}} {{b}}", "example": "x"},
            },
            "header_variable",
        ),
        (
            {
                "parameter_format": "NAMED",
                "body": "Hi",
                "header": {"format": "TEXT", "text": "Order {{order_id}}"},
            },
            "header_example",
        ),
        (
            {"body": "Hi", "buttons": [{"type": "PHONE_NUMBER", "text": "Call"}]},
            "button_phone_number",
        ),
        (
            {
                "body": "Hi",
                "buttons": [{"type": "PHONE_NUMBER", "text": "Call", "phone_number": "call-us"}],
            },
            "button_phone_number",
        ),
        (
            {"body": "Hi", "buttons": [{"type": "PHONE_NUMBER", "phone_number": "15550051310"}]},
            "button_text",
        ),
        (
            {
                "body": "Hi",
                "buttons": [{"type": "QUICK_REPLY", "text": "Stop", "phone_number": "155500513"}],
            },
            "button_phone_number",
        ),
        (
            {
                "body": "Hi",
                "buttons": [
                    {"type": "PHONE_NUMBER", "text": f"Call {n}", "phone_number": "15550051310"}
                    for n in "ab"
                ],
            },
            "button_limit",
        ),
    ],
)
async def test_creation_rules_of_named_templates_and_phone_buttons(
    live: Live, live_ana: dict[str, str], fields: dict[str, Any], rule: str
) -> None:
    answer = await live.herald.post(
        TEMPLATES,
        json={"name": "refused", "language": "en", "category": "MARKETING", **fields},
        headers=live_ana,
    )
    error = assert_error(answer, 400, "validation_failed")
    assert [e["rule"] for e in error["data"]["errors"]] == [rule]  # type: ignore[index]


IMAGE_HEADER: dict[str, Any] = {"name": "promo_link", "category": "MARKETING", "body": "New!"}


async def test_a_header_file_by_https_url_reaches_the_provider_as_a_link(
    live: Live, live_ana: dict[str, str]
) -> None:
    sample = await upload(live, live_ana, files.png())
    header = {"format": "IMAGE", "example_media_id": sample}
    template_id = await approved(live, live_ana, {**IMAGE_HEADER, "header": header})
    send = f"{TEMPLATES}/{template_id}/send"
    url = "https://cdn.example.com/promo/spring.png"
    for _ in range(2):  # the framework's route, then the fast one
        answer = await live.herald.post(
            send, json={**TO, "header_media_url": url}, headers=live_ana
        )
        assert answer.status_code == 202, answer.text
    bulk = await live.herald.post(
        f"{TEMPLATES}/{template_id}/send-bulk",
        json={"recipients": [{**TO, "header_media_url": url}]},
        headers=live_ana,
    )
    assert bulk.status_code == 202, bulk.text

    async def all_sent() -> bool:
        return len(await sent_payloads(live, "promo_link")) == 3

    await eventually(all_sent, message="the link sends reached the emulator")
    for sent in await sent_payloads(live, "promo_link"):
        assert component(sent, "header")["parameters"] == [
            {"type": "image", "image": {"link": url}}
        ]
    uploads = (await live.emulator.get("/_emulator/media")).json()
    assert uploads == []  # nothing was uploaded for a link


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://cdn.example.com/a.png", "header_media_url_invalid"),
        ("https://10.0.0.7/a.png", "header_media_url_invalid"),
        ("https://127.0.0.1/a.png", "header_media_url_invalid"),
        ("https://[::ffff:192.168.1.1]/a.png", "header_media_url_invalid"),
        ("https://0x7f000001/a.png", "header_media_url_invalid"),
        ("https://localhost/a.png", "header_media_url_invalid"),
        ("https://media.internal/a.png", "header_media_url_invalid"),
        ("https://user:pw@cdn.example.com/a.png", "header_media_url_invalid"),
        ("ftp://cdn.example.com/a.png", "header_media_url_invalid"),
        ("not a url", "header_media_url_invalid"),
    ],
)
async def test_a_header_url_that_is_not_public_https_is_refused(
    live: Live, live_ana: dict[str, str], url: str, code: str
) -> None:
    sample = await upload(live, live_ana, files.png())
    header = {"format": "IMAGE", "example_media_id": sample}
    template_id = await approved(live, live_ana, {**IMAGE_HEADER, "header": header})
    refused = await live.herald.post(
        f"{TEMPLATES}/{template_id}/send", json={**TO, "header_media_url": url}, headers=live_ana
    )
    error = assert_error(refused, 400, code)
    assert error["data"]["field"] == "header_media_url"  # type: ignore[index]


async def test_a_header_url_needs_a_media_header_and_no_uploaded_file_beside_it(
    live: Live, live_ana: dict[str, str]
) -> None:
    url = "https://cdn.example.com/a.png"
    plain = await approved(live, live_ana, {**POSITIONAL, "name": "plain_order"})
    refused = await live.herald.post(
        f"{TEMPLATES}/{plain}/send",
        json={**TO, "body_params": ["Sam", "1"], "header_media_url": url},
        headers=live_ana,
    )
    assert_error(refused, 400, "header_media_mismatch")
    sample = await upload(live, live_ana, files.png())
    header = {"format": "IMAGE", "example_media_id": sample}
    template_id = await approved(live, live_ana, {**IMAGE_HEADER, "header": header})
    both = await live.herald.post(
        f"{TEMPLATES}/{template_id}/send",
        json={**TO, "header_media_url": url, "header_media_id": sample},
        headers=live_ana,
    )
    assert_error(both, 400, "validation_failed")
    neither = await live.herald.post(f"{TEMPLATES}/{template_id}/send", json=TO, headers=live_ana)
    assert_error(neither, 400, "header_media_required")


async def test_a_linked_file_of_another_type_fails_when_the_provider_fetches_it(
    live: Live, live_ana: dict[str, str]
) -> None:
    sample = await upload(live, live_ana, files.png())
    header = {"format": "IMAGE", "example_media_id": sample}
    template_id = await approved(live, live_ana, {**IMAGE_HEADER, "header": header})
    answer = await live.herald.post(
        f"{TEMPLATES}/{template_id}/send",
        json={**TO, "header_media_url": "https://cdn.example.com/files/terms.pdf"},
        headers=live_ana,
    )
    assert answer.status_code == 202, answer.text  # the type is the provider's to check
    message_id = answer.json()["data"]["message"]["id"]

    async def failed() -> bool:
        found = await live.herald.get(f"/api/whatsapp/{message_id}/", headers=live_ana)
        return bool(found.json()["data"]["state"] == "failed")

    await eventually(failed, message="the message failed once the provider fetched the file")
    found = await live.herald.get(f"/api/whatsapp/{message_id}/", headers=live_ana)
    assert found.json()["data"]["error"]["code"] == "131053"
