"""Scenario 5: signed webhooks acknowledged (statuses, one in five a customer's message: a text
or a quick-reply tap), beside the no-op route of the same server."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

from bench import wrk
from bench.procs import EMULATOR_SECRET, Process
from bench.scenarios import Figures
from bench.setup import Account

# 5. webhook ingest ------------------------------------------------------------------------------


# One delivery in INBOUND_EVERY is a customer's message (alternately a text and a quick-reply
# tap answering a template), the rest statuses: webhook ingest with inbound messages mixed in.
INBOUND_EVERY = 5
CUSTOMER = "21696816277"


def change_value(account: Account, n: int) -> dict[str, Any]:
    """The ``messages`` change of the ``n``-th delivery: a status, or an inbound message."""
    now = str(int(time.time()))
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": "15550000000",
            "phone_number_id": account.phone_number_id,
        },
    }
    if n % INBOUND_EVERY != INBOUND_EVERY - 1:
        value["statuses"] = [
            {
                "id": f"wamid.bench{n}",
                "status": "delivered",
                "timestamp": now,
                "recipient_id": CUSTOMER,
            }
        ]
        return value
    message: dict[str, Any] = {"from": CUSTOMER, "id": f"wamid.benchin{n}", "timestamp": now}
    if (n // INBOUND_EVERY) % 2:
        message["type"] = "button"
        message["context"] = {"from": "15550000000", "id": f"wamid.bench{n - 1}"}
        message["button"] = {"text": "Where is it?", "payload": "WHERE_IS_IT"}
    else:
        message["type"] = "text"
        message["text"] = {"body": "where is my parcel?"}
    value["contacts"] = [{"profile": {"name": "Bench Customer"}, "wa_id": CUSTOMER}]
    value["messages"] = [message]
    return value


def signed_bodies(account: Account, count: int, folder: Path) -> Path:
    path = folder / "webhooks.txt"
    with path.open("w") as out:
        for n in range(count):
            body = json.dumps(
                {
                    "object": "whatsapp_business_account",
                    "entry": [
                        {
                            "id": account.phone_number_id,
                            "changes": [
                                {
                                    "field": "messages",
                                    "value": change_value(account, n),
                                }
                            ],
                        }
                    ],
                },
                separators=(",", ":"),
            )
            digest = hmac.new(EMULATOR_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
            out.write(f"sha256={digest}\t{body}\n")
    return path


def noop(api: Process, seconds: int) -> Figures:
    assert api.url is not None
    cpu = api.cpu_seconds()
    result = wrk.run(f"{api.url}/healthz", wrk.GET_WITH_TOKEN, seconds=seconds)
    served = result.requests_per_second * seconds
    return {
        "noop_rps": result.requests_per_second,
        "api_cpu_ms_per_request": (api.cpu_seconds() - cpu) * 1000 / max(served, 1),
    }


WEBHOOK_TARGET_PER_SECOND = 3000


def at_rate(
    api: Process, bodies: Path, rate: int, latency_ms: float, seconds: int
) -> tuple[float, wrk.WrkResult]:
    """The acknowledgement time while deliveries arrive at ``rate`` a second over 64 connections
    (how Meta delivers: as events happen, not as fast as the server answers).

    wrk is closed-loop, so each connection pauses between its answer and its next request:
    a connection's cycle is its pause plus its answer's time. The pause is what is left of a
    connection's share of a second (64 / ``rate``) after the time its answers took in the
    previous run (that run's cycle, 64 / its rate, less its pause), so a run or two reach the
    rate. The pause aims 2% over the rate, and the runs stop at the rate up to 5% over it (the
    figure is judged at the rate or more, never a little under it), with no pause left (the
    saturated run again) or after four; the figure is that of the try chosen below.
    """
    assert api.url is not None
    share_ms = 64 * 1000 / (rate * 1.02)
    pause = max(0.0, share_ms - latency_ms)
    tries = []
    for _ in range(4):
        result = wrk.run(
            f"{api.url}/webhooks/whatsapp",
            wrk.SIGNED_BODIES,
            seconds=seconds,
            env={"BENCH_BODIES": str(bodies), "BENCH_DELAY_MS": f"{pause:.2f}"},
        )
        print(f"  webhooks at a rate: pause {pause:.2f} ms, {result.requests_per_second:,.0f}/s")
        tries.append(result)
        if rate <= result.requests_per_second <= rate * 1.05 or pause == 0:
            break
        answer_ms = 64 * 1000 / max(result.requests_per_second, 1) - pause
        pause = max(0.0, share_ms - answer_ms)
    # The answer times move with the load, so the tries may all miss the band: then the try
    # closest over the rate (a harder load than the rate, never an easier one), else the fastest.
    over = [r for r in tries if r.requests_per_second >= rate]
    if over:
        chosen = min(over, key=lambda r: r.requests_per_second)
    else:
        chosen = max(tries, key=lambda r: r.requests_per_second)
    return chosen.requests_per_second, chosen


def webhook_ingest(api: Process, bodies: Path, seconds: int) -> Figures:
    assert api.url is not None
    cpu = api.cpu_seconds()
    result = wrk.run(
        f"{api.url}/webhooks/whatsapp",
        wrk.SIGNED_BODIES,
        seconds=seconds,
        env={"BENCH_BODIES": str(bodies)},
    )
    cpu_ms_per_ack = (api.cpu_seconds() - cpu) * 1000 / max(result.requests_per_second * seconds, 1)
    # At 64 connections kept busy, the median is 64 / throughput (Little's law): a second, short
    # run with 8 connections shows the time one delivery waits when the server keeps up.
    few = wrk.run(
        f"{api.url}/webhooks/whatsapp",
        wrk.SIGNED_BODIES,
        connections=8,
        seconds=max(2, seconds // 2),
        env={"BENCH_BODIES": str(bodies)},
    )
    paced_rate, paced = at_rate(api, bodies, WEBHOOK_TARGET_PER_SECOND, few.p50_ms, seconds)
    return {
        "acks_per_second": result.requests_per_second,
        "api_cpu_ms_per_ack": cpu_ms_per_ack,
        "paced_acks_per_second": paced_rate,
        "paced_p50_ms": paced.p50_ms,
        "paced_p99_ms": paced.p99_ms,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "errors": float(
            result.non_2xx + result.errors + few.non_2xx + few.errors + paced.non_2xx + paced.errors
        ),
        "acks_per_second_8_connections": few.requests_per_second,
        "p50_ms_8_connections": few.p50_ms,
        "p99_ms_8_connections": few.p99_ms,
    }
