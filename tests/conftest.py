"""Shared fixtures: every database-backed test runs on SQLite and on PostgreSQL.

PostgreSQL is ``HERALD_TEST_DATABASE_URL`` (default the local ``test`` database); each test
session works in a database of its own created there and dropped afterwards. When PostgreSQL is
unreachable its half of the suite is skipped, except under ``CI=true``, where that fails the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import shutil
import sqlite3
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pwdlib.hashers.argon2 import Argon2Hasher
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from herald import migrate
from herald.app import create_app
from herald.config import Settings
from herald.db import create_engine, normalise_database_url, session_factory
from herald.kit.clock import FrozenClock
from herald.kit.tasks import where_tasks_wait
from herald.models import Base, User

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TEST_JWT_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PASSWORD = "s3cret-pass"
EMULATOR_ACCESS_TOKEN = "emulator-access-token-for-tests"
EMULATOR_APP_SECRET = "emulator-app-secret-for-tests"
EMULATOR_VERIFY_TOKEN = "emulator-verify-token-for-tests"
# The fixture users' hash is argon2id at the lowest cost: a verification takes its cost from the
# hash itself, so each test's login takes microseconds instead of production's 150 ms of both
# cores (m=64 MiB, t=3, p=4). Passwords set through the API or the CLI get production's cost.
_PASSWORD_HASH = Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)


@dataclass
class DatabaseUnderTest:
    kind: str
    url: str
    engine: AsyncEngine

    async def clean(self) -> None:
        async with self.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(table.delete())


def postgres_url() -> str:
    return normalise_database_url(os.environ.get("HERALD_TEST_DATABASE_URL", DEFAULT_POSTGRES_URL))


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_postgres_database() -> str:
    """A fresh database beside the configured one; skip or fail when PostgreSQL is down."""
    base = postgres_url()
    try:
        admin = await asyncpg.connect(_asyncpg_dsn(base), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        message = f"PostgreSQL unreachable at {make_url(base).render_as_string()}: {exc}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + " (CI=true: PostgreSQL is required)", pytrace=False)
        pytest.skip(message)
    name = f"herald_test_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    admin = await asyncpg.connect(_asyncpg_dsn(postgres_url()), timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


class Databases:
    """This session's two databases, each made (and migrated) the first time it is asked for
    and kept to the end. A session-scoped fixture with parameters is torn down whenever the
    next test wants the other parameter, which a worker taking whole files does at every file:
    three seconds of CREATE DATABASE and migrations each time."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp = tmp_path_factory
        self._made: dict[str, DatabaseUnderTest] = {}
        self._data_dirs: dict[str, Path] = {}

    def data_dir(self, kind: str) -> Path:
        """The data folder of the tests on this database, emptied."""
        if kind not in self._data_dirs:
            self._data_dirs[kind] = self._tmp.mktemp(f"data-{kind}")
        folder = self._data_dirs[kind]
        for entry in folder.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        return folder

    async def get(self, kind: str) -> DatabaseUnderTest:
        if kind not in self._made:
            if kind == "sqlite":
                url = f"sqlite+aiosqlite:///{self._tmp.mktemp('sqlite') / 'herald.db'}"
            else:
                url = await create_postgres_database()
            engine = create_engine(url)
            await migrate.upgrade(engine)
            self._made[kind] = DatabaseUnderTest(kind=kind, url=url, engine=engine)
        return self._made[kind]

    async def close(self) -> None:
        for made in self._made.values():
            await made.engine.dispose()
            if made.kind == "postgresql":
                await drop_postgres_database(made.url)


@pytest.fixture(scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Databases]:
    made = Databases(tmp_path_factory)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, databases: Databases) -> DatabaseUnderTest:
    kind: str = request.param
    return await databases.get(kind)


@pytest.fixture
async def db(database: DatabaseUnderTest) -> AsyncIterator[DatabaseUnderTest]:
    """The database, emptied before the test; after it, no connection may be left in a
    transaction (a session used after it was closed checks out a connection that nothing
    returns: its locks made the next migration test wait for ever)."""
    await database.clean()
    yield database
    if database.kind == "postgresql":
        left = await _left_in_a_transaction(database)
        assert not left, f"connections left idle in a transaction (ended now): {left}"
    else:
        await _fail_unless_sqlite_write_lock_free(database)


