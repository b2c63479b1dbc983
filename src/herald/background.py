"""Loops that run beside the API in `herald serve` (and alone in `herald worker`): dispatch,
webhook processing, template sync and status callbacks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog

from herald.callback.delivery import CallbackSender, new_http_client
from herald.dispatch.deps import DispatchDeps, DispatchSettings
from herald.dispatch.ownership import ownership_for
from herald.dispatch.worker import Dispatcher
from herald.errors import database_unavailable
from herald.media.provider_copies import ProviderCopies
from herald.meta_webhook.processor import process_pending
from herald.runtime import Runtime
from herald.template.service import ProviderContext
from herald.template.tasks import sync_pending

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
        ]
        if dispatch:
            self._tasks.append(asyncio.create_task(self._dispatch(), name="herald-dispatch"))

    async def wait(self) -> None:
        """Run until cancelled (``herald worker``)."""
        await asyncio.gather(*self._tasks)

    async def _dispatch(self) -> None:
        runtime = self.runtime
        dispatcher = Dispatcher(
            dispatch_deps(runtime),
            ownership_for(runtime.engine, runtime.settings.resolved_database_url),
        )
        while True:
            try:
                await dispatcher.run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if database_unavailable(exc):
                    log.warning("background.database_unavailable", loop="dispatch")
                else:
                    log.exception("background.dispatcher_failed")
                await asyncio.sleep(1)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _webhooks(self) -> None:
        runtime = self.runtime
        poll = runtime.settings.webhook_poll_seconds
        while True:
            runtime.webhooks_pending.clear()
            taken = await _guarded(
                "webhooks", lambda: process_pending(runtime.sessions, runtime.clock)
            )
            if taken:
                continue  # more may be waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(runtime.webhooks_pending.wait(), timeout=poll)

    async def _callbacks(self) -> None:
        runtime = self.runtime
        async with new_http_client() as http:
            sender = CallbackSender(
                runtime.sessions,
                http,
                runtime.cipher,
                runtime.clock,
                runtime.settings.callbacks_allow_loopback,
                runtime.settings.callback_retry_base_seconds,
                runtime.settings.callback_timeout_seconds,
            )
            while True:
                if not await _guarded("callbacks", sender.run_once):
                    await asyncio.sleep(runtime.settings.callback_poll_seconds)

    async def _template_sync(self) -> None:
        runtime = self.runtime
        ctx = ProviderContext(runtime.provider, runtime.cipher, runtime.emulator)
        while True:
            await asyncio.sleep(runtime.settings.template_sync_interval_seconds)
            await _guarded(
                "template_sync", lambda: sync_pending(runtime.sessions, ctx, runtime.clock)
            )


async def _guarded(name: str, work: Callable[[], Awaitable[int]]) -> int:
    """Run one round; a failure is logged and the loop goes on (after a pause)."""
    try:
        return await work()
    except Exception as exc:
        if database_unavailable(exc):  # expected while it restarts: no traceback, retry soon
            log.warning("background.database_unavailable", loop=name, error=type(exc).__name__)
        else:
            log.exception("background.round_failed", loop=name)
        await asyncio.sleep(1)
        return 0


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
        wake=runtime.dispatch_pending,
        media=ProviderCopies(
            runtime.sessions, runtime.media_store, runtime.provider, runtime.clock
        ),
    )
