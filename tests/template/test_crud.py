"""Template create, list, get and the validation answers, without a provider (spec/api.md §4)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import assert_error
from tests.media import files

ORDER = {
    "name": "order_confirmed",
    "language": "en",
    "category": "UTILITY",
    "body": "Hello {{1}}, your order {{2}} is confirmed.",
}


async def create(client: httpx.AsyncClient, auth: dict[str, str], **fields: Any) -> httpx.Response:
    return await client.post("/api/v2/whatsapp/templates", json={**ORDER, **fields}, headers=auth)


async def upload(client: httpx.AsyncClient, auth: dict[str, str], data: bytes, name: str) -> int:
    answer = await client.post(
        "/api/v2/whatsapp/media",
        files={"file": (name, data, "application/octet-stream")},
        headers=auth,
    )
    assert answer.status_code == 201, answer.text
    media_id: int = answer.json()["data"]["media_id"]
    return media_id


async def test_create_answers_201_in_draft_with_every_field(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    sample = await upload(client, auth, files.pdf(), "receipt.pdf")
    answer = await create(
        client,
        auth,
        header={"format": "DOCUMENT", "example_media_id": sample},
        footer="Thanks for shopping",
        buttons=[
            {"type": "URL", "text": "Track", "url": "https://shop.example/t/{{1}}"},
            {"type": "QUICK_REPLY", "text": "Stop"},
        ],
    )
    assert answer.status_code == 201, answer.text
    data = answer.json()["data"]
    assert data["state"] == "DRAFT"
    assert data["placeholder_count"] == 2
    assert data["header"] == {
        "format": "DOCUMENT",
        "text": None,
        "example": None,
        "example_media_id": sample,
    }
    assert data["buttons"] == [
        {
            "type": "URL",
            "text": "Track",
            "url": "https://shop.example/t/{{1}}",
            "example": None,
            "phone_number": None,
        },
        {"type": "QUICK_REPLY", "text": "Stop", "url": None, "example": None, "phone_number": None},
    ]
    assert data["authentication"] is None
    assert data["created_at"].endswith("Z")
    assert set(data) == {
        "id",
        "name",
        "language",
        "category",
        "state",
        "rejection_reason",
        "header",
        "body",
        "footer",
        "buttons",
        "authentication",
        "placeholder_count",
        "parameter_format",
        "parameters",
        "preview",
        "quality",
        "previous_category",
        "flagged_at",
        "sendable",
        "unsendable_reason",
        "components",
        "channel_id",
        "waba_id",
        "created_at",
        "updated_at",
    }
    assert data["parameters"] == {"format": "POSITIONAL", "body": ["1", "2"], "header": []}
    assert data["preview"]["header"] == "[document]"
    # Made in Herald: sendable, positional, no rating and no components from Meta yet.
    assert (data["parameter_format"], data["quality"], data["components"]) == (
        "POSITIONAL",
        None,
        None,
    )
    assert (data["sendable"], data["unsendable_reason"]) == (True, None)
    assert (data["previous_category"], data["flagged_at"]) == (None, None)


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"body": "Hi {{1}} {{3}}"}, "body", "placeholder_sequence"),
        (
            {"buttons": [{"type": "URL", "text": "Go", "url": "https://x.example/{{1}}/track"}]},
            "buttons.0.url",
            "url_button_variable",
        ),
        (
            {"buttons": [{"type": "QUICK_REPLY", "text": f"o{n}"} for n in range(11)]},
            "buttons",
            "button_limit",
        ),
        (
            # Meta writes an AUTHENTICATION template's text: a body of the caller's is refused.
            {"category": "AUTHENTICATION"},
            "body",
            "authentication_body",
        ),
        (
            {"category": "AUTHENTICATION", "body": None, "buttons": [{"type": "COPY_CODE"}]},
            "buttons",
            "authentication_buttons",
        ),
        ({"header": {"format": "IMAGE"}}, "header.example_media_id", "header_sample"),
        (
            {"header": {"format": "TEXT", "text": "Hi {{1}}"}},
            "header.example",
            "header_example",
        ),
        (
            {"category": "MARKETING", "buttons": [{"type": "COPY_CODE"}]},
            "buttons.0.example",
            "copy_code_example",
        ),
        ({"otp_type": "COPY_CODE"}, "otp_type", "authentication_only"),
    ],
)
async def test_a_broken_rule_is_a_400_naming_it(
    client: httpx.AsyncClient, auth: dict[str, str], fields: dict[str, Any], field: str, rule: str
) -> None:
    body = assert_error(await create(client, auth, **fields), 400, "validation_failed")
    assert body["data"]["errors"][0]["field"] == field  # type: ignore[index]
    assert body["data"]["errors"][0]["rule"] == rule  # type: ignore[index]
    assert rule.split("_")[0] in str(body["message"]) or field in str(body["message"])


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "Order Confirmed"}, "name"),
        ({"language": "english"}, "language"),
        ({"category": "PROMO"}, "category"),
        ({"body": ""}, "body"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_schema_errors_name_the_field(
    client: httpx.AsyncClient, auth: dict[str, str], fields: dict[str, Any], field: str
) -> None:
    body = assert_error(await create(client, auth, **fields), 400, "validation_failed")
    assert field in [e["field"] for e in body["data"]["errors"]]  # type: ignore[index]


async def test_name_and_language_are_unique_per_user(
    client: httpx.AsyncClient, auth: dict[str, str], bob_auth: dict[str, str]
) -> None:
    first = (await create(client, auth)).json()["data"]
    body = assert_error(await create(client, auth), 409, "template_exists")
    assert body["data"] == {"id": first["id"]}
    assert (await create(client, auth, language="fr")).status_code == 201
    assert (await create(client, bob_auth)).status_code == 201  # another user's store


async def test_list_filters_and_pages(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    await create(client, auth)
    await create(client, auth, name="promo_week", category="MARKETING", body="Sale!")
    await create(client, auth, name="promo_month", category="MARKETING", body="Sale!")
    listing = (await client.get("/api/v2/whatsapp/templates", headers=auth)).json()["data"]
    assert [t["name"] for t in listing["items"]] == ["promo_month", "promo_week", "order_confirmed"]
    assert listing["pagination"] == {"page": 1, "limit": 20, "total": 3, "pages": 1}
    marketing = await client.get(
        "/api/v2/whatsapp/templates", params={"category": "MARKETING", "limit": 1}, headers=auth
    )
    assert marketing.json()["data"]["pagination"] == {"page": 1, "limit": 1, "total": 2, "pages": 2}
    by_name = await client.get(
        "/api/whatsapp/templates/", params={"name": "promo_week"}, headers=auth
    )
    assert [t["name"] for t in by_name.json()["data"]["items"]] == ["promo_week"]
    drafts = await client.get("/api/v2/whatsapp/templates?state=DRAFT", headers=auth)
    assert drafts.json()["data"]["pagination"]["total"] == 3
    assert_error(
        await client.get("/api/v2/whatsapp/templates?state=LIVE", headers=auth),
        400,
        "validation_failed",
    )


async def test_v1_and_v2_serve_the_same_objects(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    created = await client.post("/api/whatsapp/templates/", json=ORDER, headers=auth)
    assert created.status_code == 201
    template_id = created.json()["data"]["id"]
    v1 = (await client.get(f"/api/whatsapp/templates/{template_id}/", headers=auth)).json()
    v2 = (await client.get(f"/api/v2/whatsapp/templates/{template_id}", headers=auth)).json()
    assert v1["data"] == v2["data"]
    wrong = await client.get(f"/api/v2/whatsapp/templates/{template_id}/", headers=auth)
    assert assert_error(wrong, 404, "route_not_found")["data"] == {
        "path": f"/api/v2/whatsapp/templates/{template_id}"
    }


async def test_another_users_template_is_404_everywhere(
    client: httpx.AsyncClient, auth: dict[str, str], bob_auth: dict[str, str]
) -> None:
    template_id = (await create(client, auth)).json()["data"]["id"]
    for method, path in (
        ("GET", f"/api/v2/whatsapp/templates/{template_id}"),
        ("GET", f"/api/whatsapp/templates/{template_id}/"),
        ("POST", f"/api/v2/whatsapp/templates/{template_id}/submit"),
        ("POST", f"/api/whatsapp/templates/{template_id}/submit/"),
        ("DELETE", f"/api/v2/whatsapp/templates/{template_id}"),
    ):
        assert_error(
            await client.request(method, path, headers=bob_auth), 404, "template_not_found"
        )
    still = await client.get(f"/api/v2/whatsapp/templates/{template_id}", headers=auth)
    assert still.json()["data"]["state"] == "DRAFT"


async def test_media_headers_take_a_sample_of_their_kind_and_documents_are_pdf(
    client: httpx.AsyncClient, auth: dict[str, str], bob_auth: dict[str, str]
) -> None:
    pdf = await upload(client, auth, files.pdf(), "receipt.pdf")
    png = await upload(client, auth, files.png(), "logo.png")
    docx = await upload(client, auth, files.docx(), "receipt.docx")
    bobs = await upload(client, bob_auth, files.png(), "bob.png")

    def header(kind: str, media_id: int) -> dict[str, Any]:
        return {"header": {"format": kind, "example_media_id": media_id}}

    assert (await create(client, auth, **header("IMAGE", png))).status_code == 201
    body = assert_error(
        await create(client, auth, name="promo", **header("IMAGE", pdf)),
        400,
        "header_media_mismatch",
    )
    assert body["data"] == {"header_format": "IMAGE", "media_type": "document"}
    body = assert_error(
        await create(client, auth, name="receipt", **header("DOCUMENT", docx)),
        415,
        "header_document_not_pdf",
    )
    assert body["data"] == {
        "media_id": docx,
        "mime_type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
    assert_error(
        await create(client, auth, name="stolen", **header("IMAGE", bobs)), 404, "media_not_found"
    )
    # The sample of a template not yet submitted is in use: it cannot be deleted.
    assert_error(
        await client.delete(f"/api/v2/whatsapp/media/{png}", headers=auth), 409, "media_in_use"
    )


async def test_a_text_header_takes_one_variable_with_its_example(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    answer = await create(
        client, auth, header={"format": "TEXT", "text": "Order {{1}}", "example": "A-1041"}
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["data"]["header"]["example"] == "A-1041"
    body = assert_error(
        await create(
            client,
            auth,
            name="two",
            header={"format": "TEXT", "text": "{{1}} {{2}}", "example": "x"},
        ),
        400,
        "validation_failed",
    )
    assert body["data"]["errors"][0]["rule"] == "header_variable"  # type: ignore[index]


@pytest.mark.parametrize(
    ("options", "body", "footer"),
    [
        (
            {"otp_type": "COPY_CODE"},
            "{{1}} is your verification code.",
            None,
        ),
        (
            {
                "otp_type": "ONE_TAP",
                "package_name": "com.example.luckyshrub",
                "signature_hash": "K8a/AINcGX7",
                "add_security_recommendation": True,
                "code_expiration_minutes": 10,
            },
            "{{1}} is your verification code. For your security, do not share this code.",
            "This code expires in 10 minutes.",
        ),
    ],
)
async def test_authentication_templates_take_metas_options_and_show_its_text(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    options: dict[str, Any],
    body: str,
    footer: str | None,
) -> None:
    answer = await client.post(
        "/api/v2/whatsapp/templates",
        json={"name": "login_code", "language": "en_US", "category": "AUTHENTICATION", **options},
        headers=auth,
    )
    assert answer.status_code == 201, answer.text
    data = answer.json()["data"]
    assert (data["body"], data["footer"], data["buttons"]) == (body, footer, [])
    assert data["placeholder_count"] == 0
    expected = {
        "otp_type": options["otp_type"],
        "add_security_recommendation": options.get("add_security_recommendation", False),
        "code_expiration_minutes": options.get("code_expiration_minutes"),
        "package_name": options.get("package_name"),
        "signature_hash": options.get("signature_hash"),
    }
    assert data["authentication"] == expected


@pytest.mark.parametrize(
    ("options", "field", "rule"),
    [
        ({"otp_type": "ONE_TAP"}, "package_name", "one_tap_app"),
        (
            {"otp_type": "ONE_TAP", "package_name": "app", "signature_hash": "K8a/AINcGX7"},
            "package_name",
            "one_tap_app",
        ),
        ({"signature_hash": "K8a/AINcGX7"}, "signature_hash", "one_tap_app"),
        ({"footer": "Expires soon"}, "footer", "authentication_footer"),
    ],
)
async def test_authentication_options_are_checked(
    client: httpx.AsyncClient, auth: dict[str, str], options: dict[str, Any], field: str, rule: str
) -> None:
    answer = await client.post(
        "/api/v2/whatsapp/templates",
        json={"name": "login_code", "language": "en", "category": "AUTHENTICATION", **options},
        headers=auth,
    )
    body = assert_error(answer, 400, "validation_failed")
    assert body["data"]["errors"][0] == {  # type: ignore[index]
        "field": field,
        "rule": rule,
        "message": body["data"]["errors"][0]["message"],  # type: ignore[index]
    }
