"""Crash and restart: workers killed again and again, the API killed while it accepts sends,
PostgreSQL restarted under load. Afterwards every accepted message is final, none is lost, none
was sent twice (docs/reliability.md records the figures these print)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from herald.app import create_app
from herald.db import create_engine
from herald.emulator.app import create_emulator_app
from herald.emulator.config import EmulatorConfig
from herald.migrate import upgrade
from tests.cli.helpers import herald_started
from tests.conftest import (
    EMULATOR_ACCESS_TOKEN,
    EMULATOR_APP_SECRET,
    EMULATOR_VERIFY_TOKEN,
    PASSWORD,
    TEST_JWT_SECRET,
    DatabaseUnderTest,
    add_user,
)
from tests.dispatch.test_end_to_end import approved_template, approved_through
from tests.dispatch.test_workers import cluster, start_worker  # noqa: F401 - fixture reused
from tests.live import free_port, serve_app
from tests.live_herald import Live, eventually, herald_settings
from tests.reliability.private_postgres import private_postgres

# A request's bound, sized for a loaded machine: with the suite on four workers, a request of
# the PostgreSQL restart test outlasted 10 s. The bound only ends a failing run.
CLIENT_TIMEOUT = 60.0
SENDS = 300


def emulator_for(herald_port: int, **knobs: Any) -> Any:
    return create_emulator_app(
        EmulatorConfig(
            access_token=EMULATOR_ACCESS_TOKEN,
            app_secret=EMULATOR_APP_SECRET,
            webhook_url=f"http://127.0.0.1:{herald_port}/webhooks/whatsapp",
            approve_after_seconds=0.2,
            status_delays=(0.02, 0.02, 0.02),
            webhook_max_attempts=12,  # ride out the outages these tests cause
            **knobs,
        )
    )


def herald_env(database_url: str, data_dir: Path, port: int, emulator_url: str) -> dict[str, str]:
    return {
        "HERALD_DATABASE_URL": database_url,
        "HERALD_DATA_DIR": str(data_dir),
        "HERALD_JWT_SECRET": TEST_JWT_SECRET,
        "HERALD_PORT": str(port),
        "HERALD_EMULATOR_URL": emulator_url,
        "HERALD_EMULATOR_ACCESS_TOKEN": EMULATOR_ACCESS_TOKEN,
        "HERALD_EMULATOR_APP_SECRET": EMULATOR_APP_SECRET,
        "HERALD_EMULATOR_VERIFY_TOKEN": EMULATOR_VERIFY_TOKEN,
        "HERALD_PROVIDER_TIMEOUT_SECONDS": "2",
        "HERALD_DISPATCH_LEASE_SECONDS": "5",
        "HERALD_UNKNOWN_OUTCOME_DEADLINE_SECONDS": "30",
        "HERALD_PAIR_SPACING_SECONDS": "0",
        "HERALD_WEBHOOK_POLL_SECONDS": "0.2",
        "HERALD_LOG_LEVEL": "warning",
        "HERALD_RATE_LIMIT_BURST": "10000",  # the test's own burst is not what it is about
    }


async def log_in(http: httpx.AsyncClient) -> dict[str, str]:
    answer = await http.post(
        "/api/login_check", json={"username": "ana@example.com", "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['data']['token']}"}


async def send_until_accepted(
    http: httpx.AsyncClient, auth: dict[str, str], template_id: int, n: int, log: list[Any]
) -> int:
    """One integrator's send, retried with the same idempotency key until it is accepted (as
    a client must when the answer is lost or the server says 503)."""
    key = f"order-{n}"
    body = {"to": f"2169{n:07d}", "country_code": "TN", "body_params": ["Sam", key]}
    while True:
        try:
            answer = await http.post(
                f"/api/v2/whatsapp/templates/{template_id}/send",
                json=body,
                headers={**auth, "Idempotency-Key": key},
            )
        except httpx.TransportError as exc:
            log.append(("transport", type(exc).__name__))
            await asyncio.sleep(0.2)
            continue
        log.append(("http", answer.status_code, answer.headers.get("retry-after"), answer.text))
        if answer.status_code == 202:
            message_id: int = answer.json()["data"]["message"]["id"]
            return message_id
        # The only refusals a valid send meets: the database away, or the budget spent.
        assert answer.status_code in (429, 503), answer.text
        await asyncio.sleep(min(1.0, float(answer.headers.get("retry-after", "1"))))


async def wait_all_final(
    http: httpx.AsyncClient, auth: dict[str, str], ids: set[int], timeout: float = 120
) -> dict[int, str]:
    states: dict[int, str] = {}

    async def final() -> bool:
        for message_id in ids - {i for i, s in states.items() if s in ("read", "failed")}:
            try:
                answer = await http.get(f"/api/whatsapp/{message_id}/", headers=auth)
            except httpx.TransportError:
                return False
            if answer.status_code == 200:
                states[message_id] = answer.json()["data"]["state"]
        return all(states.get(i) in ("read", "failed") for i in ids)

    await eventually(final, timeout=timeout, message="every accepted message final")
    return states


def report(name: str, accepted: int, sent: Counter[str], states: dict[int, str]) -> str:
    twice = sum(1 for count in sent.values() if count > 1)
    lost = accepted - len(states)
    line = (
        f"{name}: accepted={accepted} sent={len(sent)} sent_twice={twice} lost={lost} "
        f"read={sum(s == 'read' for s in states.values())} "
        f"failed={sum(s == 'failed' for s in states.values())}"
    )
    print(line)
    return line


# --- workers killed again and again ---------------------------------------------------------


# 50 s of sending at the channel's 80/s: each kill lands mid-send, 12 s or more after the last.
BULK = 4_000


async def test_workers_killed_three_times_during_a_bulk_send(
    cluster: tuple[Live, dict[str, str]],  # noqa: F811 - the fixture imported above
    db: DatabaseUnderTest,
    tmp_path: Path,
) -> None:
    live, env = cluster
    auth = await live.auth_for(await add_user(db, "ana@example.com"))
    template_id = (await approved_template(live, auth, no_worker=db))["id"]
    recipients = [
        {"to": f"2169{n:07d}", "country_code": "TN", "body_params": ["A", str(n)]}
        for n in range(BULK)
    ]
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template_id}/send-bulk",
        json={"recipients": recipients},
        headers=auth,
    )
    assert answer.status_code == 202
    group = answer.json()["data"]["whatsapp_bulk_group_id"]

    workers = [start_worker(env, tmp_path / f"worker{n}.log") for n in range(2)]
    try:
        for threshold in (BULK * 3 // 20, BULK * 2 // 5, BULK * 7 // 10):

            async def reached(limit: int = threshold) -> bool:
                stats = (await live.emulator.get("/_emulator/stats")).json()
                return bool(stats["accepted"] >= limit)

            await eventually(reached, timeout=90, message=f"{threshold} sent")
            victim = workers.pop(0)
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            workers.append(start_worker(env, tmp_path / f"worker-after-{threshold}.log"))

        async def all_final() -> bool:
            counts = (
                await live.herald.get(f"/api/v2/whatsapp/bulk-groups/{group}", headers=auth)
            ).json()["data"]["counts"]
            return bool(counts.get("read", 0) + counts.get("failed", 0) == BULK)

        await eventually(all_final, timeout=240, message="every message final")
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(10)

    sent = Counter(
        m["callback_data"] for m in (await live.emulator.get("/_emulator/messages")).json()
    )
    failed = (
        await live.herald.get(
            "/api/whatsapp/",
            params={"whatsapp_bulk_group_id": group, "state": "failed", "limit": 100},
            headers=auth,
        )
    ).json()["data"]
    assert max(sent.values()) == 1  # none sent twice across three kills
    assert {m["error"]["code"] for m in failed["items"]} <= {"outcome_unknown"}
    assert failed["pagination"]["total"] <= 3 * 50  # at most one in-flight chunk per kill
    assert len(sent) + failed["pagination"]["total"] == BULK  # nothing lost
    print(
        f"workers killed 3x: accepted={BULK} sent={len(sent)} sent_twice=0 lost=0 "
        f"outcome_unknown={failed['pagination']['total']}"
    )


# --- the API killed while accepting ----------------------------------------------------------


async def wait_ready(url: str) -> None:
    async def ready() -> bool:
        try:
            async with httpx.AsyncClient() as http:
                return (await http.get(f"{url}/readyz")).status_code == 200
        except httpx.TransportError:
            return False

    await eventually(ready, timeout=30, message="the API answers")


async def test_the_api_killed_while_accepting_loses_and_duplicates_nothing(
    db: DatabaseUnderTest, tmp_path: Path
) -> None:
    await add_user(db, "ana@example.com")
    port = free_port()
    emulator = emulator_for(port)
    async with serve_app(emulator) as emulator_url:
        env = herald_env(db.url, tmp_path, port, emulator_url)
        url = f"http://127.0.0.1:{port}"
        api = herald_started(["api", "--port", str(port)], env, tmp_path / "api.log")
        worker = herald_started(["worker"], env, tmp_path / "worker.log")
        try:
            await wait_ready(url)
            async with httpx.AsyncClient(base_url=url, timeout=CLIENT_TIMEOUT) as http:
                auth = await log_in(http)
                template_id = (await approved_through(http, auth))["id"]
                log: list[Any] = []
                senders = asyncio.gather(
                    *(send_until_accepted(http, auth, template_id, n, log) for n in range(SENDS))
                )
                await asyncio.sleep(0.5)  # in the middle of accepting
                api.send_signal(signal.SIGKILL)
                api.wait(10)
                await asyncio.sleep(1)
                api = herald_started(["api", "--port", str(port)], env, tmp_path / "api-again.log")
                ids = await asyncio.wait_for(senders, timeout=120)
                assert any(entry[0] == "transport" for entry in log), "the kill hit requests"
                assert len(set(ids)) == SENDS  # one message per idempotency key, retries or not
                states = await wait_all_final(http, auth, set(ids))
        finally:
            for process in (api, worker):
                process.terminate()
                process.wait(10)
        sent = Counter(m["callback_data"] for m in (await _emulator_messages(emulator_url)))
    await emulator.state.emulator.aclose()
    assert max(sent.values()) == 1
    assert set(states.values()) == {"read"}
    report("api killed", SENDS, sent, states)


async def _emulator_messages(url: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=url) as http:
        messages: list[dict[str, Any]] = (await http.get("/_emulator/messages")).json()
        return messages


# --- PostgreSQL restarted under load ---------------------------------------------------------


@pytest.fixture
async def herald_on_private_postgres(tmp_path: Path) -> AsyncIterator[tuple[Any, str, str]]:
    with private_postgres() as postgres:
        engine = create_engine(postgres.url)
        await upgrade(engine)
        await add_user(DatabaseUnderTest("postgresql", postgres.url, engine), "ana@example.com")
        await engine.dispose()
        port = free_port()
        emulator = emulator_for(port)
        async with serve_app(emulator) as emulator_url:
            settings = herald_settings(
                postgres.url,
                tmp_path,
                port,
                emulator_url,
                dispatch_lease_seconds=5,
                pair_spacing_seconds=0,
                webhook_poll_seconds=0.2,
                rate_limit_burst=10_000,
            )
            async with serve_app(create_app(settings), port=port) as url:
                yield postgres, url, emulator_url
        await emulator.state.emulator.aclose()


async def test_postgres_restarted_under_load(
    herald_on_private_postgres: tuple[Any, str, str],
) -> None:
    postgres, url, emulator_url = herald_on_private_postgres
    async with httpx.AsyncClient(base_url=url, timeout=CLIENT_TIMEOUT) as http:
        auth = await log_in(http)
        template_id = (await approved_through(http, auth))["id"]
        log: list[Any] = []
        senders = asyncio.gather(
            *(send_until_accepted(http, auth, template_id, n, log) for n in range(SENDS))
        )
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await asyncio.to_thread(postgres.stop)
        stopped = time.monotonic()
        outage = []
        for _ in range(5):
            answer = await http.get("/readyz")
            outage.append(answer)
            await asyncio.sleep(0.3)
        probed = time.monotonic()
        await asyncio.to_thread(postgres.start)
        down_for = time.monotonic() - started
        print(
            f"stop {stopped - started:.1f}s, probes {probed - stopped:.1f}s, total {down_for:.1f}s"
        )
        ids = await asyncio.wait_for(senders, timeout=120)

        # While it was down: 503 JSend with Retry-After, never a 500.
        refusals = [e for e in log if e[0] == "http" and e[1] not in (202, 429)]
        assert refusals, "the outage reached some sends"
        for _, status, retry_after, body in refusals:
            assert status == 503, body
            assert retry_after is not None
            assert '"code":"service_unavailable"' in body.replace(" ", "")
        assert all(a.status_code == 503 for a in outage)
        assert all(a.json()["code"] == "service_unavailable" for a in outage)
        assert (await http.get("/readyz")).status_code == 200  # recovered by itself

        assert len(set(ids)) == SENDS
        states = await wait_all_final(http, auth, set(ids))
    sent = Counter(m["callback_data"] for m in await _emulator_messages(emulator_url))
    assert max(sent.values()) == 1
    assert set(states.values()) == {"read"}
    report(f"postgres down {down_for:.1f}s", SENDS, sent, states)
