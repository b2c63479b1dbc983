"""/healthz and /readyz (spec/api.md §10)."""

from __future__ import annotations

from pathlib import Path

import httpx

from herald import migrate
from herald.app import create_app
from herald.config import Settings
from tests.conftest import TEST_JWT_SECRET, assert_error


async def test_healthz(client: httpx.AsyncClient) -> None:
    answer = await client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["status"] == "success"


async def test_readyz_names_the_schema(client: httpx.AsyncClient) -> None:
    answer = await client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json()["data"] == {"database": "up", "schema": migrate.head_revision()}


async def _ready_answer(settings: Settings) -> httpx.Response:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://herald.test") as c:
            return await c.get("/readyz")


async def test_readyz_is_503_before_migrations(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        jwt_secret=TEST_JWT_SECRET,  # type: ignore[arg-type]
        emulator_url="http://127.0.0.1:9/x",
        background_tasks=False,
    )
    answer = await _ready_answer(settings)
    body = assert_error(answer, 503, "service_unavailable")
    assert "herald db upgrade" in str(body["message"])
    assert int(answer.headers["Retry-After"]) > 0


async def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        jwt_secret=TEST_JWT_SECRET,  # type: ignore[arg-type]
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",
        emulator_url="http://127.0.0.1:9/x",
        background_tasks=False,
    )
    answer = await _ready_answer(settings)
    assert_error(answer, 503, "service_unavailable")
    assert "Retry-After" in answer.headers
