"""Per-user rate limits (spec/api.md §8): headers on every answer, 429 with Retry-After, and one
budget shared through Redis by several API processes."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from herald.app import create_app
from herald.kit.clock import FrozenClock
from herald.models import User
from tests.conftest import DatabaseUnderTest, add_user, assert_error, login, make_settings

REDIS_URL = "redis://127.0.0.1:6379/0"


@asynccontextmanager
async def herald_client(
    db: DatabaseUnderTest, data_dir: Path, clock: FrozenClock, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(db, data_dir, **overrides), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://herald.test") as c:
            yield c


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


async def test_every_answer_carries_the_budget_and_429_says_when_to_retry(
    db: DatabaseUnderTest, tmp_path: Path, clock: FrozenClock, ana: User
) -> None:
    async with herald_client(
        db, tmp_path, clock, rate_limit_per_second=1, rate_limit_burst=5
    ) as client:
        auth = {"Authorization": f"Bearer {await login(client, ana.email)}"}
        answers = [await client.get("/api/user/", headers=auth) for _ in range(5)]
        assert [a.status_code for a in answers] == [200] * 5
        assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["4", "3", "2", "1", "0"]
        assert {a.headers["x-ratelimit-limit"] for a in answers} == {"5"}

        refused = await client.get("/api/contacts/999/", headers=auth)
        body = assert_error(refused, 429, "rate_limited")
        retry_after = int(refused.headers["retry-after"])
        assert 1 <= retry_after <= 5
        assert body["data"] == {"retry_after": retry_after}
        assert refused.headers["x-ratelimit-remaining"] == "0"


async def test_errors_carry_the_headers_too(
    db: DatabaseUnderTest, tmp_path: Path, clock: FrozenClock, ana: User
) -> None:
    async with herald_client(db, tmp_path, clock) as client:
        auth = {"Authorization": f"Bearer {await login(client, ana.email)}"}
        missing = await client.get("/api/contacts/999/", headers=auth)
        assert missing.status_code == 404
        assert missing.headers["x-ratelimit-limit"] == "100"  # the default burst
        assert missing.headers["x-ratelimit-remaining"] == "99"


async def test_users_have_budgets_of_their_own(
    db: DatabaseUnderTest, tmp_path: Path, clock: FrozenClock, ana: User
) -> None:
    bob = await add_user(db, "bob@example.com")
    async with herald_client(
        db, tmp_path, clock, rate_limit_per_second=1, rate_limit_burst=2
    ) as client:
        ana_auth = {"Authorization": f"Bearer {await login(client, ana.email)}"}
        bob_auth = {"Authorization": f"Bearer {await login(client, bob.email)}"}
        for _ in range(2):
            await client.get("/api/user/", headers=ana_auth)
        assert (await client.get("/api/user/", headers=ana_auth)).status_code == 429
        assert (await client.get("/api/user/", headers=bob_auth)).status_code == 200


async def test_logins_are_limited_per_address(
    db: DatabaseUnderTest, tmp_path: Path, clock: FrozenClock
) -> None:
    async with herald_client(db, tmp_path, clock, login_requests_per_address="3/minute") as client:
        answers = [
            await client.post(
                "/api/login_check", json={"username": f"u{n}@example.com", "password": "x"}
            )
            for n in range(4)
        ]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert int(answers[-1].headers["retry-after"]) >= 1


async def test_api_processes_share_one_budget_through_redis(
    db: DatabaseUnderTest, tmp_path: Path, clock: FrozenClock, ana: User
) -> None:
    if not redis_available():
        pytest.fail("Redis at 127.0.0.1:6379 is needed for the shared rate-limit test")
    shared = {
        "redis_url": REDIS_URL,
        "redis_key_prefix": f"herald-test-{uuid.uuid4().hex}",  # apart from other test runs
        "rate_limit_per_second": 1,
        "rate_limit_burst": 6,
    }
    async with (
        herald_client(db, tmp_path / "one", clock, **shared) as one,
        herald_client(db, tmp_path / "two", clock, **shared) as two,
    ):
        auth = {"Authorization": f"Bearer {await login(one, ana.email)}"}
        statuses = []
        for n in range(8):
            process = one if n % 2 == 0 else two
            statuses.append((await process.get("/api/user/", headers=auth)).status_code)
    # 6 in the budget between both processes; in memory each would have allowed 6 on its own.
    assert statuses == [200] * 6 + [429, 429]
