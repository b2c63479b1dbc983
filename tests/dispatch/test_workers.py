"""`herald worker` processes: several on PostgreSQL send nothing twice, the limit holds, and a
worker killed with SIGKILL mid-send loses nothing; one stopped with SIGTERM (`herald worker`
or `herald serve`) leaves nothing behind (both databases)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from herald.app import create_app
from herald.channel import repository as channels
from herald.db import create_engine, session_factory
from herald.dispatch.ownership import LOCK_SPACE
from herald.emulator.app import create_emulator_app
from herald.emulator.config import EmulatorConfig
from herald.models import Message, WebhookEvent
from tests.cli.helpers import herald_started
from tests.conftest import (
    EMULATOR_ACCESS_TOKEN,
    EMULATOR_APP_SECRET,
    EMULATOR_VERIFY_TOKEN,
    TEST_JWT_SECRET,
    DatabaseUnderTest,
    add_user,
)
from tests.dispatch.test_end_to_end import approved_template
from tests.live import free_port, serve_app
from tests.live_herald import (
    Live,
    client_options,
    eventually,
    herald_settings,
    refusals_as_sent,
)

RATE = 400
PER_CHANNEL = 2_000  # 5 s of sending at RATE: the kill below lands mid-send


@pytest.fixture
async def cluster(
    db: DatabaseUnderTest, tmp_path: Path
) -> AsyncIterator[tuple[Live, dict[str, str]]]:
    """The API in-process (no dispatcher), the emulator, and the environment for workers."""
    if db.kind != "postgresql":
        pytest.skip("several dispatchers share one database on PostgreSQL only")
    async with _cluster(db, tmp_path) as running:
        yield running


@pytest.fixture
async def one_worker_cluster(
    db: DatabaseUnderTest, tmp_path: Path
) -> AsyncIterator[tuple[Live, dict[str, str]]]:
    async with _cluster(db, tmp_path) as running:
        yield running


@contextlib.asynccontextmanager
async def _cluster(
    db: DatabaseUnderTest, tmp_path: Path
) -> AsyncIterator[tuple[Live, dict[str, str]]]:
    herald_port = free_port()
    emulator_app = create_emulator_app(
        EmulatorConfig(
            access_token=EMULATOR_ACCESS_TOKEN,
            app_secret=EMULATOR_APP_SECRET,
            webhook_url=f"http://127.0.0.1:{herald_port}/webhooks/whatsapp",
            approve_after_seconds=0.2,
            throughput_per_second=RATE,
            status_delays=(0.05, 0.05, 0.05),
        )
    )
    async with serve_app(emulator_app) as emulator_url:
        env = {
            "HERALD_DATABASE_URL": db.url,
            "HERALD_DATA_DIR": str(tmp_path),
            "HERALD_JWT_SECRET": TEST_JWT_SECRET,
            "HERALD_EMULATOR_URL": emulator_url,
            "HERALD_EMULATOR_ACCESS_TOKEN": EMULATOR_ACCESS_TOKEN,
            "HERALD_EMULATOR_APP_SECRET": EMULATOR_APP_SECRET,
            "HERALD_EMULATOR_VERIFY_TOKEN": EMULATOR_VERIFY_TOKEN,
            "HERALD_PROVIDER_TIMEOUT_SECONDS": "2",
            "HERALD_DISPATCH_LEASE_SECONDS": "5",
            "HERALD_UNKNOWN_OUTCOME_DEADLINE_SECONDS": "20",
            "HERALD_PAIR_SPACING_SECONDS": "0",
            "HERALD_LOG_LEVEL": "warning",
            "HERALD_PORT": str(herald_port),
        }
        settings = herald_settings(
            db.url, tmp_path, herald_port, emulator_url, background_tasks=False
        )
        async with (
            serve_app(create_app(settings), port=herald_port) as herald_url,
            httpx.AsyncClient(**client_options(herald_url, 60)) as herald,
            httpx.AsyncClient(**client_options(emulator_url, 60)) as emulator,
        ):
            yield Live(herald=herald, emulator=emulator, settings=settings), env
    await emulator_app.state.emulator.aclose()


def start_worker(
    env: dict[str, str], log: Path, args: Sequence[str] = ("worker",)
) -> subprocess.Popen[bytes]:
    return herald_started(args, env, log)


async def test_workers_share_channels_and_survive_a_sigkill(
    cluster: tuple[Live, dict[str, str]], db: DatabaseUnderTest, tmp_path: Path
) -> None:
    live, env = cluster
    groups = []
    for number, email in enumerate(("ana@example.com", "bob@example.com")):
        groups.append(await _bulk_queued(live, db, email, f"2169{number}", PER_CHANNEL))

    engine = create_engine(db.url)
    async with session_factory(engine)() as session:
        for channel in await channels.list_all(session):
            channel.throughput_per_second = RATE
        await session.commit()

    workers = [start_worker(env, tmp_path / f"worker{n}.log") for n in range(3)]
    try:

        async def some_sent() -> bool:
            return (await live.emulator.get("/_emulator/stats")).json()["accepted"] > 1500

        await eventually(some_sent, timeout=60, message="sending started")
        workers[0].send_signal(signal.SIGKILL)  # mid-batch, no goodbye
        workers[0].wait(10)

        async def all_final() -> bool:
            for auth, group in groups:
                counts = (
                    await live.herald.get(f"/api/v2/whatsapp/bulk-groups/{group}", headers=auth)
                ).json()["data"]["counts"]
                if counts.get("read", 0) + counts.get("failed", 0) != PER_CHANNEL:
                    return False
            return True

        try:
            await eventually(all_final, timeout=240, message="every message final")
        except BaseException:
            print(await _diagnose(db))
            raise
    finally:
        for worker in workers[1:]:
            worker.terminate()
            worker.wait(10)
        await engine.dispose()

    sent = (await live.emulator.get("/_emulator/messages")).json()
    per_message = Counter(m["callback_data"] for m in sent)
    assert max(per_message.values()) == 1  # none sent twice
    assert await refusals_as_sent(db.engine, RATE) == 0  # the limit held, even across the takeover
    unknown: set[str] = set()
    for auth, group in groups:
        failed = (
            await live.herald.get(
                "/api/whatsapp/",
                params={"whatsapp_bulk_group_id": group, "state": "failed", "limit": 100},
                headers=auth,
            )
        ).json()["data"]["items"]
        # The only failures: requests in flight in the killed worker whose outcome stayed
        # unknown, each reported as such (docs/reliability.md), at most one chunk a channel.
        assert {m["error"]["code"] for m in failed} <= {"outcome_unknown"}
        assert len(failed) <= 20  # one in-flight chunk of this channel (400/s // 20)
        unknown |= {str(m["id"]) for m in failed}
    assert unknown.isdisjoint(per_message)  # never sent: nothing was delivered twice or lost
    assert len(per_message) + len(unknown) == 2 * PER_CHANNEL  # every message accounted for
    print(
        f"workers: accepted={2 * PER_CHANNEL} sent={len(per_message)} twice=0 "
        f"unknown_failed={len(unknown)}"
    )


async def test_workers_take_an_even_share_of_the_channels(
    cluster: tuple[Live, dict[str, str]], db: DatabaseUnderTest, tmp_path: Path
) -> None:
    """A worker alone runs every channel; a second one started beside it gets half of them
    handed over (a process is one core: one worker used to keep them all), and every message
    still goes once."""
    live, env = cluster
    per_channel, rate = 300, 20  # 15 s of sending a channel
    groups = [
        await _bulk_queued(live, db, f"user{n}@example.com", f"2169{n}", per_channel)
        for n in range(4)
    ]
    engine = create_engine(db.url)
    async with session_factory(engine)() as session:
        for channel in await channels.list_all(session):
            channel.throughput_per_second = rate
        await session.commit()

    async def owners() -> list[int]:
        """How many channels each process holds (Herald's advisory locks, by process)."""
        async with engine.connect() as connection:
            held = await connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND classid = :space AND database ="
                    " (SELECT oid FROM pg_database WHERE datname = current_database())"
                    " GROUP BY pid"
                ),
                {"space": LOCK_SPACE >> 32},
            )
            return sorted(int(count) for count in held.scalars())

    workers = [start_worker(env, tmp_path / "first.log")]
    try:

        async def first_runs_all() -> bool:
            return await owners() == [4]

        await eventually(first_runs_all, timeout=60, message="the first worker owns all four")
        workers.append(start_worker(env, tmp_path / "second.log"))

        async def shared() -> bool:
            return await owners() == [2, 2]

        await eventually(shared, timeout=60, message="two channels each")

        async def all_read() -> bool:
            for auth, group in groups:
                counts = (
                    await live.herald.get(f"/api/v2/whatsapp/bulk-groups/{group}", headers=auth)
                ).json()["data"]["counts"]
                if counts.get("read", 0) != per_channel:
                    return False
            return True

        await eventually(all_read, timeout=120, message="every message read")
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(10)
        await engine.dispose()
    sent = (await live.emulator.get("/_emulator/messages")).json()
    assert max(Counter(m["callback_data"] for m in sent).values()) == 1  # none sent twice
    # Each channel's pace held across the handover.
    assert await refusals_as_sent(db.engine, rate) == 0


