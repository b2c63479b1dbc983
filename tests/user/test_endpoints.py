"""GET|PUT /api/user/ (spec/api.md §2, users and access)."""

from __future__ import annotations

from datetime import timedelta

import httpx

from herald.kit.clock import FrozenClock
from herald.models import User
from tests.conftest import PASSWORD, assert_error, login


async def test_the_profile(client: httpx.AsyncClient, auth: dict[str, str], ana: User) -> None:
    answer = await client.get("/api/user/", headers=auth)
    assert answer.status_code == 200
    data = answer.json()["data"]
    assert data == {
        "id": ana.id,
        "email": "ana@example.com",
        "firstname": None,
        "lastname": None,
        "has_api_access": True,
        "created_at": data["created_at"],
    }
    assert data["created_at"].endswith("Z")


async def test_names_change(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    answer = await client.put(
        "/api/user/", json={"firstname": "Ana", "lastname": "Lopez"}, headers=auth
    )
    assert answer.status_code == 200
    assert (answer.json()["data"]["firstname"], answer.json()["data"]["lastname"]) == (
        "Ana",
        "Lopez",
    )
    again = (await client.get("/api/user/", headers=auth)).json()["data"]
    assert again["lastname"] == "Lopez"
    cleared = await client.put("/api/user/", json={"lastname": None}, headers=auth)
    assert cleared.json()["data"]["lastname"] is None
    assert cleared.json()["data"]["firstname"] == "Ana"


async def test_has_api_access_is_not_editable(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = assert_error(
        await client.put("/api/user/", json={"has_api_access": False}, headers=auth),
        403,
        "field_not_editable",
    )
    assert body["data"] == {"field": "has_api_access"}
    assert (await client.get("/api/user/", headers=auth)).json()["data"]["has_api_access"]


async def test_unknown_fields_are_refused(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    body = assert_error(
        await client.put("/api/user/", json={"email": "x@example.com"}, headers=auth),
        400,
        "validation_failed",
    )
    assert body["data"]["errors"][0]["field"] == "email"  # type: ignore[index]


async def test_password_change_needs_the_current_one(
    client: httpx.AsyncClient, auth: dict[str, str], clock: FrozenClock
) -> None:
    missing = await client.put("/api/user/", json={"password": "n3w-password"}, headers=auth)
    assert assert_error(missing, 400, "validation_failed")["data"]["errors"][0]["field"] == (  # type: ignore[index]
        "current_password"
    )
    wrong = await client.put(
        "/api/user/", json={"password": "n3w-password", "current_password": "guess"}, headers=auth
    )
    assert_error(wrong, 400, "invalid_current_password")
    short = await client.put(
        "/api/user/", json={"password": "short", "current_password": PASSWORD}, headers=auth
    )
    assert_error(short, 400, "validation_failed")

    clock.advance(timedelta(seconds=5))
    changed = await client.put(
        "/api/user/", json={"password": "n3w-password", "current_password": PASSWORD}, headers=auth
    )
    assert changed.status_code == 200
    # Tokens issued before the change stop working; the new password logs in, the old doesn't.
    assert_error(await client.get("/api/user/", headers=auth), 401, "token_invalid")
    token = await login(client, "ana@example.com", "n3w-password")
    assert (
        await client.get("/api/user/", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200
    old = await client.post(
        "/api/login_check", json={"username": "ana@example.com", "password": PASSWORD}
    )
    assert_error(old, 401, "invalid_credentials")
