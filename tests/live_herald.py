"""Herald and the Cloud API emulator, each on a real loopback port, talking real HTTP."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from herald.app import create_app
from herald.config import Settings
from herald.emulator.app import create_emulator_app
from herald.emulator.config import EmulatorConfig
from herald.emulator.records import bucket_refusals
from herald.kit.tls import client_tls
from herald.models import Attempt, Channel, Message, User
from tests.conftest import (
    EMULATOR_ACCESS_TOKEN,
    EMULATOR_APP_SECRET,
    EMULATOR_VERIFY_TOKEN,
    TEST_JWT_SECRET,
    DatabaseUnderTest,
    add_user,
)
from tests.live import listening, serve_app
from tests.provider.contract import Recorder, provider_violations


@dataclass
class Live:
    herald: httpx.AsyncClient  # base_url is Herald's
    emulator: httpx.AsyncClient  # base_url is the emulator's
    settings: Settings

    async def auth_for(self, user: User, password: str = "s3cret-pass") -> dict[str, str]:
        answer = await self.herald.post(
            "/api/login_check", json={"username": user.email, "password": password}
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 30.0, message: str = ""
) -> None:
    """Poll ``check`` until it holds; fail after ``timeout`` seconds.

    A deadline here only bounds a failing test: it is sized for a machine whose cores other work
    is using (the suite runs on two, beside PostgreSQL, the emulator and xdist's other worker),
    never for how fast a passing run is."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout}s: {message}")
        await asyncio.sleep(0.05)


async def sends_by_number(engine: AsyncEngine) -> dict[str, list[float]]:
    """When each of Herald's provider calls left it (its attempt's start, in seconds), by
    sending number (its phone number id at Meta), in order."""
    by_number: dict[str, list[float]] = defaultdict(list)
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(Channel.phone_number_id, Attempt.started_at)
            .join(Message, Message.id == Attempt.message_id)
            .join(Channel, Channel.id == Message.channel_id)
            .order_by(Attempt.started_at)
        )
        for number, at in rows.all():
            by_number[number].append(at.timestamp())
    return by_number


async def refusals_as_sent(engine: AsyncEngine, rate: float) -> int:
    """How many of Herald's sends the emulator's throughput check (its default tolerance) would
    refuse, judged by when each left Herald, number by number. Arrivals are not the measure: on
    a loaded machine the network and the emulator's event loop bunch sends that left evenly
    spaced, and a 130429 for those is retried like any other (bench/channels.py reports both)."""
    by_number = await sends_by_number(engine)
    assert by_number, "no provider call was recorded"
    return sum(bucket_refusals(times, rate) for times in by_number.values())


CLIENT_TIMEOUT = 30.0


def client_options(base_url: str, timeout: float = CLIENT_TIMEOUT) -> dict[str, Any]:
    """A test's HTTP client of a live server: the process's one TLS context (a context of its
    own costs 27 ms of CPU, and every live test makes two clients)."""
    return {"base_url": base_url, "timeout": timeout, "verify": client_tls()}


def herald_settings(
    database_url: str, data_dir: Path, port: int, emulator_url: str, **overrides: Any
) -> Settings:
    """Settings for a Herald on ``port`` whose users' channels point at the emulator."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "jwt_secret": TEST_JWT_SECRET,
        "port": port,
        "emulator_url": emulator_url,
        "emulator_access_token": EMULATOR_ACCESS_TOKEN,
        "emulator_app_secret": EMULATOR_APP_SECRET,
        "emulator_verify_token": EMULATOR_VERIFY_TOKEN,
    }
    return Settings(**{**values, **overrides})


@pytest.fixture
def live_overrides() -> dict[str, Any]:
    """Extra settings for the live server; a test package overrides this (media stores)."""
    return {}


@pytest.fixture
async def live(
    db: DatabaseUnderTest, tmp_path: Path, live_overrides: dict[str, Any]
) -> AsyncIterator[Live]:
    herald_socket = listening()  # held: the emulator's webhook URL names its port
    herald_port = int(herald_socket.getsockname()[1])
    emulator_app = create_emulator_app(
        EmulatorConfig(
            access_token=EMULATOR_ACCESS_TOKEN,
            app_secret=EMULATOR_APP_SECRET,
            webhook_url=f"http://127.0.0.1:{herald_port}/webhooks/whatsapp",
            approve_after_seconds=0.3,
        )
    )
    # Every Graph API request Herald makes in a live test is held against Meta's spec.
    recorder = Recorder(emulator_app)
    try:
        async with serve_app(recorder) as emulator_url:
            settings = herald_settings(
                db.url,
                tmp_path,
                herald_port,
                emulator_url,
                **{
                    "webhook_poll_seconds": 0.2,
                    # Production's default: a request that is only slow because the machine is
                    # busy must not turn into a 503 (a template submit did, at 1 s). A test
                    # whose point is the timeout sets its own (live_overrides).
                    "provider_timeout_seconds": 10.0,
                    "pair_spacing_seconds": 1.0,
                    "template_sync_interval_seconds": 3600,
                    **live_overrides,
                },
            )
            async with (
                serve_app(create_app(settings), sock=herald_socket) as herald_url,
                # Sized for a loaded machine: a login's argon2 or a submit's provider call
                # can outlast httpx's 5-second default while other suites use the cores.
                httpx.AsyncClient(**client_options(herald_url)) as herald,
                httpx.AsyncClient(**client_options(emulator_url)) as emulator,
            ):
                yield Live(herald=herald, emulator=emulator, settings=settings)
    finally:
        herald_socket.close()  # already closed by its server, unless the emulator never started
        await emulator_app.state.emulator.aclose()
    assert provider_violations(recorder.requests) == []


@pytest.fixture
async def live_ana(live: Live, db: DatabaseUnderTest) -> dict[str, str]:
    """Headers authenticating ana against the live server."""
    return await live.auth_for(await add_user(db, "ana@example.com"))
