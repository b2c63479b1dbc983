"""Loops that run beside the API in `herald serve` (and alone in `herald worker`): dispatch,
webhook processing, template sync and status callbacks."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog

from herald.callback.delivery import CallbackSender, new_http_client
from herald.channel.defaults import emulator
from herald.conversation.media_fetch import MediaFetcher
from herald.dispatch.deps import DispatchDeps, DispatchSettings
from herald.dispatch.ownership import ownership_for
from herald.dispatch.worker import Dispatcher
from herald.errors import database_unavailable
from herald.kit.metrics import LOOP_BACKOFF, ROUND_FAILURES
from herald.kit.tasks import cancel_and_wait, stop_if_cancelled
from herald.media.provider_copies import ProviderCopies
from herald.media.state import media_store
from herald.message.output import message_data
from herald.meta_webhook.processor import WEBHOOK_BATCH, process_pending
from herald.meta_webhook.state import webhook_state
from herald.runtime import Runtime
from herald.template.service import ProviderContext
from herald.template.tasks import sync_templates

log = structlog.get_logger("herald.background")


class BackgroundLoops:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, dispatch: bool = True) -> None:
        self._tasks = [
            asyncio.create_task(self._webhooks(), name="herald-webhooks"),
            asyncio.create_task(self._template_sync(), name="herald-template-sync"),
            asyncio.create_task(self._callbacks(), name="herald-callbacks"),
            asyncio.create_task(self._inbound_media(), name="herald-inbound-media"),
        ]
        if dispatch:
            self._tasks.append(asyncio.create_task(self._dispatch(), name="herald-dispatch"))
            # On PostgreSQL, NOTIFYs from every API process wake this dispatcher (kit/wakeup.py).
            listen = asyncio.create_task(self.runtime.wakeup.listen(), name="herald-listen")
            self._tasks.append(listen)

    async def wait(self) -> None:
        """Run until cancelled (``herald worker``)."""
        await asyncio.gather(*self._tasks)

    async def _dispatch(self) -> None:
        runtime = self.runtime
        dispatcher = Dispatcher(
            dispatch_deps(runtime),
            ownership_for(runtime.engine, runtime.settings.resolved_database_url),
        )
        guard = RoundGuard("dispatch")
        while True:
            await guard.run(_returning_zero(dispatcher.run))

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)

    async def _webhooks(self) -> None:
        runtime = self.runtime
        poll = runtime.settings.webhook_poll_seconds
        gather = runtime.settings.webhook_gather_seconds
        guard = RoundGuard("webhooks")
        pending = webhook_state(runtime).pending
        while True:
            pending.clear()
            taken = await guard.run(lambda: process_pending(runtime.sessions, runtime.clock))
            if taken >= WEBHOOK_BATCH:
                continue  # more are waiting
            if taken:
                # Statuses come a few at a time while messages go out: taking each few in a
                # transaction of its own kept the sender's marks waiting behind a commit a few
                # milliseconds apart (SQLite's one writer; on PostgreSQL, CPU). What arrives
                # meanwhile goes in the next batch (bench: docs/benchmarks.md, "Statuses
                # gathered").
                await asyncio.sleep(gather)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(pending.wait(), timeout=poll)

    async def _callbacks(self) -> None:
        runtime = self.runtime
        async with new_http_client() as http:
            sender = CallbackSender(
                runtime.sessions,
                http,
                runtime.cipher,
                runtime.clock,
                message_data,
                runtime.settings.callbacks_allow_loopback,
                runtime.settings.callback_retry_base_seconds,
                runtime.settings.callback_timeout_seconds,
            )
            guard = RoundGuard("callbacks")
            while True:
                if not await guard.run(sender.run_once):
                    await asyncio.sleep(runtime.settings.callback_poll_seconds)

    async def _inbound_media(self) -> None:
        runtime = self.runtime
        fetcher = MediaFetcher(
            runtime.sessions,
            runtime.provider,
            media_store(runtime),
            runtime.cipher,
            runtime.clock,
            runtime.settings.upload_dir,
        )
        guard = RoundGuard("inbound_media")
        while True:
            if not await guard.run(fetcher.run_once):
                await asyncio.sleep(runtime.settings.webhook_poll_seconds)

    async def _template_sync(self) -> None:
        runtime = self.runtime
        ctx = ProviderContext(runtime.provider, runtime.cipher, emulator(runtime))
        guard = RoundGuard("template_sync")
        while True:
            await asyncio.sleep(runtime.settings.template_sync_interval_seconds)
            await guard.run(lambda: sync_templates(runtime.sessions, ctx, runtime.clock))


class RoundGuard:
    """Runs a loop's rounds: a round that fails is logged and counted, and the loop pauses
    before the next, twice as long after each failure in a row (``first_pause`` up to
    ``max_pause`` seconds), so a failure that repeats costs a log line a minute, not a hot
    loop; while the database is away, ``first_pause`` every time. The pause is in
    ``herald_loop_backoff_seconds`` until a round succeeds again.

    Items are isolated inside the rounds (docs/reliability.md): a round fails as a whole only
    when something shared does (the database, a bug outside any one item)."""

    def __init__(self, loop: str, first_pause: float = 1.0, max_pause: float = 60.0) -> None:
        self.loop = loop
        self.first_pause = first_pause
        self.max_pause = max_pause
        self.failures = 0

    async def run(self, work: Callable[[], Awaitable[int]]) -> int:
        """One round; what it returns, or 0 when it failed (after the pause)."""
        started = time.monotonic()
        try:
            done = await work()
        except Exception as exc:
            stop_if_cancelled()  # the failure may be how a cancellation came out
            if time.monotonic() - started > self.max_pause:
                self.failures = 0  # it ran a good while (the dispatcher's round never ends)
            ROUND_FAILURES.labels(self.loop).inc()
            if database_unavailable(exc):
                # Expected while it restarts: no traceback, and no growing pause, so the loops
                # resume within a second of its return.
                pause = self.first_pause
                log.warning(
                    "background.database_unavailable",
                    loop=self.loop,
                    error=type(exc).__name__,
                    pause_seconds=pause,
                )
            else:
                self.failures += 1
                pause = min(self.max_pause, self.first_pause * 2 ** (self.failures - 1))
                log.exception("background.round_failed", loop=self.loop, pause_seconds=pause)
            LOOP_BACKOFF.labels(self.loop).set(pause)
            await asyncio.sleep(pause)
            return 0
        stop_if_cancelled()  # an item may have caught it as its own failure
        if self.failures:
            self.failures = 0
            LOOP_BACKOFF.labels(self.loop).set(0)
        return done


def _returning_zero(work: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[int]]:
    async def run() -> int:
        await work()
        return 0

    return run


def dispatch_deps(runtime: Runtime) -> DispatchDeps:
    settings = runtime.settings
    return DispatchDeps(
        sessions=runtime.sessions,
        provider=runtime.provider,
        cipher=runtime.cipher,
        clock=runtime.clock,
        settings=DispatchSettings(
            lease=timedelta(seconds=settings.dispatch_lease_seconds),
            pair_spacing=timedelta(seconds=settings.pair_spacing_seconds),
            poll_seconds=settings.dispatch_poll_seconds,
            unknown_outcome_deadline=timedelta(seconds=settings.unknown_outcome_deadline_seconds),
        ),
        wake=runtime.wakeup.event,
        media=ProviderCopies(
            runtime.sessions, media_store(runtime), runtime.provider, runtime.clock
        ),
    )
