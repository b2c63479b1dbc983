"""Template create, list, get and the validation answers, without a provider (spec/api.md §4)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import assert_error

ORDER = {
    "name": "order_confirmed",
    "language": "en",
    "category": "UTILITY",
    "body": "Hello {{1}}, your order {{2}} is confirmed.",
}


async def create(client: httpx.AsyncClient, auth: dict[str, str], **fields: Any) -> httpx.Response:
    return await client.post("/api/v2/whatsapp/templates", json={**ORDER, **fields}, headers=auth)


async def test_create_answers_201_in_draft_with_every_field(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    answer = await create(
        client,
        auth,
        header={"format": "DOCUMENT"},
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
    assert data["header"] == {"format": "DOCUMENT", "text": None}
    assert data["buttons"] == [
        {"type": "URL", "text": "Track", "url": "https://shop.example/t/{{1}}"},
        {"type": "QUICK_REPLY", "text": "Stop", "url": None},
    ]
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
        "placeholder_count",
        "created_at",
        "updated_at",
    }


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
            {"category": "AUTHENTICATION", "buttons": [{"type": "COPY_CODE"}]},
            "body",
            "authentication_body",
        ),
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
