"""Signed webhooks to Herald, from one queue, in order, retried as Meta retries them.

Meta retries a webhook its endpoint did not take (no answer, or not a 2xx) "with decreasing
frequency" for up to seven days. So does this sender: a delivery is tried again after 0.2 s,
then twice as long each time up to ``retry_cap`` seconds between tries, until ``retry_window``
seconds (seven days by default) have passed since its first try. With a state file, every
webhook not yet delivered is kept there, with when it is due, and sent after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from herald.emulator.persistence import StateFile, StoredWebhook
from herald.kit.tls import client_tls

log = structlog.get_logger("herald.emulator")

BATCH = 100  # changes per POST at most: Meta, too, puts several changes in one delivery
FIRST_RETRY_SECONDS = 0.2
SEVEN_DAYS = 7 * 24 * 3600.0


@dataclass
class Delivery:
    # The signed bytes as sent, not the parsed body: three statuses a send, kept for the whole
    # run, made hundreds of thousands of dicts for the cyclic collector to walk, and its full
    # collections (up to 175 ms at 1,000 sends a second) stalled the event loop long enough to
    # bunch evenly spaced sends into bursts the throughput check refused.
    raw: bytes
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    delivered: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "body": json.loads(self.raw),
            "attempts": self.attempts,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "delivered": self.delivered,
        }


@dataclass
class WebhookSender:
    app_secret: Callable[[], str]
    url: Callable[[], str | None]
    enabled: Callable[[], bool]
    max_attempts: Callable[[], int | None]  # None: until the retry window closes
    delay: Callable[[], float] = lambda: 0.0
    retry_cap: Callable[[], float] = lambda: 60.0
    retry_window: Callable[[], float] = lambda: SEVEN_DAYS
    store: StateFile | None = None
    log: list[Delivery] = field(default_factory=list)
    _queue: asyncio.Queue[StoredWebhook] | None = None
    _task: asyncio.Task[None] | None = None
    _http: httpx.AsyncClient | None = None
    _timers: set[asyncio.TimerHandle] = field(default_factory=set)
    _seqs: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def enqueue(self, waba_id: str, change: dict[str, Any], delay: float = 0.0) -> None:
        """Queue one ``changes[]`` item of ``waba_id``'s entry, to leave in ``delay`` seconds;
        kept in the state file (if any) until it is delivered."""
        if not self.enabled() or not self.url():
            return
        webhook = StoredWebhook(next(self._seqs), waba_id, time.time() + delay, change)
        if self.store is not None:
            self.store.add_webhook(webhook)
        self._schedule(webhook, delay)

    def number_after(self, webhooks: list[StoredWebhook]) -> None:
        """Number new webhooks after those a previous run left (their rows stay theirs)."""
        if webhooks:
            self._seqs = itertools.count(max(w.seq for w in webhooks) + 1)

    def restore(self, webhooks: list[StoredWebhook]) -> None:
        """Send the webhooks a previous run left undelivered, each when it is due."""
        now = time.time()
        for webhook in webhooks:
            self._schedule(webhook, webhook.due_at - now)

    def _schedule(self, webhook: StoredWebhook, delay: float) -> None:
        """Into the queue now, or after ``delay`` through a timer handle (not a task: three
        statuses a send, and a task with its sleep costs several times the handle's CPU)."""
        if delay <= 0:
            self._put(webhook)
            return

        def due() -> None:
            self._timers.discard(handle)
            self._put(webhook)

        handle = asyncio.get_running_loop().call_later(delay, due)
        self._timers.add(handle)

    def _put(self, webhook: StoredWebhook) -> None:
        # Started lazily: mounted apps get no lifespan events.
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._http = httpx.AsyncClient(timeout=10, verify=client_tls())
            self._task = asyncio.create_task(self._run(), name="emulator-webhooks")
        self._queue.put_nowait(webhook)

    async def drained(self) -> None:
        if self._queue is not None:
            await self._queue.join()

    async def aclose(self) -> None:
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
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
                if await self._deliver(self._envelope(items)) and self.store is not None:
                    self.store.remove_webhooks(item.seq for item in items)
            finally:
                for _ in items:
                    self._queue.task_done()

    @staticmethod
    def _envelope(items: list[StoredWebhook]) -> dict[str, Any]:
        entries: list[dict[str, Any]] = []
        for item in items:
            if not entries or entries[-1]["id"] != item.waba_id:
                entries.append({"id": item.waba_id, "time": int(time.time()), "changes": []})
            entries[-1]["changes"].append(item.change)
        return {"object": "whatsapp_business_account", "entry": entries}

    async def _deliver(self, body: dict[str, Any]) -> bool:
        """Try until the endpoint takes it or the retry window closes (True: settled, either
        way); False: left for a later run (the webhook URL was unset meanwhile)."""
        assert self._http is not None
        if self.delay():
            await asyncio.sleep(self.delay())
        raw = json.dumps(body, separators=(",", ":")).encode()
        signature = hmac.new(self.app_secret().encode(), raw, hashlib.sha256).hexdigest()
        delivery = Delivery(raw)
        self.log.append(delivery)
        first_try, wait = time.monotonic(), FIRST_RETRY_SECONDS
        while True:
            url = self.url()
            if url is None:
                return False
            delivery.attempts += 1
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
                    return True
            except httpx.HTTPError as exc:
                delivery.last_error = repr(exc)
            limit = self.max_attempts()
            spent = time.monotonic() - first_try
            if (limit is not None and delivery.attempts >= limit) or spent > self.retry_window():
                log.warning("emulator.webhook_given_up", attempts=delivery.attempts)
                return True  # as Meta does: dropped for good
            await asyncio.sleep(wait)
            wait = min(wait * 2, self.retry_cap())
