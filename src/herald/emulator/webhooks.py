"""Signed webhooks to Herald, from one queue, in order, retried with back-off."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

BATCH = 100  # changes per POST at most: Meta, too, puts several changes in one delivery


@dataclass
class Delivery:
    body: dict[str, Any]
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    delivered: bool = False


@dataclass
class WebhookSender:
    app_secret: Callable[[], str]
    url: Callable[[], str | None]
    enabled: Callable[[], bool]
    max_attempts: Callable[[], int]
    delay: Callable[[], float] = lambda: 0.0
    log: list[Delivery] = field(default_factory=list)
    _queue: asyncio.Queue[tuple[str, dict[str, Any]]] | None = None
    _task: asyncio.Task[None] | None = None
    _http: httpx.AsyncClient | None = None

    def enqueue(self, waba_id: str, change: dict[str, Any]) -> None:
        """Queue one ``changes[]`` item of ``waba_id``'s entry; started lazily (mounted apps get
        no lifespan events)."""
        if not self.enabled() or not self.url():
            return
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._http = httpx.AsyncClient(timeout=10)
            self._task = asyncio.create_task(self._run(), name="emulator-webhooks")
        self._queue.put_nowait((waba_id, change))

    async def drained(self) -> None:
        if self._queue is not None:
            await self._queue.join()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._http is not None:
            await self._http.aclose()
        self._queue = self._task = self._http = None

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            items = [await self._queue.get()]
            while len(items) < BATCH and not self._queue.empty():
                items.append(self._queue.get_nowait())
            try:
                await self._deliver(self._envelope(items))
            finally:
                for _ in items:
                    self._queue.task_done()

    @staticmethod
    def _envelope(items: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
        entries: list[dict[str, Any]] = []
        for waba_id, change in items:
            if not entries or entries[-1]["id"] != waba_id:
                entries.append({"id": waba_id, "time": int(time.time()), "changes": []})
            entries[-1]["changes"].append(change)
        return {"object": "whatsapp_business_account", "entry": entries}

    async def _deliver(self, body: dict[str, Any]) -> None:
        assert self._http is not None
        if self.delay():
            await asyncio.sleep(self.delay())
        raw = json.dumps(body, separators=(",", ":")).encode()
        signature = hmac.new(self.app_secret().encode(), raw, hashlib.sha256).hexdigest()
        delivery = Delivery(body)
        self.log.append(delivery)
        delay = 0.2
        while delivery.attempts < self.max_attempts():
            delivery.attempts += 1
            url = self.url()
            if url is None:
                return
            try:
                answer = await self._http.post(
                    url,
                    content=raw,
                    headers={
                        "Content-Type": "application/json",
                        "X-Hub-Signature-256": f"sha256={signature}",
                    },
                )
                delivery.last_status = answer.status_code
                if answer.is_success:
                    delivery.delivered = True
                    return
            except httpx.HTTPError as exc:
                delivery.last_error = repr(exc)
            await asyncio.sleep(delay)
            delay *= 2
