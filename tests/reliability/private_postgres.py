"""A PostgreSQL server of the test's own, on a free port, that the test may stop and start
without disturbing the machine's server (which other tests and sessions share)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.live import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed")
    return found[-1]


def _as_postgres(*command: str) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


@dataclass
class PrivatePostgres:
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres(_bin("pg_ctl"), "-D", str(self.folder / "data"), "-w", *args),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        self._ctl(
            "-o",
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off",
            "-l",
            str(self.folder / "server.log"),
            "start",
        )

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def restart(self, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    folder = Path(tempfile.mkdtemp(prefix="herald-pg-"))
    shutil.chown(folder, "postgres", "postgres") if os.geteuid() == 0 else None
    subprocess.run(
        _as_postgres(
            _bin("initdb"),
            "-D",
            str(folder / "data"),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = PrivatePostgres(folder, free_port())
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
