"""The scenarios of issue 7 (webhook ingest in webhook_ingest.py, history in history.py). Each
returns figures for one run; __main__ repeats and takes medians. Processes run separately
(API, worker, emulator), as in production."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import wrk
from bench.procs import (
    Process,
    Stack,
    free_port,
    migrate,
    postgres_database,
    start_api,
    start_emulator,
    start_worker,
)
from bench.setup import Account, token
from herald.emulator.records import bucket_refusals

Figures = dict[str, float]


@contextmanager
def stack(kind: str, **env: str) -> Iterator[Stack]:
    """A database of ``kind`` (sqlite or postgresql), the emulator, and a port for the API."""
    with (
        tempfile.TemporaryDirectory(prefix="herald-bench-") as folder,
        _database(kind, Path(folder)) as url,
    ):
        port = free_port()
        emulator = start_emulator(Path(folder), f"http://127.0.0.1:{port}/webhooks/whatsapp")
        installation = Stack(url, Path(folder), emulator, extra_env={"HERALD_PORT": str(port)})
        installation.extra_env.update(env)
        migrate(installation)
        try:
            yield installation
        finally:
            for process in (installation.worker, installation.api, emulator):
                if process is not None:
                    process.stop()


@contextmanager
def _database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'herald.db'}"
    else:
        with postgres_database() as url:
            yield url


@contextmanager
def sampling(*processes: Process) -> Iterator[None]:
    """Sample each process's resident memory every 100 ms while the block runs."""
    running = True

    def sample() -> None:
        while running:
            for process in processes:
                with contextlib.suppress(OSError, ValueError):  # the process may be gone
                    process.rss_samples.append(int(process.rss_mb()))
            time.sleep(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield
    finally:
        running = False
        thread.join()


def _api(installation: Stack) -> Process:
    return start_api(installation, int(installation.extra_env["HERALD_PORT"]))


# 1. intake --------------------------------------------------------------------------------------


def intake(installation: Stack, account: Account, api: Process, seconds: int) -> Figures:
    assert api.url is not None
    bearer = token(api.url, account.email)
    cpu_before = api.cpu_seconds()
    noop = wrk.run(f"{api.url}/healthz", wrk.GET_WITH_TOKEN, seconds=seconds)
    cpu_noop = api.cpu_seconds()
    body = json.dumps({"to": "21696816277", "country_code": "TN", "body_params": ["Sam", "A1"]})
    sends = wrk.run(
        f"{api.url}/api/v2/whatsapp/templates/{account.template_id}/send",
        wrk.POST_JSON,
        seconds=seconds,
        env={"BENCH_BODY": body, "BENCH_TOKEN": bearer},
    )
    cpu_sends = api.cpu_seconds()
    noop_count = noop.requests_per_second * seconds
    send_count = sends.requests_per_second * seconds
    return {
        "noop_rps": noop.requests_per_second,
        "send_rps": sends.requests_per_second,
        "ratio": sends.requests_per_second / noop.requests_per_second,
        "send_p50_ms": sends.p50_ms,
        "send_p99_ms": sends.p99_ms,
        "send_errors": float(sends.non_2xx + sends.errors),
        # The API process's CPU per request served: steadier than rates on a shared machine.
        "noop_cpu_ms": (cpu_noop - cpu_before) * 1000 / max(1.0, noop_count),
        "send_cpu_ms": (cpu_sends - cpu_noop) * 1000 / max(1.0, send_count),
    }


# 2. bulk intake ---------------------------------------------------------------------------------


def bulk_intake(
    api: Process, account: Account, offset: int = 0, bearer: str | None = None
) -> Figures:
    assert api.url is not None
    bearer = bearer or token(api.url, account.email)
    recipients = [
        {"to": f"2169{offset + n:07d}", "country_code": "TN", "body_params": ["A", str(n)]}
        for n in range(10_000)
    ]
    started = time.perf_counter()
    answer = httpx.post(
        f"{api.url}/api/v2/whatsapp/templates/{account.template_id}/send-bulk",
        json={"recipients": recipients},
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=120,
    )
    elapsed = time.perf_counter() - started
    answer.raise_for_status()
    return {"recipients_per_second": 10_000 / elapsed, "seconds": elapsed}


# 3. dispatch end to end, and the worker's CPU at 80/s ---------------------------------------------


async def _counts(database_url: str) -> dict[str, int]:
    dsn = database_url.replace("postgresql+asyncpg", "postgresql")
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT state, count(*) FROM messages GROUP BY state")
        return {row[0]: row[1] for row in rows}
    finally:
        await connection.close()


def dispatch(installation: Stack, accounts: list[Account], total: int) -> Figures:
    api = installation.api
    assert api is not None and api.url is not None
    per_account = total // len(accounts)
    for index, account in enumerate(accounts):
        for start in range(0, per_account, 10_000):
            bulk_intake(api, account, offset=index * 1_000_000 + start)
    worker = start_worker(installation)
    started = time.perf_counter()
    sent_at = read_at = None
    cpu_before = worker.cpu_seconds()
    # What else shares the two cores while the worker sends: Meta's stand-in and the API
    # acknowledging its status webhooks.
    others_before = installation.emulator.cpu_seconds(), api.cpu_seconds()
    with sampling(worker, api):
        while read_at is None:
            counts = asyncio.run(_counts(installation.database_url))
            done = sum(counts.get(s, 0) for s in ("sent", "delivered", "read", "failed"))
            if sent_at is None and done >= total:
                sent_at = time.perf_counter()
            if counts.get("read", 0) + counts.get("failed", 0) >= total:
                read_at = time.perf_counter()
            if time.perf_counter() - started > 1800:
                raise RuntimeError(f"dispatch did not finish: {counts}")
            time.sleep(0.5)
    cpu = worker.cpu_seconds() - cpu_before
    emulator_cpu = installation.emulator.cpu_seconds() - others_before[0]
    api_cpu = api.cpu_seconds() - others_before[1]
    assert sent_at is not None
    elapsed = read_at - started
    return {
        "sent_per_second": total / (sent_at - started),
        "read_per_second": total / elapsed,
        "worker_cpu_share": cpu / elapsed,
        "emulator_cpu_share": emulator_cpu / elapsed,
        "api_cpu_share": api_cpu / elapsed,
        "worker_cpu_ms_per_message": cpu * 1000 / total,
        "emulator_cpu_ms_per_message": emulator_cpu * 1000 / total,
        "api_cpu_ms_per_message": api_cpu * 1000 / total,
    }


def worker_cpu_at(installation: Stack, account: Account, rate: int, seconds: int) -> Figures:
    """Share of one core the worker uses while sending at ``rate`` messages a second."""
    api = installation.api
    assert api is not None
    total = rate * seconds
    bulk_intake_partial(api, account, total)
    worker = start_worker(installation)
    # The dispatch loop's share, not the start's: imports and connecting take a few seconds of
    # CPU on a busy machine, so the window opens once the first messages went out.
    started = time.perf_counter()
    while not any(
        asyncio.run(_counts(installation.database_url)).get(state)
        for state in ("sent", "delivered", "read")
    ):
        if time.perf_counter() - started > 60:
            raise RuntimeError("the worker sent nothing in a minute")
        time.sleep(0.1)
    before, wall = worker.cpu_seconds(), time.perf_counter()
    time.sleep(seconds - 6)
    share = (worker.cpu_seconds() - before) / (time.perf_counter() - wall)
    worker.stop()
    installation.worker = None
    return {"rate": float(rate), "worker_cpu_share": share}


def bulk_intake_partial(
    api: Process, account: Account, count: int, send_at: datetime | None = None
) -> None:
    assert api.url is not None
    bearer = token(api.url, account.email)
    scheduled = {} if send_at is None else {"send_at": send_at.isoformat()}
    for start in range(0, count, 10_000):
        recipients = [
            {"to": f"2169{start + n:07d}", "country_code": "TN", "body_params": ["A", str(n)]}
            for n in range(min(10_000, count - start))
        ]
        httpx.post(
            f"{api.url}/api/v2/whatsapp/templates/{account.template_id}/send-bulk",
            json={"recipients": recipients, **scheduled},
            headers={"Authorization": f"Bearer {bearer}"},
            timeout=120,
        ).raise_for_status()


# 4. pacing --------------------------------------------------------------------------------------


def pacing(installation: Stack, account: Account, rate: int, seconds: int) -> Figures:
    api, emulator = installation.api, installation.emulator
    assert api is not None and emulator.url is not None
    httpx.patch(f"{emulator.url}/_emulator/config", json={"throughput_per_second": rate})
    asyncio.run(_set_throughput(installation.database_url, rate))
    total = rate * seconds
    bulk_intake_partial(api, account, total)
    started = datetime.now(UTC)
    worker = start_worker(installation)
    deadline = time.perf_counter() + seconds * 4 + 30
    # The CPU of each process and of the machine while the sending runs (from its first
    # messages, not the worker's start), per message sent meanwhile.
    first: tuple[int, list[float]] | None = None
    while True:
        stats = httpx.get(f"{emulator.url}/_emulator/stats", timeout=30).json()
        if first is None and stats["accepted"] > 0:
            first = stats["accepted"], _cpu_seconds(worker, emulator, api)
        if stats["accepted"] >= total or time.perf_counter() > deadline:
            break
        time.sleep(0.5)
    assert first is not None, "nothing was sent"
    cpu = [b - a for a, b in zip(first[1], _cpu_seconds(worker, emulator, api), strict=True)]
    per_message_ms = [seconds * 1000 / max(1, stats["accepted"] - first[0]) for seconds in cpu]
    worker.stop()
    installation.worker = None
    received = httpx.get(f"{emulator.url}/_emulator/messages", timeout=120).json()
    times = sorted(m["received_at"] for m in received)[-total:]
    # The achieved rate over the whole send: messages after the first, over the time they took.
    achieved = (len(times) - 1) / (times[-1] - times[0])
    httpx.post(f"{emulator.url}/_emulator/reset", timeout=30)
    # A refusal's cause: the same bucket over the times the sends left Herald (its attempts)
    # and over the times they reached the emulator. Refusals by the second only mean the sends
    # bunched on the way (the emulator's event loop gets to them late), not Herald's spacing.
    sent_at = asyncio.run(_attempts_since(installation.database_url, started))
    arrived_at = sorted(times + [refused["at"] for refused in stats["throughput_refused_at"]])
    return {
        "limit": float(rate),
        "achieved": achieved,
        "deviation_percent": abs(achieved - rate) / rate * 100,
        "refused_130429": float(stats["refused"].get("130429", 0)),
        "bucket_refusals_as_sent": float(bucket_refusals(sent_at, rate)),
        "bucket_refusals_as_arrived": float(bucket_refusals(arrived_at, rate)),
        "worker_cpu_ms": per_message_ms[0],
        "emulator_cpu_ms": per_message_ms[1],
        "api_cpu_ms": per_message_ms[2],
        # Everything else that ran (PostgreSQL, the kernel, the harness), and the machine's
        # two cores as a whole: the whole stack's CPU a message against what there is.
        "other_cpu_ms": per_message_ms[3] - sum(per_message_ms[:3]),
        "machine_busy_percent": cpu[3] / max(1e-9, cpu[4]) * 100,
    }


def _cpu_seconds(*processes: Process) -> list[float]:
    """Each process's CPU seconds, then the machine's busy CPU seconds and its elapsed CPU
    seconds (all cores, from /proc/stat: busy is all but idle and iowait)."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return [p.cpu_seconds() for p in processes] + [
        (sum(fields) - idle) / ticks,
        sum(fields) / ticks,
    ]


async def _attempts_since(database_url: str, started: datetime) -> list[float]:
    """When each provider call since ``started`` left Herald (its attempts' start), in seconds."""
    return sorted(
        at for each in (await attempts_by_number(database_url, started)).values() for at in each
    )


async def attempts_by_number(database_url: str, started: datetime) -> dict[str, list[float]]:
    """When each provider call since ``started`` left Herald, in seconds, by sending number
    (its phone number id at Meta)."""
    from sqlalchemy import select

    from herald.db import create_engine
    from herald.models import Attempt, Channel, Message

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Channel.phone_number_id, Attempt.started_at)
                .join(Message, Message.id == Attempt.message_id)
                .join(Channel, Channel.id == Message.channel_id)
                .where(Attempt.started_at >= started)
                .order_by(Attempt.started_at)
            )
            by_number: dict[str, list[float]] = defaultdict(list)
            for number, at in rows.all():
                by_number[number].append(at.timestamp())
            return by_number
    finally:
        await engine.dispose()


