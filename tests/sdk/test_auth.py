"""Logging in: lazily, again before the token expires (a margin scaled to its lifetime), again
on ``token_expired``; starting from a token; plugin keys."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from herald_client import AsyncHeraldClient, HeraldClient, Unauthorized

from herald.app import create_app
from herald.kit.clock import FrozenClock
from herald.models import User
from tests.conftest import PASSWORD, DatabaseUnderTest, make_settings
from tests.sdk.conftest import FakeTime, asgi_transport, async_client
from tests.sdk.transports import AsyncWrapping, Scripted, herald_error

LOGIN = "/api/login_check"
PROFILE = "/api/user/"


def bearer(recorder: AsyncWrapping, index: int) -> str:
    return recorder.requests[index].headers["Authorization"]


async def test_calls_that_start_together_share_one_login(
    sdk: AsyncHeraldClient, recorder: AsyncWrapping, fake_time: FakeTime, ana: User
) -> None:
    """A login is a password hash on the server: 20 first calls at once (an integrator's
    burst on a new client) must not send 20 of them."""
    profiles = await asyncio.gather(*(sdk.get_profile() for _ in range(20)))
    assert {p["email"] for p in profiles} == {ana.email}
    assert recorder.paths().count(LOGIN) == 1
    assert recorder.paths()[0] == LOGIN
    assert len({r.headers["Authorization"] for r in recorder.requests[1:]}) == 1

    fake_time.now += 3550  # inside the renewal margin: again one login for the next burst
    await asyncio.gather(*(sdk.get_profile() for _ in range(20)))
    assert recorder.paths().count(LOGIN) == 2


async def test_logs_in_on_first_use_and_again_within_a_minute_of_expiry(
    sdk: AsyncHeraldClient, recorder: AsyncWrapping, fake_time: FakeTime, ana: User
) -> None:
    assert recorder.requests == []  # constructing the client sends nothing

    profile = await sdk.get_profile()
    assert profile["email"] == ana.email
    assert profile["has_api_access"] is True
    assert recorder.paths() == [LOGIN, PROFILE]
    assert json.loads(recorder.requests[0].content) == {
        "username": ana.email,
        "password": PASSWORD,
    }
    assert "Authorization" not in recorder.requests[0].headers
    first_token = bearer(recorder, 1)
    assert first_token.startswith("Bearer ey")

    await sdk.get_profile()
    assert recorder.paths() == [LOGIN, PROFILE, PROFILE]  # the token is kept
    assert bearer(recorder, 2) == first_token

    fake_time.now += 3550  # 50 s left of the 3600 s Herald granted: inside the 60 s margin
    await sdk.get_profile()
    assert recorder.paths() == [LOGIN, PROFILE, PROFILE, LOGIN, PROFILE]
    second_token = bearer(recorder, 4)
    assert second_token != first_token

    fake_time.now += 3539  # 61 s left of the new token: still outside the margin
    await sdk.get_profile()
    assert recorder.paths()[5:] == [PROFILE]
    assert bearer(recorder, 5) == second_token
    assert recorder.statuses == [200] * 6


async def test_a_token_expired_answer_logs_in_once_more_and_repeats_the_request(
    sdk: AsyncHeraldClient, recorder: AsyncWrapping, clock: FrozenClock
) -> None:
    await sdk.get_profile()
    clock.advance(timedelta(seconds=3601))  # Herald's clock: the token is now past its exp

    profile = await sdk.get_profile()  # the SDK's clock did not move: it still trusts it

    assert profile["id"] > 0
    assert recorder.paths() == [LOGIN, PROFILE, PROFILE, LOGIN, PROFILE]
    assert recorder.statuses == [200, 200, 401, 200, 200]
    assert bearer(recorder, 4) != bearer(recorder, 2)


async def test_a_second_token_expired_in_a_row_is_raised(
    herald: FastAPI, fake_time: FakeTime, ana: User
) -> None:
    expired = tuple(
        Scripted(herald_error(401, "token_expired", "The token has expired; log in again."))
        for _ in range(2)
    )
    recorder = asgi_transport(herald, PROFILE, expired)
    async with async_client(recorder, fake_time, ana) as sdk:
        with pytest.raises(Unauthorized) as caught:
            await sdk.get_profile()
    assert caught.value.code == "token_expired"
    assert recorder.paths() == [LOGIN, PROFILE, LOGIN, PROFILE]  # one re-login, no loop


async def test_wrong_credentials_are_a_typed_401_and_not_retried(
    herald: FastAPI, fake_time: FakeTime, ana: User
) -> None:
    recorder = asgi_transport(herald)
    async with AsyncHeraldClient(
        "http://herald.test",
        email=ana.email,
        password="not-the-password",
        transport=recorder,
        sleep=fake_time.async_sleep,
        clock=fake_time.clock,
    ) as sdk:
        with pytest.raises(Unauthorized) as caught:
            await sdk.get_profile()
    error = caught.value
    assert (error.status, error.code) == (401, "invalid_credentials")
    assert error.message == "Invalid credentials."
    assert error.data == {}
    assert recorder.paths() == [LOGIN]
    assert fake_time.sleeps == []


async def test_after_a_password_change_it_logs_in_with_the_new_password(
    sdk: AsyncHeraldClient, recorder: AsyncWrapping, ana: User
) -> None:
    updated = await sdk.update_profile(
        firstname="Ana", password="brand-new-pass", current_password=PASSWORD
    )
    assert updated["firstname"] == "Ana"
    assert json.loads(recorder.requests[1].content) == {
        "firstname": "Ana",
        "password": "brand-new-pass",
        "current_password": PASSWORD,
    }

    assert (await sdk.get_profile())["firstname"] == "Ana"
    assert recorder.paths() == [LOGIN, PROFILE, LOGIN, PROFILE]
    assert json.loads(recorder.requests[2].content)["password"] == "brand-new-pass"
    assert recorder.statuses == [200, 200, 200, 200]


async def test_plugin_mode_sends_the_three_key_headers_and_never_logs_in(
    herald: FastAPI, fake_time: FakeTime, ana: User
) -> None:
    recorder = asgi_transport(herald)
    plugin = async_client(
        recorder,
        fake_time,
        api_key="hk_not-a-key-herald-knows",
        platform_type="woocommerce",
        base_uri="https://shop.example.com",
    )
    async with plugin:
        with pytest.raises(Unauthorized):  # an unknown key; no token to renew either way
            await plugin.list_contacts()

    assert recorder.paths() == ["/api/contacts/"]
    sent = recorder.requests[0].headers
    assert sent["x-api-key"] == "hk_not-a-key-herald-knows"
    assert sent["x-platform-type"] == "woocommerce"
    assert sent["x-base-uri"] == "https://shop.example.com"
    assert "Authorization" not in sent


async def test_a_secret_key_created_with_the_sdk_authenticates_a_plugin_client(
    sdk: AsyncHeraldClient, herald: FastAPI, fake_time: FakeTime, ana: User
) -> None:
    created = await sdk.create_secret_key("shopify", "https://Shop.Example.com/", "Main shop")
    assert created["secret_key"].startswith(created["key_prefix"])
    assert created["base_uri"] == "https://shop.example.com"
    listed = await sdk.list_secret_keys()
    assert [key["id"] for key in listed["items"]] == [created["id"]]
    assert "secret_key" not in listed["items"][0]

    plugin = async_client(
        asgi_transport(herald),
        fake_time,
        api_key=created["secret_key"],
        platform_type="shopify",
        base_uri="https://shop.example.com",
    )
    async with plugin:
        assert (await plugin.get_profile())["email"] == ana.email
        revoked = await sdk.revoke_secret_key(created["id"])
        assert revoked["revoked_at"] is not None
        with pytest.raises(Unauthorized) as caught:
            await plugin.get_profile()
    assert caught.value.code == "api_key_invalid"


@pytest.mark.parametrize(
    "credentials",
    [
        {},
        {"email": "ana@example.com"},
        {"api_key": "hk_x", "platform_type": "custom"},
        {"password": "x", "token": "ey.a.b"},
        {
            "token": "ey.a.b",
            "api_key": "hk_x",
            "platform_type": "custom",
            "base_uri": "https://shop.example.com",
        },
        {
            "email": "ana@example.com",
            "password": "x",
            "api_key": "hk_x",
            "platform_type": "custom",
            "base_uri": "https://shop.example.com",
        },
    ],
)
def test_exactly_one_way_to_authenticate(credentials: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="either email and password"):
        HeraldClient("http://herald.test", **credentials)


async def test_at_the_shortest_token_lifetime_it_logs_in_about_once_a_minute(
    db: DatabaseUnderTest, tmp_path: Path, clock: FrozenClock, fake_time: FakeTime, ana: User
) -> None:
    """Herald's tokens live 60 s at the least (HERALD_TOKEN_TTL_SECONDS): a read every 2 s for
    3 minutes logs in every 54 s (a tenth of the lifetime kept as margin), and no request ever
    leaves with an expired token."""
    app = create_app(make_settings(db, tmp_path, token_ttl_seconds=60), clock=clock)
    async with app.router.lifespan_context(app):
        recorder = asgi_transport(app)
        async with async_client(recorder, fake_time, ana) as sdk:
            for _ in range(90):
                await sdk.get_profile()
                fake_time.now += 2  # the SDK's clock and Herald's move together
                clock.advance(timedelta(seconds=2))

    logins = [i for i, path in enumerate(recorder.paths()) if path == LOGIN]
    assert len(logins) == 4  # at 0, 54, 108 and 162 s
    assert recorder.paths().count(PROFILE) == 90
    assert set(recorder.statuses) == {200}  # never a token_expired


async def test_a_token_from_earlier_is_used_without_logging_in(
    sdk: AsyncHeraldClient, herald: FastAPI, fake_time: FakeTime, clock: FrozenClock, ana: User
) -> None:
    assert sdk.token is None
    await sdk.get_profile()
    token = sdk.token
    assert token is not None

    recorder = asgi_transport(herald)
    async with async_client(recorder, fake_time, token=token) as alone:
        assert (await alone.get_profile())["email"] == ana.email
        assert recorder.paths() == [PROFILE]
        assert bearer(recorder, 0) == f"Bearer {token}"
        clock.advance(timedelta(seconds=3601))
        with pytest.raises(Unauthorized) as caught:  # nothing to log in again with
            await alone.get_profile()
    assert caught.value.code == "token_expired"
    assert recorder.paths() == [PROFILE, PROFILE]


async def test_a_token_with_the_password_logs_in_when_the_token_expires(
    sdk: AsyncHeraldClient, herald: FastAPI, fake_time: FakeTime, clock: FrozenClock, ana: User
) -> None:
    await sdk.get_profile()
    token = sdk.token
    recorder = asgi_transport(herald)
    async with async_client(recorder, fake_time, ana, token=token) as client:
        await client.get_profile()
        assert recorder.paths() == [PROFILE]  # the given token first
        clock.advance(timedelta(seconds=3601))
        await client.get_profile()
        assert client.token != token
    assert recorder.paths() == [PROFILE, PROFILE, LOGIN, PROFILE]
    assert recorder.statuses == [200, 401, 200, 200]
