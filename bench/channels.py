"""Issue 23's bench: many channels on one PostgreSQL, each paced at its own rate, two workers.

Every channel must keep within 2% of its rate with no 130429, and adding channels must not
add worker CPU per message: the same send at the same per-channel rate is run with one channel
first, then with ``channels``, on the same processes' code, one after the other in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.procs import Process, Stack, start_worker
from bench.scenarios import (
    Figures,
    _api,
    _cpu_seconds,
    attempts_by_number,
    bulk_intake_partial,
    stack,
)
from bench.setup import Account, prepare
from herald.dispatch.ownership import DISPATCHER_NAME
from herald.dispatch.worker import COUNT_DISPATCHERS_EVERY_SECONDS
from herald.emulator.records import bucket_refusals


def _send_paced(
    installation: Stack,
    accounts: list[Account],
    rate: int,
    seconds: int,
    workers: int,
    running: bool = True,
) -> Figures:
    """Send ``rate * seconds`` messages on each account's channel with ``workers`` workers,
    and measure each channel's achieved rate and the workers' CPU a message. ``running``: the
    workers run (and count each other) before the campaign comes due, as in production;
    otherwise they start on a full queue, where the first to look takes every channel and
    hands half over a second later (a pause in those channels' sending)."""
    api, emulator = installation.api, installation.emulator
    assert api is not None and emulator.url is not None
    httpx.patch(
        f"{emulator.url}/_emulator/config", json={"throughput_per_second": rate}, timeout=30
    ).raise_for_status()
    per_channel = rate * seconds
    total = per_channel * len(accounts)
    started = datetime.now(UTC)
    processes: list[Process] = []
    send_at = None
    if running:
        processes = [start_worker(installation) for _ in range(workers)]
        asyncio.run(_counted(installation.database_url, workers))
        # Due once every channel's share is queued (intake takes well under a second a 2,000).
        send_at = datetime.now(UTC) + timedelta(seconds=5 + total / 2000)
    for account in accounts:
        bulk_intake_partial(api, account, per_channel, send_at)
    if not running:
        processes = [start_worker(installation) for _ in range(workers)]
    deadline = time.perf_counter() + seconds * 4 + 60
    # The workers' CPU from their first message on (not their start-up's imports).
    first: tuple[int, float] | None = None
    each_first: list[float] = []
    while True:
        stats = httpx.get(f"{emulator.url}/_emulator/stats", timeout=30).json()
        if first is None and stats["accepted"] > 0:
            first = stats["accepted"], _cpu(processes)
            each_first = [process.cpu_seconds() for process in processes]
            machine_first = _cpu_seconds()
        if stats["accepted"] >= total or time.perf_counter() > deadline:
            break
        time.sleep(0.5)
    assert first is not None, "nothing was sent"
    worker_cpu_ms = (_cpu(processes) - first[1]) * 1000 / max(1, stats["accepted"] - first[0])
    busy, elapsed = (end - start for end, start in zip(_cpu_seconds(), machine_first, strict=True))
    # How the work was shared: the least busy worker's CPU over the busiest's (1: even).
    each = [p.cpu_seconds() - at for p, at in zip(processes, each_first, strict=True)]
    worker_balance = min(each) / max(max(each), 1e-9)
    for process in processes:
        process.stop()
    installation.worker = None
    received = httpx.get(f"{emulator.url}/_emulator/messages", timeout=120).json()
    httpx.post(f"{emulator.url}/_emulator/reset", timeout=30).raise_for_status()
    rates = sorted(_rates(received).values())
    # Whose bursts the refusals are: each number's sends replayed through the emulator's bucket
    # as they left Herald (attempts) and as they reached the emulator (accepted and refused).
    sent_at = asyncio.run(attempts_by_number(installation.database_url, started))
    arrived_at: dict[str, list[float]] = defaultdict(list)
    for message in received:
        arrived_at[message["phone_number_id"]].append(message["received_at"])
    for refused in stats["throughput_refused_at"]:
        arrived_at[refused["phone_number_id"]].append(refused["at"])
    deviations = [abs(r - rate) / rate * 100 for r in rates]
    # Pauses in a channel's sending (a hand-over, a stalled event loop, a 130429's hold).
    gaps = [
        (later - earlier) * 1000
        for times in arrived_at.values()
        for earlier, later in itertools.pairwise(sorted(times))
    ]
    return {
        "channels": float(len(accounts)),
        "rate": float(rate),
        "sent": float(len(received)),
        "expected": float(total),
        "worst_deviation_percent": max(deviations),
        "median_deviation_percent": sorted(deviations)[len(deviations) // 2],
        "slowest_per_second": rates[0],
        "fastest_per_second": rates[-1],
        "refused_130429": float(stats["refused"].get("130429", 0)),
        "bucket_refusals_as_sent": float(
            sum(bucket_refusals(sorted(times), rate) for times in sent_at.values())
        ),
        "bucket_refusals_as_arrived": float(
            sum(bucket_refusals(sorted(times), rate) for times in arrived_at.values())
        ),
        "longest_pause_ms": max(gaps),
        "pauses_over_150ms": float(sum(gap > 150 for gap in gaps)),
        "worker_cpu_ms": worker_cpu_ms,
        "worker_balance": worker_balance,
        "machine_busy_percent": busy / max(1e-9, elapsed) * 100,
    }


async def _counted(database_url: str, workers: int) -> None:
    """Until the database sees ``workers`` dispatchers (each counts the others by them)."""
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            count = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = $1 AND datname = current_database()",
                DISPATCHER_NAME,
            )
            if count >= workers:
                await asyncio.sleep(COUNT_DISPATCHERS_EVERY_SECONDS)  # and each has counted
                return
            await asyncio.sleep(0.1)
        raise RuntimeError("the workers did not start")
    finally:
        await connection.close()


def _cpu(processes: list[Process]) -> float:
    return sum(process.cpu_seconds() for process in processes)


def _rates(received: list[dict[str, Any]]) -> dict[str, float]:
    """Each channel's achieved rate: its messages after the first, over the time they took."""
    times: dict[str, list[float]] = defaultdict(list)
    for message in received:
        times[message["phone_number_id"]].append(message["received_at"])
    return {
        number: (len(moments) - 1) / (max(moments) - min(moments))
        for number, moments in times.items()
        if len(moments) > 1
    }


def many_channels(channels: int = 20, rate: int = 50, seconds: int = 20) -> dict[str, Figures]:
    """One channel, then ``channels``, each at ``rate``, with two workers, on one PostgreSQL:
    with the workers running when the campaign comes due, then started on the full queue."""
    with stack("postgresql") as installation:
        accounts = prepare(installation, users=channels, throughput=rate)
        _api(installation)
        one = _send_paced(installation, accounts[:1], rate, seconds, workers=2)
        many = _send_paced(installation, accounts, rate, seconds, workers=2)
        starting = _send_paced(installation, accounts, rate, seconds, workers=2, running=False)
    return {"one_channel": one, "many_channels": many, "many_channels_starting": starting}


SHOWN = (
    "worst_deviation_percent",
    "median_deviation_percent",
    "refused_130429",
    "bucket_refusals_as_sent",
    "longest_pause_ms",
    "pauses_over_150ms",
    "worker_cpu_ms",
    "machine_busy_percent",
)


if __name__ == "__main__":
    # How many channels at the rate this machine carries: the same scenario for each count.
    parser = argparse.ArgumentParser(prog="python -m bench.channels")
    parser.add_argument("--channels", type=int, nargs="+", default=[20])
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    for count in args.channels:
        figures = many_channels(count, args.rate, args.seconds)
        shown = {
            line: {name: round(value[name], 2) for name in SHOWN} for line, value in figures.items()
        }
        print(json.dumps({"channels": count, "rate": args.rate, **shown}), flush=True)
