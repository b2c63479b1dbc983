"""Which HTTP client should carry Herald's calls to Meta? The same POSTs (50 in flight, as the
dispatcher sends a chunk) through each candidate, against one local server; what matters is
the client's own CPU per request, since the worker's core is the dispatch limit."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import httpx

from bench.procs import free_port, wait_http

SERVER = """
from fastapi import FastAPI
app = FastAPI()
@app.post("/v23.0/{number}/messages")
async def send(number: str) -> dict:
    return {"messaging_product": "whatsapp", "messages": [{"id": "wamid.x"}]}
@app.get("/up")
async def up() -> dict:
    return {}
"""
PAYLOAD = {
    "messaging_product": "whatsapp",
    "to": "21696816277",
    "type": "template",
    "template": {"name": "t", "language": {"code": "en"}, "components": []},
}


async def _httpx(url: str, total: int, pool: int) -> float:
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:

        async def one() -> None:
            answer = await client.post(url, json=PAYLOAD, headers={"Authorization": "Bearer t"})
            answer.json()

        return await _measure(one, total)


async def _aiohttp(url: str, total: int, pool: int) -> float:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=pool)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            async with session.post(
                url, json=PAYLOAD, headers={"Authorization": "Bearer t"}
            ) as answer:
                await answer.json()

        return await _measure(one, total)


async def _measure(one: Callable[[], Awaitable[None]], total: int) -> float:
    for _ in range(200):  # warm the pool
        await one()
    started = time.process_time()
    for _ in range(total // 50):
        await asyncio.gather(*(one() for _ in range(50)))
    return (time.process_time() - started) / total * 1e6  # client CPU µs per request


def compare(total: int = 5_000) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVER + f"\nimport uvicorn; uvicorn.run(app, port={port}, log_level='warning')",
        ],
        env=dict(os.environ),
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/up")
        url = f"http://127.0.0.1:{port}/v23.0/1/messages"
        return {
            "httpx_pool_200_us": asyncio.run(_httpx(url, total, 200)),
            "httpx_pool_50_us": asyncio.run(_httpx(url, total, 50)),
            "aiohttp_pool_200_us": asyncio.run(_aiohttp(url, total, 200)),
        }
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    print(compare())
