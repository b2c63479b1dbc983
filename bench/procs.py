"""Processes under test: Herald (API, worker) and the emulator, each in its own process, with
their resident memory and CPU time read from /proc."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

HERALD = str(Path(sys.executable).parent / "herald")
JWT_SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOP"
EMULATOR_TOKEN = "bench-emulator-token"
EMULATOR_SECRET = "bench-emulator-app-secret"
VERIFY_TOKEN = "bench-verify-token"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    url: str | None = None
    rss_samples: list[int] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(15)
        except subprocess.TimeoutExpired:
            self.popen.kill()


@dataclass
class Stack:
    """One Herald installation under test: its database, data dir and processes."""

    database_url: str
    data_dir: Path
    emulator: Process
    api: Process | None = None
    worker: Process | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        assert self.emulator.url is not None
        return {
            **os.environ,
            "HERALD_DATABASE_URL": self.database_url,
            "HERALD_DATA_DIR": str(self.data_dir),
            "HERALD_JWT_SECRET": JWT_SECRET,
            "HERALD_EMULATOR_URL": self.emulator.url,
            "HERALD_EMULATOR_ACCESS_TOKEN": EMULATOR_TOKEN,
            "HERALD_EMULATOR_APP_SECRET": EMULATOR_SECRET,
            "HERALD_EMULATOR_VERIFY_TOKEN": VERIFY_TOKEN,
            "HERALD_LOG_LEVEL": "warning",
            "HERALD_RATE_LIMIT_PER_SECOND": "1000000",
            "HERALD_RATE_LIMIT_BURST": "1000000",
            "HERALD_PAIR_SPACING_SECONDS": "0",
            **self.extra_env,
        }


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up")
        time.sleep(0.1)


def start(name: str, args: list[str], env: dict[str, str], log: Path) -> Process:
    popen = subprocess.Popen(
        [HERALD, *args], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    return Process(name, popen)


def start_emulator(log_dir: Path, webhook_url: str, **options: str) -> Process:
    port = free_port()
    args = [
        "emulator",
        "--port",
        str(port),
        "--webhook-url",
        webhook_url,
        "--app-secret",
        EMULATOR_SECRET,
        "--access-token",
        EMULATOR_TOKEN,
        "--approve-after",
        "0.1",
    ]
    for key, value in options.items():
        args += [f"--{key.replace('_', '-')}", value]
    process = start("emulator", args, dict(os.environ), log_dir / "emulator.log")
    process.url = f"http://127.0.0.1:{port}"
    wait_http(f"{process.url}/_emulator/stats")
    return process


def start_api(stack: Stack, port: int) -> Process:
    process = start("api", ["api", "--port", str(port)], stack.env(), stack.data_dir / "api.log")
    process.url = f"http://127.0.0.1:{port}"
    wait_http(f"{process.url}/healthz")
    stack.api = process
    return process


def start_worker(stack: Stack) -> Process:
    process = start("worker", ["worker"], stack.env(), stack.data_dir / "worker.log")
    stack.worker = process
    return process


def migrate(stack: Stack) -> None:
    subprocess.run([HERALD, "db", "upgrade"], env=stack.env(), check=True, capture_output=True)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the local PostgreSQL, dropped afterwards."""
    name = f"herald_bench_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