def sqlite_write_lock_free(path: str | Path, timeout: float) -> bool:
    """Whether SQLite's write lock on ``path`` can be taken within ``timeout`` seconds (blocks:
    call it in a thread from a coroutine)."""
    connection = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        connection.close()


async def _fail_unless_sqlite_write_lock_free(database: DatabaseUnderTest) -> None:
    """Fail unless the SQLite file's write lock can be taken (waiting up to 10 s for a writer
    still finishing), saying what runs in this process and whether a garbage collection freed
    it; after such a collection the tests after this one can still run.

    Without this check a connection left in a write transaction failed the next tests' cleanup,
    30 s each, and named none of them (CI: five test_faults setups). It named the hanging
    receiver of ``test_delivery.py``, and a collection freed the lock: a SQLite connection
    closed by a cancellation had kept its transaction (``db._SQLiteConnection``, mended)."""
    path = make_url(database.url).database
    assert path
    if await asyncio.to_thread(sqlite_write_lock_free, path, 10):
        return
    running = where_tasks_wait()
    threads = [thread.name for thread in threading.enumerate()]
    gc.collect()
    freed = await asyncio.to_thread(sqlite_write_lock_free, path, 10)
    pytest.fail(
        f"SQLite's write lock was held after the test (freed by a garbage collection: {freed});"
        f" tasks {running}, threads {threads}"
    )


async def _left_in_a_transaction(database: DatabaseUnderTest) -> list[str]:
    """The queries of the connections to the database idle in a transaction, ended here so
    that the tests after this one do not wait on their locks."""
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT left(query, 300), pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state LIKE 'idle in transaction%'"
            )
        )
        return [str(query) for query, _ in rows.all()]


@pytest.fixture
async def session(db: DatabaseUnderTest) -> AsyncIterator[AsyncSession]:
    async with session_factory(db.engine)() as session:
        yield session


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


def make_settings(db: DatabaseUnderTest, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db.url,
        "data_dir": data_dir,
        "jwt_secret": TEST_JWT_SECRET,
        "login_failures_per_username": "5/minute",
        "login_failures_per_address": "20/minute",
        # Far above what a test's logins in a row reach on a fast machine (20 failed logins
        # took under a second at one hour and met the default 10/second); the limit itself is
        # tested with its own setting (tests/kit/test_ratelimit.py).
        "login_requests_per_address": "1000/second",
        # Plain API tests: no emulator mounted, no background loops; tests that need them use
        # the `live` fixture (tests/live_herald.py).
        "emulator_url": "http://127.0.0.1:9/no-emulator",
        "emulator_access_token": EMULATOR_ACCESS_TOKEN,
        "emulator_app_secret": EMULATOR_APP_SECRET,
        "emulator_verify_token": EMULATOR_VERIFY_TOKEN,
        "background_tasks": False,
    }
    return Settings(**{**values, **overrides})


@pytest.fixture
def data_dir(database: DatabaseUnderTest, databases: Databases) -> Path:
    """This database's data folder, emptied before the test: with one folder, the settings of
    two tests are equal, and the second test reuses the first one's app (``app_client``)."""
    return databases.data_dir(database.kind)


@pytest.fixture
def settings(db: DatabaseUnderTest, data_dir: Path) -> Settings:
    return make_settings(db, data_dir)


class _TheTestsClock:
    """The clock of a reused app: the clock of the test using the app now."""

    def __init__(self, clock: FrozenClock) -> None:
        self.current = clock

    def now(self) -> datetime:
        return self.current.now()


# Apps not in use, by their settings. FastAPI builds each route's validation the first time an
# app routes to it (tens of milliseconds a router, most of a plain API test's time), so a test
# takes an app whose routes an earlier test has built. Its lifespan, hence everything Herald
# keeps in memory (engine, limiter, caches), is still the test's own. Past 32 settings the
# least recently used go: a test with a folder of its own makes settings no other test has.
_IDLE_APPS: dict[str, list[tuple[FastAPI, _TheTestsClock]]] = {}
_IDLE_SETTINGS_KEPT = 32


def _app_key(settings: Settings) -> str:
    secrets = {
        name: value.get_secret_value() for name, value in settings if isinstance(value, SecretStr)
    }
    return json.dumps({**settings.model_dump(mode="json"), **secrets}, sort_keys=True)


