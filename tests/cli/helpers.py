"""Run the real ``herald`` command in a subprocess, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERALD = str(Path(sys.executable).parent / "herald")


def herald(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "HERALD_LOG_LEVEL": "warning", "COLUMNS": "200", **env}
    return subprocess.run(
        [HERALD, *args],
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
