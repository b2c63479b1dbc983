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
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def serve_app(app: Any, port: int | None = None) -> AsyncIterator[str]:
    """Run ``app`` (lifespan included) under uvicorn; yields its base URL, stops it on exit."""
    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    # The test runner owns signals (Ctrl-C must stop pytest, not this server).
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("server stopped before it started")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        stopped, _ = await asyncio.wait({task}, timeout=8)
        if not stopped:  # say what is still running before the stop times out
            for running in asyncio.all_tasks():
                print(f"still running: {running.get_name()}", file=sys.stderr)
                running.print_stack(file=sys.stderr)
        await asyncio.wait_for(task, timeout=10)
