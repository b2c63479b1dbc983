"""How long the ``herald`` command takes to start: ``python -m bench cli`` runs each command that
needs neither the database nor the server ``--runs`` times (at least 11) and takes the median
wall time and CPU time, beside the bare interpreter's start. Issue 19's target: under 0.5 s.
The CPU time moves less than the wall time when the machine is busy with other work.

``python -m bench.cli_start --pythonpath DIR`` measures another checkout's ``src`` (DIR) with
the same interpreter and packages, for a before/after. ``python -X importtime -m herald --help``
shows where the time goes."""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.procs import HERALD

SECRET = "bench-callback-secret"
SIGNATURE = "sha256=" + "0" * 64


def commands(body: Path) -> dict[str, list[str]]:
    return {
        "python_bare": [sys.executable, "-c", "pass"],
        "help": [HERALD, "--help"],
        "send_help": [HERALD, "send", "--help"],
        "keys_generate": [HERALD, "keys", "generate"],
        "callbacks_verify": [
            HERALD, "callbacks", "verify", "--secret", SECRET, "--signature", SIGNATURE, str(body)
        ],
    }  # fmt: skip


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def seconds(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command``, to its end."""
    cpu, started = _children_cpu(), time.perf_counter()
    subprocess.run(command, capture_output=True, check=False, env=env)
    return time.perf_counter() - started, _children_cpu() - cpu


def cli_start(runs: int, pythonpath: str | None = None) -> dict[str, float]:
    """Median seconds to run each command to its end, commands interleaved run by run (a busy
    moment of the machine then spreads over all of them)."""
    env = {"PATH": os.environ.get("PATH", ""), "COLUMNS": "120"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    with tempfile.TemporaryDirectory() as folder:
        body = Path(folder) / "body.json"
        body.write_bytes(b'{"id": "evt_1"}')
        measured = commands(body)
        wall: dict[str, list[float]] = {name: [] for name in measured}
        cpu: dict[str, list[float]] = {name: [] for name in measured}
        for _ in range(max(runs, 11)):
            for name, command in measured.items():
                took, used = seconds(command, env)
                wall[name].append(took)
                cpu[name].append(used)
    return {
        **{f"{name}_s": statistics.median(values) for name, values in wall.items()},
        **{f"{name}_cpu_s": statistics.median(values) for name, values in cpu.items()},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.cli_start")
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--pythonpath", help="measure this src folder instead of the installed")
    args = parser.parse_args()
    print(json.dumps(cli_start(args.runs, args.pythonpath), indent=1))
