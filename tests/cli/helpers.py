"""Run the ``herald`` command as an operator would.

``herald()`` runs the command's own code in this process, through click's test runner: its
arguments, environment, standard input, standard output and error, and exit code, without the
second or two of CPU a new Python process spends on its imports (the CLI tests started over a
thousand). ``herald_process()`` runs the real executable, for the tests whose point is the
process: start-up, imports, signals, logs and servers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import typer
from click.testing import CliRunner

from tests.live import SERVING

HERALD = str(Path(sys.executable).parent / "herald")

# What every run sees, in either form: warnings only in logs, a wide terminal for tables.
_ENVIRONMENT = {"HERALD_LOG_LEVEL": "warning", "COLUMNS": "200"}


@dataclass
class Ran:
    """A finished command, as ``subprocess.run`` reports one."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


# The runner swaps the process's environment and standard streams while a command runs: one
# command at a time (a test may run one from a thread while its event loop serves the API).
_ONE_AT_A_TIME = threading.Lock()
# The commands call asyncio.run, which a thread of their own allows while the test's event loop
# runs in this one.
_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="herald-command")


def herald(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 60
) -> Ran | subprocess.CompletedProcess[str]:
    """``herald args...`` with ``env`` added to this process's environment; as a process while
    a server runs in this one (its logs, written meanwhile, would be in the command's output)."""
    if SERVING[0]:
        return herald_process(*args, env=env, stdin=stdin, timeout=timeout)
    from herald.cli.common import err, out
    from herald.cli.main import app

    def invoke() -> Ran:
        with _ONE_AT_A_TIME:
            # The consoles took their width from COLUMNS when imported (xdist's workers set 80).
            out.width = err.width = int(_ENVIRONMENT["COLUMNS"])
            # Captured at the file descriptors, as a process's output is: whatever reaches them
            # while the command runs (a logging handler made earlier included) is its output,
            # so "no secret printed" holds for all of it.
            result = CliRunner(capture="fd").invoke(
                typer.main.get_command(app), list(args), input=stdin, env={**_ENVIRONMENT, **env}
            )
        stderr = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            # What the process would have printed before exiting with 1.
            stderr += "".join(traceback.format_exception(result.exception))
        return Ran([HERALD, *args], result.exit_code, result.stdout, stderr)

    return _THREAD.submit(invoke).result(timeout)


def herald_process(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The real ``herald`` executable, in a process of its own."""
    return subprocess.run(
        [HERALD, *args],
        env={**os.environ, **_ENVIRONMENT, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def herald_started(args: Sequence[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``herald args...`` started in a process of its own (a server, a worker) with ``env``
    added to this process's environment, its output and errors appended to ``log``."""
    with log.open("ab") as output:  # the process has its own copy of the descriptor
        return subprocess.Popen(
            [HERALD, *args], env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
        )
