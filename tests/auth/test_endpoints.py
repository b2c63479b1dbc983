"""POST /api/login_check and the Bearer token, as spec/api.md §2."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import httpx
import jwt

from herald.kit.clock import FrozenClock
from herald.models import User
from tests.conftest import (
    PASSWORD,
    TEST_JWT_SECRET,
    DatabaseUnderTest,
    add_user,
    assert_error,
    login,
)


async def test_login_returns_a_bearer_token_in_data_and_at_top_level(
    client: httpx.AsyncClient, ana: User, clock: FrozenClock
) -> None:
    answer = await client.post(
        "/api/login_check", json={"username": "ana@example.com", "password": PASSWORD}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "success"
    assert body["message"] == "Authenticated"
    assert body["data"]["token_type"] == "Bearer"
    assert body["data"]["expires_in"] == 3600
    assert body["token"] == body["data"]["token"]
    claims = jwt.decode(
        body["token"], TEST_JWT_SECRET, algorithms=["HS256"], options={"verify_exp": False}
    )
    assert claims["sub"] == str(ana.id)
    assert claims["iat"] == int(clock.now().timestamp())
    assert claims["exp"] == claims["iat"] + 3600
    assert len(claims["jti"]) == 32


async def test_email_is_an_alias_of_username_and_case_does_not_matter(
    client: httpx.AsyncClient, ana: User
) -> None:
    answer = await client.post(
        "/api/login_check", json={"email": "Ana@Example.com", "password": PASSWORD}
    )
    assert answer.status_code == 200


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: httpx.AsyncClient, ana: User
) -> None:
    wrong = await client.post(
        "/api/login_check", json={"username": ana.email, "password": "nope-nope"}
    )
    unknown = await client.post(
        "/api/login_check", json={"username": "who@example.com", "password": "nope-nope"}
    )
    assert assert_error(wrong, 401, "invalid_credentials") == assert_error(
        unknown, 401, "invalid_credentials"
    )


async def test_a_disabled_user_cannot_log_in(
    client: httpx.AsyncClient, db: DatabaseUnderTest
) -> None:
    user = await add_user(db, "gone@example.com")
    async with db.engine.begin() as connection:
        await connection.execute(
            User.__table__.update().where(User.id == user.id).values(is_disabled=True)
        )
    answer = await client.post(
        "/api/login_check", json={"username": user.email, "password": PASSWORD}
    )
    assert_error(answer, 401, "invalid_credentials")


async def test_login_without_fields_is_a_validation_error(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/login_check", json={})
    body = assert_error(answer, 400, "validation_failed")
    fields = {e["field"] for e in body["data"]["errors"]}  # type: ignore[index]
    assert fields == {"username", "password"}


async def test_repeated_failures_for_one_username_are_throttled(
    client: httpx.AsyncClient, ana: User
) -> None:
    for _ in range(5):
        answer = await client.post(
            "/api/login_check", json={"username": ana.email, "password": "wrong-one"}
        )
        assert_error(answer, 401, "invalid_credentials")
    throttled = await client.post(
        "/api/login_check", json={"username": ana.email, "password": PASSWORD}
    )
    assert_error(throttled, 429, "rate_limited")
    assert int(throttled.headers["Retry-After"]) >= 1


async def test_repeated_failures_from_one_address_are_throttled(
    client: httpx.AsyncClient, ana: User
) -> None:
    for attempt in range(20):
        answer = await client.post(
            "/api/login_check",
            json={"username": f"nobody{attempt}@example.com", "password": "wrong-one"},
        )
        assert_error(answer, 401, "invalid_credentials")
    throttled = await client.post(
        "/api/login_check", json={"username": ana.email, "password": PASSWORD}
    )
    assert_error(throttled, 429, "rate_limited")


async def test_a_successful_login_resets_the_username_failures(
    client: httpx.AsyncClient, ana: User
) -> None:
    for _ in range(4):
        await client.post("/api/login_check", json={"username": ana.email, "password": "wrong-1"})
    await login(client, ana.email)
    for _ in range(4):
        await client.post("/api/login_check", json={"username": ana.email, "password": "wrong-1"})
    assert (
        await client.post("/api/login_check", json={"username": ana.email, "password": PASSWORD})
    ).status_code == 200


# --- the token on other routes ----------------------------------------------------------------


async def test_missing_authorization_is_token_missing(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/user/"), 401, "token_missing")


async def test_a_non_bearer_scheme_is_token_invalid(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/user/", headers={"Authorization": "Basic YW5hOnB3"})
    assert_error(answer, 401, "token_invalid")


async def test_garbage_and_tampered_tokens_are_token_invalid(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    assert_error(
        await client.get("/api/user/", headers={"Authorization": "Bearer not.a.jwt"}),
        401,
        "token_invalid",
    )
    token = auth["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    assert_error(
        await client.get("/api/user/", headers={"Authorization": f"Bearer {tampered}"}),
        401,
        "token_invalid",
    )


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_alg_none_and_other_algorithms_are_refused(
    client: httpx.AsyncClient, ana: User, clock: FrozenClock
) -> None:
    now = int(clock.now().timestamp())
    claims = {"sub": str(ana.id), "iat": now, "exp": now + 3600, "jti": "x" * 32}
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    hs512 = jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS512")
    other_secret = jwt.encode(claims, "another-secret-0123456789-abcdefghijklmnop", "HS256")
    for token in (unsigned, hs512, other_secret):
        answer = await client.get("/api/user/", headers={"Authorization": f"Bearer {token}"})
        assert_error(answer, 401, "token_invalid")


async def test_a_token_missing_a_claim_is_invalid(
    client: httpx.AsyncClient, ana: User, clock: FrozenClock
) -> None:
    now = int(clock.now().timestamp())
    token = jwt.encode({"sub": str(ana.id), "iat": now, "exp": now + 60}, TEST_JWT_SECRET)
    answer = await client.get("/api/user/", headers={"Authorization": f"Bearer {token}"})
    assert_error(answer, 401, "token_invalid")


async def test_a_token_from_the_future_is_invalid(
    client: httpx.AsyncClient, ana: User, clock: FrozenClock
) -> None:
    now = int(clock.now().timestamp()) + 600
    token = jwt.encode(
        {"sub": str(ana.id), "iat": now, "exp": now + 3600, "jti": "f" * 32}, TEST_JWT_SECRET
    )
    answer = await client.get("/api/user/", headers={"Authorization": f"Bearer {token}"})
    assert_error(answer, 401, "token_invalid")


async def test_a_token_past_its_exp_is_token_expired(
    client: httpx.AsyncClient, auth: dict[str, str], clock: FrozenClock
) -> None:
    clock.advance(timedelta(seconds=3599))
    assert (await client.get("/api/user/", headers=auth)).status_code == 200
    clock.advance(timedelta(seconds=1))
    assert_error(await client.get("/api/user/", headers=auth), 401, "token_expired")


async def test_api_access_is_checked_on_every_request(
    client: httpx.AsyncClient, auth: dict[str, str], ana: User, db: DatabaseUnderTest
) -> None:
    assert (await client.get("/api/user/", headers=auth)).status_code == 200
    async with db.engine.begin() as connection:
        await connection.execute(
            User.__table__.update().where(User.id == ana.id).values(has_api_access=False)
        )
    assert_error(await client.get("/api/user/", headers=auth), 403, "api_access_disabled")


async def test_a_user_without_api_access_can_log_in_but_not_call(
    client: httpx.AsyncClient, db: DatabaseUnderTest
) -> None:
    user = await add_user(db, "noapi@example.com", has_api_access=False)
    token = await login(client, user.email)
    answer = await client.get("/api/user/", headers={"Authorization": f"Bearer {token}"})
    assert_error(answer, 403, "api_access_disabled")


async def test_a_disabled_or_deleted_user_gets_token_invalid(
    client: httpx.AsyncClient, auth: dict[str, str], ana: User, db: DatabaseUnderTest
) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(
            User.__table__.update().where(User.id == ana.id).values(is_disabled=True)
        )
    assert_error(await client.get("/api/user/", headers=auth), 401, "token_invalid")
    async with db.engine.begin() as connection:
        await connection.execute(User.__table__.delete().where(User.id == ana.id))
    assert_error(await client.get("/api/user/", headers=auth), 401, "token_invalid")