async def _diagnose(db: DatabaseUnderTest) -> object:
    engine = create_engine(db.url)
    try:
        async with session_factory(engine)() as session:
            states = (
                await session.execute(
                    select(
                        Message.state, Message.outcome_unknown_since.is_not(None), func.count()
                    ).group_by(Message.state, Message.outcome_unknown_since.is_not(None))
                )
            ).all()
            pending = (
                await session.execute(
                    select(func.count()).where(WebhookEvent.processed_at.is_(None))
                )
            ).scalar_one()
            return {"states": [tuple(r) for r in states], "pending_webhooks": pending}
    finally:
        await engine.dispose()


@pytest.mark.parametrize("command", ["worker", "serve"])
async def test_a_dispatcher_stopped_with_sigterm_records_its_sends_and_gives_back_the_rest(
    one_worker_cluster: tuple[Live, dict[str, str]],
    db: DatabaseUnderTest,
    tmp_path: Path,
    command: str,
) -> None:
    """A deploy stops `herald worker`, or `herald serve` with its in-process dispatcher,
    mid-send: it exits cleanly, every message it sent is recorded, everything it had claimed
    but not sent is due again at once (no lease to wait out, none "outcome unknown"), and the
    next worker sends the rest once each."""
    live, env = one_worker_cluster
    total = 800  # 10 s of sending at the channel's 80/s: stopped after 300, mid-send
    auth, group = await _bulk_queued(live, db, "ana@example.com", "2169", total)

    # Lease and deadline far beyond the test: only a clean stop can free what it holds.
    env = {**env, "HERALD_DISPATCH_LEASE_SECONDS": "600"}
    args = ["worker"]
    if command == "serve":
        args = ["serve", "--no-migrate", "--port", str(free_port())]
    stopped_log = tmp_path / "stopped.log"
    worker = start_worker(env, stopped_log, args)

    async def some_sent() -> bool:
        return (await live.emulator.get("/_emulator/stats")).json()["accepted"] > 300

    await eventually(some_sent, timeout=60, message="sending started")
    worker.send_signal(signal.SIGTERM)
    # Waited for off the event loop: the emulator and the API serving its answers run on it.
    # uvicorn, once shut down, raises the signal it caught again, so that `herald serve` ends
    # as terminated by SIGTERM (which systemd counts as a clean stop).
    exit_code = 0 if command == "worker" else -signal.SIGTERM
    try:
        assert await asyncio.to_thread(worker.wait, 30) == exit_code
    except subprocess.TimeoutExpired:
        # It did not stop: ended here, or it would hold the SQLite database's lock while the
        # next tests of this worker run (one such failure made every test after it fail, and
        # the report of one crashed pytest's worker). Its log says where its tasks wait.
        worker.kill()
        worker.wait(10)
        told = [line for line in stopped_log.read_text().splitlines() if "still_" not in line]
        pytest.fail("no exit within 30 s of SIGTERM; its log:\n" + "\n".join(told[-40:]))
    sent_before = {
        m["callback_data"] for m in (await live.emulator.get("/_emulator/messages")).json()
    }
    assert 300 < len(sent_before) < total
    states = await _message_states(db)
    assert "sending" not in states, states  # recorded, or back in the queue
    assert states.get("queued", 0) == total - len(sent_before), states

    worker = start_worker(env, tmp_path / "next.log")
    try:

        async def all_read() -> bool:
            counts = (
                await live.herald.get(f"/api/v2/whatsapp/bulk-groups/{group}", headers=auth)
            ).json()["data"]["counts"]
            return counts.get("read", 0) == total

        await eventually(all_read, timeout=120, message="every message read")
    finally:
        worker.terminate()
        worker.wait(10)
    sent = Counter(
        m["callback_data"] for m in (await live.emulator.get("/_emulator/messages")).json()
    )
    assert len(sent) == total
    assert max(sent.values()) == 1


async def _bulk_queued(
    live: Live,
    db: DatabaseUnderTest,
    email: str,
    prefix: str,
    count: int,
) -> tuple[dict[str, str], str]:
    """A new user's bulk send of ``count`` messages, queued: their auth and its group."""
    auth = await live.auth_for(await add_user(db, email))
    template = await approved_template(live, auth, no_worker=db)
    recipients = [
        {
            "to": f"{prefix}{n:0{11 - len(prefix)}d}",
            "country_code": "TN",
            "body_params": ["A", str(n)],
        }
        for n in range(count)
    ]
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send-bulk",
        json={"recipients": recipients},
        headers=auth,
    )
    assert answer.status_code == 202, answer.text[:300]
    return auth, answer.json()["data"]["whatsapp_bulk_group_id"]


async def _message_states(db: DatabaseUnderTest) -> dict[str, int]:
    engine = create_engine(db.url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(Message.state, func.count()).group_by(Message.state)
            )
            return {str(state): int(count) for state, count in rows.all()}
    finally:
        await engine.dispose()
