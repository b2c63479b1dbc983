"""Secret keys for shop plugins (spec/api.md §2), on both databases."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from herald.config import Settings
from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.kit.crypto import sha256_hex
from herald.models import SecretKey, User
from tests.conftest import DatabaseUnderTest, assert_error
from tests.message.helpers import approved_template

KEYS = "/api/v2/secret-keys"
SHOP = {"platform_type": "woocommerce", "base_uri": "https://Shop.Example.com/", "name": "Shop"}


async def create_key(
    client: httpx.AsyncClient, auth: dict[str, str], **fields: Any
) -> dict[str, Any]:
    answer = await client.post(KEYS, json={**SHOP, **fields}, headers=auth)
    assert answer.status_code == 201, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def plugin_headers(secret: str, **override: str) -> dict[str, str]:
    headers = {
        "x-api-key": secret,
        "x-platform-type": "woocommerce",
        "x-base-uri": "https://shop.example.com",
    }
    return {**headers, **override}


async def test_the_secret_is_shown_once_and_stored_hashed(
    client: httpx.AsyncClient, auth: dict[str, str], db: DatabaseUnderTest
) -> None:
    created = await create_key(client, auth)
    secret = created["secret_key"]
    assert secret.startswith("hk_")
    assert len(secret) > 40
    assert created["base_uri"] == "https://shop.example.com"  # normalised
    assert created["key_prefix"] == secret[:10]
    listed = (await client.get(KEYS, headers=auth)).json()["data"]["items"]
    assert len(listed) == 1
    assert "secret_key" not in listed[0]
    assert secret not in str(listed)
    async with session_factory(db.engine)() as session:
        row = (await session.execute(select(SecretKey))).scalar_one()
    assert row.key_hash == sha256_hex(secret)
    assert secret not in " ".join(str(v) for v in vars(row).values())


async def test_a_plugin_request_without_a_jwt_sends_a_template(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    ana: User,
    db: DatabaseUnderTest,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    secret = (await create_key(client, auth))["secret_key"]
    template = await approved_template(db, ana, settings, clock.now())
    headers = plugin_headers(secret, **{"x-base-uri": "HTTPS://shop.example.com:443/"})
    profile = await client.get("/api/user/", headers=headers)
    assert profile.status_code == 200, profile.text
    assert profile.json()["data"]["email"] == ana.email
    sent = await client.post(
        f"/api/v2/whatsapp/templates/{template.id}/send",
        json={"to": "21696816277", "country_code": "TN", "body_params": ["Sam", "ORD-1"]},
        headers=headers,
    )
    assert sent.status_code == 202, sent.text
    async with session_factory(db.engine)() as session:
        row = (await session.execute(select(SecretKey))).scalar_one()
    assert row.last_used_at is not None


@pytest.mark.parametrize(
    "override",
    [
        {"x-base-uri": "https://other-shop.example.com"},
        {"x-base-uri": "http://shop.example.com"},
        {"x-base-uri": "not a url"},
        {"x-platform-type": "shopify"},
        {"x-api-key": "hk_not-a-real-key"},
    ],
)
async def test_any_mismatch_is_401_api_key_invalid(
    client: httpx.AsyncClient, auth: dict[str, str], override: dict[str, str]
) -> None:
    secret = (await create_key(client, auth))["secret_key"]
    answer = await client.get("/api/user/", headers=plugin_headers(secret, **override))
    assert_error(answer, 401, "api_key_invalid")


async def test_a_key_without_the_other_two_headers_is_400(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    secret = (await create_key(client, auth))["secret_key"]
    answer = await client.get("/api/user/", headers={"x-api-key": secret})
    body = assert_error(answer, 400, "api_key_headers_incomplete")
    assert body["data"] == {"missing": ["x-platform-type", "x-base-uri"]}


async def test_revoking_takes_effect_on_the_next_request(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    created = await create_key(client, auth)
    headers = plugin_headers(created["secret_key"])
    assert (await client.get("/api/user/", headers=headers)).status_code == 200
    revoked = await client.delete(f"{KEYS}/{created['id']}", headers=auth)
    assert revoked.status_code == 200
    assert revoked.json()["data"]["revoked_at"] is not None
    assert_error(await client.get("/api/user/", headers=headers), 401, "api_key_invalid")


async def test_api_access_applies_to_keys_too(
    client: httpx.AsyncClient, auth: dict[str, str], ana: User, db: DatabaseUnderTest
) -> None:
    secret = (await create_key(client, auth))["secret_key"]
    async with session_factory(db.engine)() as session:
        await session.execute(update(User).values(has_api_access=False))
        await session.commit()
    answer = await client.get("/api/user/", headers=plugin_headers(secret))
    assert_error(answer, 403, "api_access_disabled")


async def test_a_key_cannot_manage_keys(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    created = await create_key(client, auth)
    headers = plugin_headers(created["secret_key"])
    assert_error(await client.post(KEYS, json=SHOP, headers=headers), 403, "secret_key_not_allowed")
    assert_error(await client.get(KEYS, headers=headers), 403, "secret_key_not_allowed")
    answer = await client.delete(f"{KEYS}/{created['id']}", headers=headers)
    assert_error(answer, 403, "secret_key_not_allowed")


async def test_another_users_key_is_404(
    client: httpx.AsyncClient, auth: dict[str, str], bob_auth: dict[str, str]
) -> None:
    bobs = await create_key(client, bob_auth)
    answer = await client.delete(f"{KEYS}/{bobs['id']}", headers=auth)
    assert_error(answer, 404, "secret_key_not_found")
    assert (await client.get(KEYS, headers=auth)).json()["data"]["items"] == []
    still = await client.get("/api/user/", headers=plugin_headers(bobs["secret_key"]))
    assert still.status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"platform_type": "wix"}, "platform_type"),
        ({"base_uri": "ftp://shop.example.com"}, "base_uri"),
        ({"base_uri": "shop.example.com"}, "base_uri"),
        ({"name": ""}, "name"),
        ({"scope": "all"}, "scope"),
    ],
)
async def test_invalid_keys_are_400(
    client: httpx.AsyncClient, auth: dict[str, str], change: dict[str, str], field: str
) -> None:
    answer = await client.post(KEYS, json={**SHOP, **change}, headers=auth)
    body = assert_error(answer, 400, "validation_failed")
    assert body["data"]["errors"][0]["field"] == field  # type: ignore[index]
