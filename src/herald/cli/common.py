"""What every command shares: settings, a database session, output (text or ``--json``), and
errors turned into exit codes.

Imported by every command module, so it imports only typer and rich at the top: the database,
settings and error modules load inside the functions that need them, which keeps `herald --help`
and the commands that need neither the database nor the server fast to start."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from threading import Thread

    from rich.console import RenderableType
    from sqlalchemy.ext.asyncio import AsyncSession

    from herald.config import Settings
    from herald.errors import HeraldError

T = TypeVar("T")

EXIT_FAILED = 1
EXIT_NOT_FOUND = 3
EXIT_CONFLICT = 4
EXIT_CONFIG = 5
EXIT_INVALID = 6
EXIT_UNREACHABLE = 7
EXIT_REFUSED = 8  # authentication, API access, rate limit or server error
EXIT_TIMEOUT = 9

# The ``code`` of a ``--json`` error that did not come from the API, by exit code.
_ERROR_CODES = {
    EXIT_FAILED: "failed",
    EXIT_NOT_FOUND: "not_found",
    EXIT_CONFLICT: "conflict",
    EXIT_CONFIG: "configuration",
    EXIT_INVALID: "invalid_input",
    EXIT_UNREACHABLE: "unreachable",
    EXIT_REFUSED: "refused",
    EXIT_TIMEOUT: "timeout",
}

out = Console()
err = Console(stderr=True)


def command_group(**options: Any) -> typer.Typer:
    """A command group with click's plain help: rendering help through rich costs a third of
    `herald --help`'s start-up (0.17 of 0.57 s of CPU, measured on a loaded machine), and the
    commands that need neither the database nor the server must start in under 0.5 s."""
    return typer.Typer(rich_markup_mode=None, **options)


class _Output:
    """Whether this run prints JSON: one command runs per process, set by its ``--json``."""

    json = False


def _json_mode(value: bool) -> bool:
    _Output.json = value
    return value


JsonOutput = Annotated[
    bool,
    typer.Option(
        "--json",
        callback=_json_mode,
        help="Print the result as JSON on standard output (errors as JSON on standard error).",
    ),
]


def json_mode() -> bool:
    return _Output.json


def emit(data: Any, text: RenderableType | Callable[[], RenderableType]) -> None:
    """The command's result: ``data`` as JSON under ``--json``, else ``text`` for a person."""
    if _Output.json:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    shown = text() if callable(text) else text
    if isinstance(shown, str):  # as it is: no rich markup, no line breaks of rich's own
        out.print(shown, highlight=False, markup=False, soft_wrap=True)
    else:
        out.print(shown, highlight=False)


def fail(
    message: str, code: int, error_code: str | None = None, data: object | None = None
) -> NoReturn:
    """Say what went wrong on standard error and end with ``code``. ``error_code`` is the API's
    JSend ``code`` when the error came from the API."""
    if _Output.json:
        error = {
            "status": "error",
            "code": error_code or _ERROR_CODES.get(code, "failed"),
            "message": message,
            "data": data if data is not None else [],
            "exit_code": code,
        }
        sys.stderr.write(json.dumps(error, ensure_ascii=False) + "\n")
    else:
        from rich.markup import escape

        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def settings_or_exit() -> Settings:
    from herald.config import ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)


@asynccontextmanager
async def database_session(settings: Settings) -> AsyncIterator[AsyncSession]:
    from herald.db import create_engine, session_factory

    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


def run(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` and map every expected failure to a message and an exit code."""
    import asyncio

    from sqlalchemy.exc import DBAPIError

    from herald.config import ConfigError
    from herald.errors import Conflict, HeraldError, NotFound

    try:
        return asyncio.run(_awaited(work))
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    except NotFound as exc:
        fail(exc.message, EXIT_NOT_FOUND, exc.code)
    except Conflict as exc:
        fail(exc.message, EXIT_CONFLICT, exc.code)
    except HeraldError as exc:
        fail(_describe(exc), EXIT_INVALID, exc.code, exc.data)
    except (DBAPIError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        fail(database_problem(settings, reason), EXIT_CONFIG)


def database_problem(settings: Settings, reason: str) -> str:
    """The database error, with what to do about it: the usual cause is a command run with
    other settings than the server's, or a database never created."""
    from herald.db import safe_url

    url = settings.resolved_database_url
    problem = f"cannot use the database at {safe_url(url)}: {reason}."
    if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
        return f"{problem} Its tables are missing: run `herald db upgrade` with these settings."
    if settings.database_url:
        where = "HERALD_DATABASE_URL"
    else:
        where = f"HERALD_DATA_DIR (now {settings.data_dir.resolve()}) or HERALD_DATABASE_URL"
    return (
        f"{problem} Run this command with the server's settings: set {where} as the server "
        "has them; for a new installation, `herald db upgrade` creates the database."
    )


async def _awaited(work: Callable[[], Awaitable[T]]) -> T:
    import threading

    before = set(threading.enumerate())
    try:
        return await work()
    except BaseException:
        await _sqlite_threads_ended(set(threading.enumerate()) - before)
        raise


async def _sqlite_threads_ended(started: set[Thread]) -> None:
    """aiosqlite ends a connection that failed to open (a data folder that is not there) in
    the connection's own thread and does not wait for it; when ``asyncio.run`` had closed the
    loop first, the thread's answer found it closed and printed two tracebacks above the
    command's error (one run in eight). The command's own such threads are waited for here,
    with the loop open (not those of a test running the command in its process)."""
    import asyncio

    from aiosqlite import core

    for thread in started:
        if getattr(thread, "_target", None) is core._connection_worker_thread:
            await asyncio.to_thread(thread.join, 1.0)


def _describe(exc: HeraldError) -> str:
    if isinstance(exc.data, dict) and exc.data.get("errors"):
        return "; ".join(f"{e['field']}: {e['message']}" for e in exc.data["errors"])
    return exc.message
