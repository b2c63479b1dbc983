"""Wake-up latency (issue 19): from a single send's 202 to its request arriving at the provider.

The emulator stamps each send it receives with ``time.monotonic()`` (``received_at`` in
``/_emulator/messages``), the clock this process reads when the 202 arrives: one clock for the
machine, no proxy in between. Measured idle (the channel's runner waiting for work, and a few
"cold" sends after it let the channel go) and while a bulk drains on the same channel (the
single sends are transactional and must go before the queued bulk: checked by counting the
bulk messages that arrived after each). ``herald serve`` on SQLite (in-process event) and
``herald api`` + ``herald worker`` on PostgreSQL (LISTEN/NOTIFY)."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from bench import scenarios as s
from bench.procs import Process, Stack, start, start_api, start_worker, wait_http
from bench.setup import Account, prepare, token

Figures = dict[str, float]
COLD_GAP_SECONDS = 6.0  # longer than a runner's idle_seconds (5 s): the channel is let go


def wakeup(kind: str, quick: bool) -> Figures:
    """Both phases on a fresh installation of ``kind`` (sqlite: serve; postgresql: api+worker)."""
    sends, cold, bulk, behind = (30, 3, 20_000, 20) if quick else (200, 5, 50_000, 60)
    with s.stack(kind) as installation, _herald(installation, kind) as api:
        [account] = prepare(installation)
        assert api.url is not None
        bearer = token(api.url, account.email)
        with httpx.Client(base_url=api.url, timeout=60) as client:
            client.headers["Authorization"] = f"Bearer {bearer}"
            _single(client, account, "21699999999")  # warm-up: the runner, pools, caches
            _arrivals(installation, 1)
            idle = [_single(client, account, f"2169900{n:04d}") for n in _paced(sends)]
            cold_sends = []
            for n in range(cold):
                time.sleep(COLD_GAP_SECONDS)
                cold_sends.append(_single(client, account, f"2169910{n:04d}"))
            arrived = _arrivals(installation, 1 + sends + cold)
            idle_ms = _latencies(idle, arrived)
            cold_ms = _latencies(cold_sends, arrived)

            already = len(arrived)
            s.bulk_intake_partial(api, account, bulk)  # recipients 2169 + 7 digits from 0
            _until_sending(installation, already + 500)
            behind_sends = [_single(client, account, f"2169920{n:04d}") for n in _paced(behind)]
            arrived = _arrivals(installation, already + bulk + behind)
    behind_ms = _latencies(behind_sends, arrived)
    # Bulk messages the provider received after each single send: above 0, the send did not
    # wait for the queue (transactional first); the smallest over the sends is reported.
    bulk_times = sorted(t for to, t in arrived.items() if to[:5] in ("21690", "21691"))
    after = [len(bulk_times) - _count_before(bulk_times, arrived[to]) for to, _ in behind_sends]
    return {
        "idle_p50_ms": _pct(idle_ms, 50),
        "idle_p99_ms": _pct(idle_ms, 99),
        "idle_max_ms": max(idle_ms),
        "cold_max_ms": max(cold_ms),
        "behind_bulk_p50_ms": _pct(behind_ms, 50),
        "behind_bulk_p99_ms": _pct(behind_ms, 99),
        "behind_bulk_max_ms": max(behind_ms),
        "bulk_after_each_min": float(min(after)),
        "sends_idle": float(sends),
        "sends_cold": float(cold),
        "sends_behind_bulk": float(behind),
        "bulk": float(bulk),
    }


@contextmanager
def _herald(installation: Stack, kind: str) -> Iterator[Process]:
    """``herald serve`` on SQLite, ``herald api`` + ``herald worker`` on PostgreSQL."""
    port = int(installation.extra_env["HERALD_PORT"])
    if kind == "sqlite":
        process = start(
            "serve",
            ["serve", "--no-migrate", "--port", str(port)],
            installation.env(),
            installation.data_dir / "serve.log",
        )
        process.url = f"http://127.0.0.1:{port}"
        installation.api = process
        wait_http(f"{process.url}/healthz")
    else:
        process = start_api(installation, port)
        start_worker(installation)
    yield process


def _paced(count: int) -> Iterator[int]:
    """Send numbers, 0.1-0.4 s apart: never in step with a poll."""
    for n in range(count):
        yield n
        time.sleep(random.uniform(0.1, 0.4))


def _single(client: httpx.Client, account: Account, to: str) -> tuple[str, float]:
    answer = client.post(
        f"/api/v2/whatsapp/templates/{account.template_id}/send",
        json={"to": to, "country_code": "TN", "body_params": ["Sam", "A1"]},
    )
    accepted = time.monotonic()
    if answer.status_code != 202:
        raise RuntimeError(f"send answered {answer.status_code}: {answer.text[:200]}")
    return to, accepted


def _arrivals(installation: Stack, count: int, timeout: float = 900) -> dict[str, float]:
    """Recipient → when the provider received its send, once ``count`` sends arrived."""
    url = installation.emulator.url
    deadline = time.monotonic() + timeout
    while httpx.get(f"{url}/_emulator/stats", timeout=30).json()["accepted"] < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {count} sends reached the emulator")
        time.sleep(0.5)
    sent = httpx.get(f"{url}/_emulator/messages", timeout=300).json()
    return {m["to"].lstrip("+")[-11:]: m["received_at"] for m in sent}


def _until_sending(installation: Stack, count: int) -> None:
    """The bulk is being sent (so the single sends land behind a draining queue)."""
    url = installation.emulator.url
    while httpx.get(f"{url}/_emulator/stats", timeout=30).json()["accepted"] < count:
        time.sleep(0.05)


def _latencies(sends: list[tuple[str, float]], arrived: dict[str, float]) -> list[float]:
    return [(arrived[to] - accepted) * 1000 for to, accepted in sends]


def _count_before(times: list[float], moment: float) -> int:
    import bisect

    return bisect.bisect_left(times, moment)


def _pct(values: list[float], percent: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]
