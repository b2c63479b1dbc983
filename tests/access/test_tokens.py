"""Forged, altered and stale credentials are refused; revocations apply to the very next request.

Tokens are forged with PyJWT (and by hand where PyJWT refuses to), with the server's own secret
``TEST_JWT_SECRET`` unless the point is another key. ``kit/jwt.py`` allows 5 seconds of clock
skew on ``iat`` and none on ``exp``; the boundaries are asserted both ways.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from herald.kit.clock import FrozenClock
from herald.models import User
from tests.cli.helpers import herald
from tests.conftest import PASSWORD, TEST_JWT_SECRET, DatabaseUnderTest, assert_error, login

PROFILE = "/api/user/"
KEYS = "/api/v2/secret-keys"
SHOP = {"platform_type": "woocommerce", "base_uri": "https://shop.example.com", "name": "Shop"}
OTHER_SECRET = "another-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMN"
IAT_LEEWAY = 5  # seconds a token's iat may be ahead of the server's clock (kit/jwt.py)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(
    claims: dict[str, Any],
    header: dict[str, Any] | None = None,
    key: str | None = TEST_JWT_SECRET,
    digest: Callable[..., Any] = hashlib.sha256,
) -> str:
    """A JWT built by hand: any header, signed with HMAC(``digest``) or unsigned."""
    head = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{b64(json.dumps(head).encode())}.{b64(json.dumps(claims).encode())}"
    signature = b""
    if key is not None:
        signature = hmac.new(key.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(signature)}"


def claims_for(user: User, clock: FrozenClock, **change: Any) -> dict[str, Any]:
    now = int(clock.now().timestamp())
    claims: dict[str, Any] = {"sub": str(user.id), "iat": now, "exp": now + 3600, "jti": "a" * 32}
    claims.update(change)
    return {k: v for k, v in claims.items() if v is not None}


def without(claims: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if k != name}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_well_formed_forgery_with_the_servers_secret_is_accepted(
    client: httpx.AsyncClient, ana: User, clock: FrozenClock
) -> None:
    """The control for everything below: the forging helpers produce tokens the server takes,
    so each refusal is about the one thing that case changes."""
    for token in (
        forge(claims_for(ana, clock)),
        jwt.encode(claims_for(ana, clock), TEST_JWT_SECRET, algorithm="HS256"),
    ):
        answer = await client.get(PROFILE, headers=bearer(token))
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["id"] == ana.id


async def test_forged_and_altered_tokens_are_token_invalid(
    client: httpx.AsyncClient, ana: User, clock: FrozenClock
) -> None:
    claims = claims_for(ana, clock)
    valid = jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS256")
    head, payload, signature = valid.split(".")
    flipped = ("A" if signature[10] != "A" else "B").join((signature[:10], signature[11:]))
    elevated = b64(json.dumps({**claims, "sub": str(ana.id + 1)}).encode())
    forged: dict[str, str] = {
        "alg none (PyJWT)": jwt.encode(claims, None, algorithm="none"),
        "alg None": forge(claims, {"alg": "None", "typ": "JWT"}, key=None),
        "alg NONE": forge(claims, {"alg": "NONE"}, key=None),
        "alg none with a valid HS256 signature": forge(claims, {"alg": "none"}),
        "no alg at all": forge(claims, {"typ": "JWT"}),
        "HS512": jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS512"),
        "HS384": jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS384"),
        "HS512 header, HS256 signature": forge(claims, {"alg": "HS512", "typ": "JWT"}),
        "RS256 header, HS256 signature": forge(claims, {"alg": "RS256", "typ": "JWT"}),
        "ES256 header, HS256 signature": forge(claims, {"alg": "ES256", "typ": "JWT"}),
        "a flipped signature character": f"{head}.{payload}.{flipped}",
        "the signature of another payload": f"{head}.{elevated}.{signature}",
        "no signature": f"{head}.{payload}.",
        "a truncated signature": f"{head}.{payload}.{signature[:-6]}",
        "signed with another secret": jwt.encode(claims, OTHER_SECRET, algorithm="HS256"),
        "signed with an empty secret": forge(claims, key=""),
        "two parts": f"{head}.{payload}",
        "four parts": f"{valid}.{signature}",
        "not base64": "%%%.%%%.%%%",
        "a JSON body that is a list": forge([claims]),  # type: ignore[arg-type]
        "garbage": "not-a-jwt",
    }
    for name, token in forged.items():
        answer = await client.get(PROFILE, headers=bearer(token))
        assert answer.status_code == 401, (name, answer.text)
        assert answer.json()["code"] == "token_invalid", (name, answer.text)


async def test_claims_missing_or_of_the_wrong_shape_are_token_invalid(
    client: httpx.AsyncClient, ana: User, clock: FrozenClock
) -> None:
    now = int(clock.now().timestamp())
    good = claims_for(ana, clock)
    cases: dict[str, dict[str, Any]] = {
        "no sub": without(good, "sub"),
        "no exp": without(good, "exp"),
        "no iat": without(good, "iat"),
        "no jti": without(good, "jti"),
        "empty claims": {},
        "sub not numeric": {**good, "sub": "ana@example.com"},
        "sub negative": {**good, "sub": "-1"},
        "sub with a decimal point": {**good, "sub": f"{ana.id}.0"},
        "sub with spaces": {**good, "sub": f" {ana.id} "},
        "sub empty": {**good, "sub": ""},
        "sub a number, not a string": {**good, "sub": ana.id},
        "sub a list": {**good, "sub": [str(ana.id)]},
        "sub of nobody": {**good, "sub": str(ana.id + 100_000)},
        "sub zero": {**good, "sub": "0"},
        "iat a string": {**good, "iat": str(now)},
        "iat a float": {**good, "iat": now + 0.5},
        "exp a string": {**good, "exp": str(now + 3600)},
        "exp a float": {**good, "exp": now + 3600.5},
        "iat beyond the leeway": {**good, "iat": now + IAT_LEEWAY + 1},
        "iat an hour ahead": {**good, "iat": now + 3600, "exp": now + 7200},
    }
    for name, claims in cases.items():
        token = jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS256")
        answer = await client.get(PROFILE, headers=bearer(token))
        assert answer.status_code == 401, (name, answer.text)
        assert answer.json()["code"] == "token_invalid", (name, answer.text)
    # The leeway itself: a clock up to 5 seconds behind the issuer's is tolerated.
    at_leeway = jwt.encode({**good, "iat": now + IAT_LEEWAY}, TEST_JWT_SECRET, algorithm="HS256")
    assert (await client.get(PROFILE, headers=bearer(at_leeway))).status_code == 200


async def test_a_token_at_or_past_its_exp_is_token_expired(
    client: httpx.AsyncClient, ana: User, clock: FrozenClock
) -> None:
    now = int(clock.now().timestamp())
    for exp in (now, now - 1, now - 86_400):
        token = jwt.encode(
            claims_for(ana, clock, iat=exp - 3600, exp=exp), TEST_JWT_SECRET, algorithm="HS256"
        )
        assert_error(await client.get(PROFILE, headers=bearer(token)), 401, "token_expired")
    last_second = jwt.encode(claims_for(ana, clock, exp=now + 1), TEST_JWT_SECRET)
    assert (await client.get(PROFILE, headers=bearer(last_second))).status_code == 200
    # An issued token: fine at 3599 s, expired at 3600 s by the server's clock.
    issued = bearer(await login(client, ana.email))
    clock.advance(timedelta(seconds=3599))
    assert (await client.get(PROFILE, headers=issued)).status_code == 200
    clock.advance(timedelta(seconds=1))
    assert_error(await client.get(PROFILE, headers=issued), 401, "token_expired")


async def test_an_expired_forgery_is_still_token_invalid(
    client: httpx.AsyncClient, ana: User, clock: FrozenClock
) -> None:
    """The signature is checked before the times: a forged token never learns it expired."""
    now = int(clock.now().timestamp())
    claims = claims_for(ana, clock, iat=now - 7200, exp=now - 3600)
    token = jwt.encode(claims, OTHER_SECRET, algorithm="HS256")
    assert_error(await client.get(PROFILE, headers=bearer(token)), 401, "token_invalid")


async def test_the_authorization_header_format(
    client: httpx.AsyncClient, ana: User, clock: FrozenClock
) -> None:
    """RFC 6750 and 7235: the scheme is case-insensitive and followed by one or more spaces;
    anything else around the token is refused."""
    token = jwt.encode(claims_for(ana, clock), TEST_JWT_SECRET, algorithm="HS256")
    accepted = {
        "Bearer": f"Bearer {token}",
        "lowercase scheme": f"bearer {token}",
        "uppercase scheme": f"BEARER {token}",
        "several spaces": f"Bearer    {token}",
        "trailing whitespace": f"Bearer {token}   ",
    }
    for name, value in accepted.items():
        answer = await client.get(PROFILE, headers={"Authorization": value})
        assert answer.status_code == 200, (name, answer.text)
    refused = {
        "scheme only": "Bearer",
        "scheme and spaces": "Bearer    ",
        "another scheme": f"Token {token}",
        "Basic": "Basic YW5hQGV4YW1wbGUuY29tOnMzY3JldC1wYXNz",
        "no scheme": token,
        "a tab instead of a space": f"Bearer\t{token}",
        "scheme glued to the token": f"Bearer{token}",
        "two tokens": f"Bearer {token} {token}",
        "a word after the token": f"Bearer {token} extra",
        "quoted token": f'Bearer "{token}"',
    }
    for name, value in refused.items():
        answer = await client.get(PROFILE, headers={"Authorization": value})
        assert answer.status_code == 401, (name, answer.text)
        assert answer.json()["code"] == "token_invalid", (name, answer.text)
    assert_error(await client.get(PROFILE), 401, "token_missing")


async def test_a_10_kb_token_is_refused(
    client: httpx.AsyncClient, ana: User, clock: FrozenClock
) -> None:
    valid = jwt.encode(claims_for(ana, clock), TEST_JWT_SECRET, algorithm="HS256")
    head, _, _ = valid.split(".")
    padded = claims_for(ana, clock, padding="x" * 10_000)
    big_payload = b64(json.dumps(padded).encode())
    tokens = {
        "10 KB of garbage": "x" * 10_240,
        "10 KB payload, no valid signature": f"{head}.{big_payload}.{'A' * 43}",
        "10 KB payload signed with another secret": jwt.encode(padded, OTHER_SECRET),
        "a valid token followed by 10 KB": valid + "A" * 10_240,
    }
    for name, token in tokens.items():
        assert len(token) >= 10_000
        answer = await client.get(PROFILE, headers=bearer(token))
        assert answer.status_code == 401, (name, answer.text)
        assert answer.json()["code"] == "token_invalid", (name, answer.text)


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


async def test_a_sub_of_non_ascii_digits_is_token_invalid(
    client: httpx.AsyncClient, ana: User, clock: FrozenClock
) -> None:
    for sub in ("²", str(ana.id).translate(ARABIC_INDIC)):
        token = jwt.encode(claims_for(ana, clock, sub=sub), TEST_JWT_SECRET, algorithm="HS256")
        answer = await client.get(PROFILE, headers=bearer(token))
        assert (answer.status_code, answer.json()["code"]) == (401, "token_invalid"), sub


async def test_a_sub_beyond_the_id_range_is_token_invalid(
    client: httpx.AsyncClient, ana: User, clock: FrozenClock
) -> None:
    for sub in (str(2**63), "9" * 30):
        token = jwt.encode(claims_for(ana, clock, sub=sub), TEST_JWT_SECRET, algorithm="HS256")
        answer = await client.get(PROFILE, headers=bearer(token))
        assert (answer.status_code, answer.json()["code"]) == (401, "token_invalid"), sub


# --- revocation: the very next request ----------------------------------------------------


async def set_user(db: DatabaseUnderTest, user: User, **values: Any) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(
            User.__table__.update().where(User.__table__.c.id == user.id).values(**values)
        )


def plugin(secret: str) -> dict[str, str]:
    return {
        "x-api-key": secret,
        "x-platform-type": "woocommerce",
        "x-base-uri": "https://shop.example.com",
    }


async def new_key(client: httpx.AsyncClient, auth: dict[str, str]) -> dict[str, Any]:
    answer = await client.post(KEYS, json=SHOP, headers=auth)
    assert answer.status_code == 201, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


async def test_api_access_revoked_in_the_database_is_403_on_the_next_request(
    client: httpx.AsyncClient, auth: dict[str, str], ana: User, db: DatabaseUnderTest
) -> None:
    key = plugin((await new_key(client, auth))["secret_key"])
    assert (await client.get(PROFILE, headers=auth)).status_code == 200
    assert (await client.get(PROFILE, headers=key)).status_code == 200
    await set_user(db, ana, has_api_access=False)
    for headers in (auth, key):
        for path in (PROFILE, "/api/contacts/", "/api/v2/whatsapp/templates"):
            assert_error(await client.get(path, headers=headers), 403, "api_access_disabled")
    await set_user(db, ana, has_api_access=True)
    assert (await client.get(PROFILE, headers=auth)).status_code == 200
    assert (await client.get(PROFILE, headers=key)).status_code == 200


@pytest.fixture
def cli_env(db: DatabaseUnderTest, tmp_path: Path) -> dict[str, str]:
    return {"HERALD_DATABASE_URL": db.url, "HERALD_DATA_DIR": str(tmp_path)}


async def test_herald_users_revoke_api_is_403_on_the_next_request(
    client: httpx.AsyncClient, auth: dict[str, str], cli_env: dict[str, str]
) -> None:
    assert (await client.get(PROFILE, headers=auth)).status_code == 200
    revoked = await asyncio.to_thread(herald, "users", "revoke-api", "ana@example.com", env=cli_env)
    assert revoked.returncode == 0, revoked.stderr
    assert_error(await client.get(PROFILE, headers=auth), 403, "api_access_disabled")
    # Logging in still works (docs: a user without API access can log in), calls do not.
    fresh = bearer(await login(client, "ana@example.com"))
    assert_error(await client.get(PROFILE, headers=fresh), 403, "api_access_disabled")
    granted = await asyncio.to_thread(herald, "users", "grant-api", "ana@example.com", env=cli_env)
    assert granted.returncode == 0, granted.stderr
    assert (await client.get(PROFILE, headers=auth)).status_code == 200


async def test_a_password_change_makes_the_old_token_401(
    client: httpx.AsyncClient, auth: dict[str, str], clock: FrozenClock
) -> None:
    clock.advance(timedelta(seconds=1))
    changed = await client.put(
        PROFILE, json={"password": "n3w-password-42", "current_password": PASSWORD}, headers=auth
    )
    assert changed.status_code == 200, changed.text
    assert_error(await client.get(PROFILE, headers=auth), 401, "token_invalid")
    new = bearer(await login(client, "ana@example.com", "n3w-password-42"))
    assert (await client.get(PROFILE, headers=new)).status_code == 200
    # A later change revokes that one too.
    clock.advance(timedelta(seconds=1))
    again = await client.put(
        PROFILE,
        json={"password": "n3w-password-43", "current_password": "n3w-password-42"},
        headers=new,
    )
    assert again.status_code == 200, again.text
    assert_error(await client.get(PROFILE, headers=new), 401, "token_invalid")


async def test_a_token_issued_in_the_same_second_as_the_password_change_is_401(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    changed = await client.put(
        PROFILE, json={"password": "n3w-password-42", "current_password": PASSWORD}, headers=auth
    )
    assert changed.status_code == 200, changed.text
    assert_error(await client.get(PROFILE, headers=auth), 401, "token_invalid")


async def test_herald_users_set_password_makes_the_old_token_401(
    client: httpx.AsyncClient, auth: dict[str, str], cli_env: dict[str, str], clock: FrozenClock
) -> None:
    # The command uses the system clock; the API's frozen clock stands a second behind it, so
    # the token was issued, by either clock, before the change.
    clock.advance(timedelta(seconds=-1))
    token = bearer(await login(client, "ana@example.com"))
    assert (await client.get(PROFILE, headers=token)).status_code == 200
    done = await asyncio.to_thread(
        herald,
        "users",
        "set-password",
        "ana@example.com",
        env=cli_env,
        stdin="n3w-password-44\nn3w-password-44\n",
    )
    assert done.returncode == 0, done.stderr
    clock.advance(timedelta(seconds=5))
    assert_error(await client.get(PROFILE, headers=token), 401, "token_invalid")
    assert (
        await client.get(
            PROFILE, headers=bearer(await login(client, "ana@example.com", "n3w-password-44"))
        )
    ).status_code == 200


async def test_a_revoked_secret_key_is_401_on_the_next_request(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    first, second = await new_key(client, auth), await new_key(client, auth)
    for key in (first, second):
        assert (await client.get(PROFILE, headers=plugin(key["secret_key"]))).status_code == 200
    revoked = await client.delete(f"{KEYS}/{first['id']}", headers=auth)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["data"]["revoked_at"] is not None
    for path in (PROFILE, "/api/contacts/", "/api/whatsapp/"):
        assert_error(
            await client.get(path, headers=plugin(first["secret_key"])), 401, "api_key_invalid"
        )
    # With a valid token beside it, the revoked key still decides: no fallback to the token.
    both = {**auth, **plugin(first["secret_key"])}
    assert_error(await client.get(PROFILE, headers=both), 401, "api_key_invalid")
    # Only that key: the other one and the login token still work.
    assert (await client.get(PROFILE, headers=plugin(second["secret_key"]))).status_code == 200
    assert (await client.get(PROFILE, headers=auth)).status_code == 200
    # Revoking again changes nothing, and the key stays listed as revoked.
    listed = (await client.get(KEYS, headers=auth)).json()["data"]["items"]
    assert {k["id"]: k["revoked_at"] is not None for k in listed} == {
        first["id"]: True,
        second["id"]: False,
    }


async def test_a_secret_key_with_a_wrong_part_is_401(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    secret = (await new_key(client, auth))["secret_key"]
    wrong = {
        "another secret": plugin(secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")),
        "another platform": {**plugin(secret), "x-platform-type": "shopify"},
        "another shop": {**plugin(secret), "x-base-uri": "https://evil.example.com"},
        "the key's hash as the key": plugin(hashlib.sha256(secret.encode()).hexdigest()),
        "the key's prefix": plugin(secret[:10]),
    }
    for name, headers in wrong.items():
        answer = await client.get(PROFILE, headers=headers)
        assert answer.status_code == 401, (name, answer.text)
        assert answer.json()["code"] == "api_key_invalid", (name, answer.text)


async def test_a_disabled_or_deleted_user_is_401_by_token_and_by_key(
    client: httpx.AsyncClient, auth: dict[str, str], ana: User, db: DatabaseUnderTest
) -> None:
    key = plugin((await new_key(client, auth))["secret_key"])
    await set_user(db, ana, is_disabled=True)
    assert_error(await client.get(PROFILE, headers=auth), 401, "token_invalid")
    assert_error(await client.get(PROFILE, headers=key), 401, "api_key_invalid")
    assert_error(
        await client.post(
            "/api/login_check", json={"username": "ana@example.com", "password": PASSWORD}
        ),
        401,
        "invalid_credentials",
    )
    await set_user(db, ana, is_disabled=False)
    assert (await client.get(PROFILE, headers=auth)).status_code == 200
    async with db.engine.begin() as connection:
        await connection.execute(User.__table__.delete().where(User.__table__.c.id == ana.id))
    assert_error(await client.get(PROFILE, headers=auth), 401, "token_invalid")
    assert_error(await client.get(PROFILE, headers=key), 401, "api_key_invalid")


async def test_herald_users_disable_is_401_on_the_next_request(
    client: httpx.AsyncClient, auth: dict[str, str], cli_env: dict[str, str]
) -> None:
    key = plugin((await new_key(client, auth))["secret_key"])
    done = await asyncio.to_thread(herald, "users", "disable", "ana@example.com", env=cli_env)
    assert done.returncode == 0, done.stderr
    assert_error(await client.get(PROFILE, headers=auth), 401, "token_invalid")
    assert_error(await client.get(PROFILE, headers=key), 401, "api_key_invalid")
