"""Serve an ASGI app on a real loopback port inside the test's event loop (real HTTP, no mocks)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn


def free_port() -> int:
    """A port free now; another process may take it before it is used (prefer ``listening``)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def listening(port: int = 0) -> socket.socket:
    """A loopback socket bound now and held until a server takes it: no other process (another
    xdist worker, another suite on the machine) can take its port in between, as it can
    between ``free_port()`` and a later bind."""
    # IPPROTO_TCP named, not left 0: asyncio sets TCP_NODELAY only on connections whose socket
    # says TCP, and without it a response written in two parts (head, then body) waited for the
    # client's delayed ACK, 40 ms a request.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, told when to stop rather than polling for it.

    uvicorn checks ``should_exit`` every 0.1 s, then sleeps 0.1 s for connections to close and
    polls for them and its tasks every 0.1 s: 0.2-0.4 s of a test's teardown a server, and a
    live test has two (Herald and the emulator). Stopping is what a test waits for, so it is
    awaited here; what uvicorn does on the way (close the listener, shut every connection down,
    let the requests running finish, then the lifespan's shutdown) is unchanged."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self.should_exit = True
        self._stop.set()

    async def main_loop(self) -> None:
        while not self.should_exit:
            await self.on_tick(0)  # refreshes the Date header, as uvicorn's loop does each second
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=1.0)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        # Connections end once their request has been answered; no timeout, as uvicorn's own
        # default (serve_app bounds the whole stop). Polled: uvicorn's sets of connections and
        # tasks come with no event to wait on.
        while self.server_state.connections or self.server_state.tasks:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()


# How many servers run in this process now: a command run in-process while one does would get
# the server's logs in its output (tests/cli/helpers.py runs it as a process then).
SERVING = [0]


@asynccontextmanager
async def serve_app(
    app: Any, port: int | None = None, sock: socket.socket | None = None
) -> AsyncIterator[str]:
    """Run ``app`` (lifespan included) under uvicorn on ``sock`` (else a socket bound here, on
    ``port`` or any free one); yields its base URL, stops it on exit."""
    sock = sock or listening(port or 0)
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
    )
    server = _Server(config)
    # The test runner owns signals (Ctrl-C must stop pytest, not this server).
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    SERVING[0] += 1
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("server stopped before it started")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        SERVING[0] -= 1
        server.stop()
        stopped, _ = await asyncio.wait({task}, timeout=8)
        if not stopped:  # say what is still running before the stop times out
            for running in asyncio.all_tasks():
                print(f"still running: {running.get_name()}", file=sys.stderr)
                running.print_stack(file=sys.stderr)
        await asyncio.wait_for(task, timeout=10)
        sock.close()
