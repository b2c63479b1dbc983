"""What every command shares: settings, a database session, and errors turned into exit codes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import NoReturn, TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.config import ConfigError, Settings, load_settings
from herald.db import create_engine, safe_url, session_factory
from herald.errors import Conflict, HeraldError, NotFound

T = TypeVar("T")

EXIT_NOT_FOUND = 3
EXIT_CONFLICT = 4
EXIT_CONFIG = 5
EXIT_INVALID = 6

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)


@asynccontextmanager
async def database_session(settings: Settings) -> AsyncIterator[AsyncSession]:
    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


def run(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` and map every expected failure to a message and an exit code."""
    try:
        return asyncio.run(_awaited(work))
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    except NotFound as exc:
        fail(exc.message, EXIT_NOT_FOUND)
    except Conflict as exc:
        fail(exc.message, EXIT_CONFLICT)
    except HeraldError as exc:
        fail(_describe(exc), EXIT_INVALID)
    except (DBAPIError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        fail(
            f"cannot use the database at {safe_url(settings.resolved_database_url)}: {reason}",
            EXIT_CONFIG,
        )


async def _awaited(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


def _describe(exc: HeraldError) -> str:
    if isinstance(exc.data, dict) and exc.data.get("errors"):
        return "; ".join(f"{e['field']}: {e['message']}" for e in exc.data["errors"])
    return exc.message
