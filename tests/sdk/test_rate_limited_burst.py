"""Issue 6's check as an integrator meets it: a burst over a low limit gets 429s with
Retry-After from the real server, and the SDK, given the same burst, completes every call by
waiting as told."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from herald_client import AsyncHeraldClient

from herald.app import create_app
from tests.conftest import PASSWORD, DatabaseUnderTest, add_user, make_settings
from tests.live import serve_app

BURST = 200


@pytest.fixture
async def low_limit_herald(db: DatabaseUnderTest, tmp_path: Path) -> AsyncIterator[str]:
    await add_user(db, "ana@example.com")
    settings = make_settings(db, tmp_path, rate_limit_per_second=50, rate_limit_burst=50)
    async with serve_app(create_app(settings)) as url:
        yield url


async def test_a_burst_is_refused_raw_and_completed_by_the_sdk(low_limit_herald: str) -> None:
    async with httpx.AsyncClient(base_url=low_limit_herald) as raw:
        login = await raw.post(
            "/api/login_check", json={"username": "ana@example.com", "password": PASSWORD}
        )
        auth = {"Authorization": f"Bearer {login.json()['data']['token']}"}
        answers = await asyncio.gather(*(raw.get("/api/user/", headers=auth) for _ in range(BURST)))
    refused = [a for a in answers if a.status_code == 429]
    assert refused, "200 quick requests over a limit of 50 must meet 429s"
    assert all(int(a.headers["retry-after"]) >= 1 for a in refused)
    assert {a.json()["code"] for a in refused} == {"rate_limited"}

    await asyncio.sleep(1.5)  # let the window empty, then the same burst through the SDK
    async with AsyncHeraldClient(
        low_limit_herald, email="ana@example.com", password=PASSWORD, max_retries=20
    ) as sdk:
        profiles = await asyncio.gather(*(sdk.get_profile() for _ in range(BURST)))
    assert len(profiles) == BURST
    assert {p["email"] for p in profiles} == {"ana@example.com"}
