"""The ``herald`` command.

Modules here import only typer and rich at the top; everything heavier (the database, the web
framework, alembic, the features) is imported inside the command that needs it, so that
`herald --help` and the commands that need neither the database nor the server start at once
(docs/benchmarks.md, "CLI start-up")."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from herald.cli import (
    callbacks,
    channels,
    keys,
    media,
    rates,
    send,
    templates,
    users,
    webhook_events,
)
from herald.cli.common import (
    EXIT_CONFIG,
    JsonOutput,
    command_group,
    database_session,
    emit,
    fail,
    run,
    settings_or_exit,
)
from herald.emulator.cli import run_emulator

if TYPE_CHECKING:
    import asyncio
    import socket

    import uvicorn

    from herald.config import Settings

app = command_group(
    help="Herald: a self-hosted WhatsApp template-messaging gateway.", no_args_is_help=True
)
db = command_group(help="Database schema.", no_args_is_help=True)
app.add_typer(db, name="db")
app.add_typer(users.app, name="users")
app.add_typer(channels.app, name="channels")
app.add_typer(templates.app, name="templates")
app.add_typer(keys.app, name="keys")
app.add_typer(callbacks.app, name="callbacks")
app.add_typer(media.app, name="media")
app.add_typer(rates.app, name="rates")
app.add_typer(webhook_events.app, name="webhook-events")
app.command("emulator", help="Run the Cloud API emulator on its own.")(run_emulator)
app.command("send")(send.send)
app.command("send-bulk")(send.send_bulk)
app.command("send-text")(send.send_text)


def _upgrade(settings: Settings) -> str | None:
    from herald import migrate
    from herald.db import create_engine

    async def work() -> str | None:
        if settings.resolved_database_url.startswith("sqlite"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.resolved_database_url)
        try:
            await migrate.upgrade(engine)
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    return run(settings, work)


@db.command("upgrade")
def db_upgrade(as_json: JsonOutput = False) -> None:
    """Apply every pending migration (creates the SQLite file and data directory if needed)."""
    from herald.db import safe_url

    settings = settings_or_exit()
    revision = _upgrade(settings)
    database = safe_url(settings.resolved_database_url)
    emit(
        {"database": database, "revision": revision},
        f"Database {database} is at revision {revision}.",
    )


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Default HERALD_HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Default HERALD_PORT or 8080.")] = None,
    migrate_first: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Apply migrations before serving.")
    ] = True,
    background: Annotated[
        bool, typer.Option(hidden=True, help="Run the dispatcher and webhook loops in-process.")
    ] = True,
) -> None:
    """Run Herald on one machine: the API (and, as they land, the dispatcher and scheduler)."""
    import uvicorn

    from herald.app import create_app
    from herald.config import ConfigError
    from herald.kit.heap import freeze_startup_heap
    from herald.kit.http_protocol import JSendHttpToolsProtocol
    from herald.logging import configure_logging

    settings = settings_or_exit()
    # The built-in emulator's addresses derive from the port: keep settings in step with it.
    overrides: dict[str, object] = {"host": host or settings.host, "port": port or settings.port}
    if not background:
        overrides["background_tasks"] = False
    settings = settings.model_copy(update=overrides)
    configure_logging(settings.resolved_log_format, settings.log_level)
    # The port and the database first: a start that cannot serve ends here, before the app's
    # lifespan starts any loop (uvicorn binds only after the lifespan has run).
    listening = _listening_socket(settings.host, settings.port)
    if migrate_first:
        _upgrade(settings)
    else:
        _require_database(settings)
    try:
        application = create_app(settings)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    config = uvicorn.Config(
        application,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        http=JSendHttpToolsProtocol,  # malformed requests get JSend too
    )
    freeze_startup_heap()
    _run_server(config, listening)


def _run_server(config: uvicorn.Config, listening: socket.socket) -> None:
    import uvicorn

    from herald.kit.heap import freeze_startup_heap

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)  # the app's lifespan has run: pools, runtime, caches
            freeze_startup_heap()

    Server(config).run(sockets=[listening])


def _listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound (as uvicorn binds it) or exit 5: the port is taken or the
    address is not this machine's."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not left 0: asyncio's event loop sets TCP_NODELAY only on connections
    # whose socket says TCP, and without it each response written in two parts (head, then
    # body) waited 40 ms for the client's delayed ACK (uvloop sets it either way).
    listening = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError as exc:
        listening.close()
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_CONFIG)
    listening.set_inheritable(True)
    return listening


def _require_database(settings: Settings) -> None:
    """Exit 5 unless the database can be reached and has Herald's tables (a worker or API
    process never creates or migrates it: `herald db upgrade` and `herald serve` do)."""
    from sqlalchemy.engine import make_url

    from herald import migrate
    from herald.db import create_engine, safe_url

    url = settings.resolved_database_url
    parsed = make_url(_normalised_url_or_exit(url))
    path = parsed.database if parsed.drivername.startswith("sqlite") else None
    if path not in (None, "", ":memory:") and not Path(str(path)).exists():
        # Connecting would create an empty file, and the loops would fail on it every second.
        fail(f"no database at {path}: run `herald db upgrade` first", EXIT_CONFIG)

    async def work() -> str | None:
        engine = create_engine(url)
        try:
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    if run(settings, work) is None:
        fail(
            f"the database at {safe_url(url)} has no Herald tables: run `herald db upgrade` first",
            EXIT_CONFIG,
        )


def _normalised_url_or_exit(url: str) -> str:
    from herald.config import ConfigError
    from herald.db import normalise_database_url

    try:
        return normalise_database_url(url)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)


@app.command("api")
def api(
    host: Annotated[str | None, typer.Option(help="Default HERALD_HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Default HERALD_PORT or 8080.")] = None,
) -> None:
    """Scale-out: the HTTP API only (run `herald worker` processes beside it)."""
    serve(host=host, port=port, migrate_first=False, background=False)


@app.command("worker")
def worker(
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve this worker's Prometheus metrics on 127.0.0.1:PORT/metrics."),
    ] = None,
) -> None:
    """Scale-out: the dispatcher, webhook processing, template sync and callbacks, no API.

    SIGTERM (a deploy's stop) and Ctrl-C stop it cleanly: what was sent is recorded and what
    was claimed but not sent goes back to the queue at once, none of it "outcome unknown"."""
    import asyncio
    import contextlib
    import signal

    from prometheus_client import start_http_server

    from herald.background import BackgroundLoops
    from herald.features import FEATURES
    from herald.kit.heap import freeze_startup_heap
    from herald.logging import configure_logging
    from herald.runtime import open_runtime

    settings = settings_or_exit()
    configure_logging(settings.resolved_log_format, settings.log_level)
    _require_database(settings)
    if metrics_port is not None:
        start_http_server(metrics_port, addr="127.0.0.1")

    async def work() -> None:
        stopping = asyncio.Event()
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows' loop
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
        async with open_runtime(settings, features=FEATURES) as runtime:
            freeze_startup_heap()  # again, with the runtime's pools and caches made
            loops = BackgroundLoops(runtime)
            loops.start()
            try:
                # Each loop is cancelled once, by stop(): a second cancel would cut short
                # the dispatcher's own stopping (recording its sends, giving back the rest).
                running = asyncio.ensure_future(loops.wait())
                signalled = asyncio.ensure_future(stopping.wait())
                await asyncio.wait([running, signalled], return_when=asyncio.FIRST_COMPLETED)
                signalled.cancel()
                if running.done():
                    running.result()  # a loop that failed ends the worker with its error
            finally:
                await loops.stop()

    freeze_startup_heap()
    with (
        contextlib.suppress(KeyboardInterrupt),
        asyncio.Runner(loop_factory=fastest_event_loop()) as runner,
    ):
        runner.run(work())


def fastest_event_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed (a dependency on Linux and macOS; `herald api` and `serve`
    already run on it through uvicorn), else asyncio's own loop. Measured on the worker
    dispatching to the emulator, interleaved: 2.37-2.55 ms of CPU a message on asyncio's loop,
    1.93-2.19 ms on uvloop (docs/benchmarks.md)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        return None
    return uvloop.new_event_loop


__all__ = ["app", "database_session"]