@contextlib.asynccontextmanager
async def started_app(settings: Settings, clock: FrozenClock) -> AsyncIterator[FastAPI]:
    """An app started and stopped as a server would be, on ``clock``: one no other test or client
    is using, made for equal settings by an earlier test, or made now."""
    key = _app_key(settings)
    idle = _IDLE_APPS.setdefault(key, [])
    if idle:
        app, tests_clock = idle.pop()
        tests_clock.current = clock
    else:
        tests_clock = _TheTestsClock(clock)
        app = create_app(settings, clock=tests_clock)
    try:
        async with app.router.lifespan_context(app):
            yield app
    finally:
        idle.append((app, tests_clock))
        _IDLE_APPS[key] = _IDLE_APPS.pop(key, idle)  # the most recently used last
        while len(_IDLE_APPS) > _IDLE_SETTINGS_KEPT:
            del _IDLE_APPS[next(iter(_IDLE_APPS))]


@contextlib.asynccontextmanager
async def app_client(settings: Settings, clock: FrozenClock) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app of its own (``started_app``)."""
    async with started_app(settings, clock) as app:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://herald.test") as c:
            yield c


@pytest.fixture
async def client(settings: Settings, clock: FrozenClock) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings, clock) as c:
        yield c


async def add_user(
    db: DatabaseUnderTest,
    email: str,
    *,
    has_api_access: bool = True,
    now: datetime | None = None,
) -> User:
    moment = now or datetime.now(UTC)
    async with session_factory(db.engine)() as session:
        user = User(
            email=email,
            password_hash=_PASSWORD_HASH,
            has_api_access=has_api_access,
            is_disabled=False,
            created_at=moment,
            updated_at=moment,
        )
        session.add(user)
        await session.commit()
        return user


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    answer = await client.post("/api/login_check", json={"username": email, "password": password})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["data"]["token"]
    return token


@pytest.fixture
async def ana(db: DatabaseUnderTest, clock: FrozenClock) -> User:
    return await add_user(db, "ana@example.com", now=clock.now())


@pytest.fixture
async def auth(client: httpx.AsyncClient, ana: User) -> dict[str, str]:
    """Headers that authenticate as ana."""
    return {"Authorization": f"Bearer {await login(client, ana.email)}"}


@pytest.fixture
async def bob_auth(
    client: httpx.AsyncClient, db: DatabaseUnderTest, clock: FrozenClock
) -> dict[str, str]:
    bob = await add_user(db, "bob@example.com", now=clock.now())
    return {"Authorization": f"Bearer {await login(client, bob.email)}"}


async def count_rows(db: DatabaseUnderTest, table: str) -> int:
    async with db.engine.connect() as connection:
        return int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())  # noqa: S608


def assert_error(answer: httpx.Response, status: int, code: str) -> dict[str, object]:
    """The answer is a JSend error with this status and code; returns the body."""
    assert answer.status_code == status, answer.text
    body: dict[str, object] = answer.json()
    assert body["status"] == "error", body
    assert body["code"] == code, body
    assert isinstance(body["message"], str)
    assert body["message"]
    assert "data" in body
    return body


# Herald and the emulator on real ports (`live`, `live_ana`), for the tests that need them.
pytest_plugins = ["tests.live_herald"]


# The files that take longest (minutes each: schemathesis, processes killed and restarted,
# Chromium, many `herald` subprocesses), first. xdist hands whole files out in collection order
# (`make test` turns off its own reordering, which puts the files with most tests first): a
# long file taken last keeps one worker busy alone while the other has finished.
SLOW_FIRST = (
    "tests/test_openapi_schemathesis.py",
    "tests/reliability/test_crashes.py",
    "tests/reliability/test_serve_restart.py",
    "tests/console/test_browser.py",
    "tests/hostile/test_fuzz.py",
    "tests/test_e2e.py",
    "tests/dispatch/test_workers.py",
    "tests/access/test_log_scan.py",
    "tests/health/test_metrics_processes.py",
    "tests/emulator/test_state.py",
    "tests/test_openapi_client.py",
    "tests/cli/",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return next(
            (n for n, slow in enumerate(SLOW_FIRST) if path.startswith(slow)), len(SLOW_FIRST)
        )

    items.sort(key=rank)  # stable: each file's own order is kept