async def _set_throughput(database_url: str, rate: int) -> None:
    if database_url.startswith("sqlite"):
        import aiosqlite

        async with aiosqlite.connect(database_url.split("///", 1)[1]) as connection:
            await connection.execute("UPDATE channels SET throughput_per_second = ?", (rate,))
            await connection.commit()
        return
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute("UPDATE channels SET throughput_per_second = $1", rate)
    finally:
        await connection.close()


# 7. memory of a 100 MB upload ------------------------------------------------------------------


def upload_memory(api: Process, account: Account, megabytes: int = 100) -> Figures:
    assert api.url is not None
    bearer = token(api.url, account.email)
    boundary = b"herald-bench"

    def body() -> Iterator[bytes]:
        yield b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; '
        yield b'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n'
        block = b"%" * (1024 * 1024)
        for _ in range(megabytes - 1):
            yield block
        yield b"\n%%EOF\r\n--" + boundary + b"--\r\n"

    before = api.rss_mb()
    api.rss_samples.clear()
    with sampling(api):
        answer = httpx.post(
            f"{api.url}/api/v2/whatsapp/media",
            content=body(),
            headers={
                "Authorization": f"Bearer {bearer}",
                "Content-Type": "multipart/form-data; boundary=herald-bench",
            },
            timeout=300,
        )
    answer.raise_for_status()
    peak = max(api.rss_samples or [0])
    return {"rss_before_mb": before, "rss_peak_mb": float(peak), "added_mb": peak - before}


def describe(value: Any) -> str:
    return f"{value:,.1f}" if isinstance(value, float) else str(value)
