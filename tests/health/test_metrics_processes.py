"""Several API processes on one machine report the same totals (multiprocess metrics)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.helpers import HERALD, herald_process
from tests.live import free_port


@pytest.fixture
def two_api_processes(tmp_path: Path) -> Iterator[list[str]]:
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {
        **os.environ,
        "HERALD_DATA_DIR": str(tmp_path),
        "PROMETHEUS_MULTIPROC_DIR": str(shared),
        "HERALD_LOG_LEVEL": "warning",
    }
    assert herald_process("db", "upgrade", env={"HERALD_DATA_DIR": str(tmp_path)}).returncode == 0
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen([HERALD, "api", "--port", str(p)], env=env, stdout=subprocess.DEVNULL)
        for p in ports
    ]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        for base in bases:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "herald api did not start"
                time.sleep(0.1)
        yield bases
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def healthz_count(base: str) -> float:
    for line in httpx.get(f"{base}/metrics").text.splitlines():
        if line.startswith(
            'herald_http_requests_total{method="GET",route="/healthz",status="200"}'
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_any_process_answers_for_all(two_api_processes: list[str]) -> None:
    first, second = two_api_processes
    before = healthz_count(first)
    for _ in range(3):
        httpx.get(f"{first}/healthz")
    for _ in range(2):
        httpx.get(f"{second}/healthz")
    assert healthz_count(first) - before == 5
    assert healthz_count(second) == healthz_count(first)
