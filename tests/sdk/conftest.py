"""The SDK against a real Herald: in-process over ASGI (``herald``) or on real loopback ports
(``live``, from tests/live_herald.py). Time is fake so that retries and token expiry never wait."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from herald_client import AsyncHeraldClient, HeraldClient

from herald.config import Settings
from herald.kit.clock import FrozenClock
from herald.models import User
from tests.conftest import PASSWORD, DatabaseUnderTest, make_settings, started_app
from tests.sdk.transports import AsyncWrapping, Scripted, SyncWrapping

ASGI_URL = "http://herald.test"


@dataclass
class FakeTime:
    """The SDK's clock and sleep: sleeping is recorded and moves the clock, instantly."""

    now: float = 10_000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def settings(db: DatabaseUnderTest, data_dir: Path) -> Settings:
    return make_settings(db, data_dir, callbacks_allow_loopback=True)


@pytest.fixture
def live_overrides() -> dict[str, Any]:
    return {"callbacks_allow_loopback": True, "callback_poll_seconds": 0.1}


@pytest.fixture
async def herald(settings: Settings, clock: FrozenClock) -> AsyncIterator[FastAPI]:
    """Herald in-process, on the frozen ``clock`` (no emulator, no background loops)."""
    async with started_app(settings, clock) as app:
        yield app


def asgi_transport(
    app: FastAPI, path: str | None = None, script: tuple[Scripted, ...] = ()
) -> AsyncWrapping:
    return AsyncWrapping(
        httpx.ASGITransport(app=app, raise_app_exceptions=False), path=path, script=script
    )


def async_client(
    transport: httpx.AsyncBaseTransport,
    fake_time: FakeTime,
    user: User | None = None,
    base_url: str = ASGI_URL,
    **options: Any,
) -> AsyncHeraldClient:
    credentials: dict[str, Any] = (
        {"email": user.email, "password": PASSWORD} if user is not None else {}
    )
    defaults: dict[str, Any] = {"sleep": fake_time.async_sleep, "clock": fake_time.clock}
    return AsyncHeraldClient(
        base_url, transport=transport, **{**defaults, **credentials, **options}
    )


def sync_client(
    transport: SyncWrapping, fake_time: FakeTime, user: User, base_url: str, **options: Any
) -> HeraldClient:
    return HeraldClient(
        base_url,
        email=user.email,
        password=PASSWORD,
        transport=transport,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        **options,
    )


@pytest.fixture
def recorder(herald: FastAPI) -> AsyncWrapping:
    return asgi_transport(herald)


@pytest.fixture
async def sdk(
    recorder: AsyncWrapping, fake_time: FakeTime, ana: User
) -> AsyncIterator[AsyncHeraldClient]:
    """ana's async client on the in-process Herald; ``recorder`` sees every request."""
    async with async_client(recorder, fake_time, ana) as client:
        yield client
