"""The ``herald`` command itself: every command listed, a quick start, errors that say what
to do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.cli.helpers import HERALD, herald_process

COMMANDS = [
    "emulator", "send", "send-bulk", "send-text", "serve", "api", "worker", "db", "users",
    "channels", "templates", "keys", "callbacks", "media", "webhook-events", "rates",
]  # fmt: skip
# What `herald --help` and the commands needing neither the database nor the server must not
# load: each costs tenths of a second at every start.
HEAVY = ["sqlalchemy", "fastapi", "alembic", "httpx", "pydantic", "cryptography", "herald.models"]


def test_help_lists_every_command() -> None:
    done = herald_process("--help", env={})
    assert done.returncode == 0
    # Click's plain help: the commands follow "Commands:", one a line, indented.
    section = done.stdout.split("\nCommands:\n", 1)[1]
    listed = [line.split()[0] for line in section.splitlines() if line.startswith("  ")]
    assert sorted(COMMANDS) == sorted(c for c in listed if not c.startswith("-"))
    templates = herald_process("templates", "--help", env={}).stdout
    for command in ("create", "submit", "list", "wait", "approve", "reject"):
        assert f" {command} " in templates


def test_the_command_loads_nothing_heavy_until_a_command_needs_it() -> None:
    script = (
        "import sys\n"
        "from herald.cli.main import app\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "[]"


def test_a_missing_database_names_the_settings_and_db_upgrade(tmp_path: Path) -> None:
    nowhere = tmp_path / "not-the-servers-data-dir"
    missing = herald_process("users", "list", env={"HERALD_DATA_DIR": str(nowhere)})
    assert missing.returncode == 5
    # rich wraps the message at the terminal's width, so where its lines break depends on the
    # path's length (a pytest --basetemp of another length broke "herald db upgrade").
    said = " ".join(missing.stderr.split())
    assert "unable to open database file" in said
    assert f"HERALD_DATA_DIR (now {nowhere})" in said
    assert "herald db upgrade" in said

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "herald.db").touch()
    no_tables = herald_process("keys", "rotate", "--json", env={"HERALD_DATA_DIR": str(empty)})
    assert no_tables.returncode == 5
    error = json.loads(no_tables.stderr)
    assert error["code"] == "configuration"
    assert "run `herald db upgrade`" in error["message"]


def test_a_database_that_cannot_be_opened_prints_no_thread_traceback(tmp_path: Path) -> None:
    """aiosqlite ends a connection that failed to open in its own thread, without waiting for
    it; when the command's event loop had closed first, that thread printed two tracebacks
    ("Event loop is closed") above the command's error, one run in eight here. Twelve at once."""
    env = {**os.environ, "HERALD_DATA_DIR": str(tmp_path / "nowhere")}
    runs = [
        subprocess.Popen(
            [HERALD, "users", "list"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(12)
    ]
    for run in runs:
        _, stderr = run.communicate(timeout=120)
        assert run.returncode == 5, stderr
        assert "Traceback" not in stderr, stderr


def test_commands_without_database_or_server_print_json() -> None:
    key = herald_process("keys", "generate", "--json", env={})
    assert key.returncode == 0
    assert len(json.loads(key.stdout)["key"]) == 44
