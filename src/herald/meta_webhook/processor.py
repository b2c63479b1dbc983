"""Apply stored webhook events, idempotently, off the request path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import orjson
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.kit.clock import Clock
from herald.kit.metrics import WEBHOOK_LAG, WEBHOOKS_APPLIED
from herald.message.statuses import apply_messages_change, record_changed_states
from herald.meta_webhook import repository
from herald.models import WebhookEvent
from herald.template.service import apply_provider_event

log = structlog.get_logger("herald.meta_webhook")

MAX_ATTEMPTS = 5
Handler = Callable[[AsyncSession, str, dict[str, Any], datetime], Awaitable[int]]

# One handler per ``changes[].field``; fields Herald does not know are ignored.
HANDLERS: dict[str, Handler] = {
    "message_template_status_update": apply_provider_event,
    "messages": apply_messages_change,
}


async def apply_event(session: AsyncSession, event: WebhookEvent, now: datetime) -> None:
    envelope = orjson.loads(event.payload)
    for entry in envelope.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        for change in entry.get("changes") or []:
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                continue
            handler = HANDLERS.get(str(change.get("field")))
            if handler is not None:
                await handler(session, str(entry.get("id")), change["value"], now)
    await session.flush()
    await record_changed_states(session, now)
    event.processed_at = now
    WEBHOOKS_APPLIED.inc()
    WEBHOOK_LAG.observe(max(0.0, (now - event.received_at).total_seconds()))


async def process_pending(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, batch: int = 200
) -> int:
    """Apply up to ``batch`` pending events in one transaction; returns how many were taken.

    When the batch fails, each event is retried alone so that one bad event cannot block the
    rest; an event failing ``MAX_ATTEMPTS`` times is set aside with its error.
    """
    async with sessions() as session:
        ids = await repository.pending_ids(session, batch)
        if not ids:
            return 0
        try:
            for event in await repository.claim(session, ids):
                await apply_event(session, event, clock.now())
            await session.commit()
            return len(ids)
        except Exception:
            await session.rollback()
    for event_id in ids:
        await _process_alone(sessions, event_id, clock)
    return len(ids)


async def _process_alone(
    sessions: async_sessionmaker[AsyncSession], event_id: int, clock: Clock
) -> None:
    async with sessions() as session:
        events: Sequence[WebhookEvent] = await repository.claim(session, [event_id])
        if not events:
            return
        event = events[0]
        try:
            await apply_event(session, event, clock.now())
            await session.commit()
            return
        except Exception as exc:
            await session.rollback()
            error = f"{type(exc).__name__}: {exc}"[:1000]
    async with sessions() as session:
        events = await repository.claim(session, [event_id])
        if events:
            event = events[0]
            event.attempts += 1
            event.last_error = error
            if event.attempts >= MAX_ATTEMPTS:
                event.processed_at = clock.now()
                log.error("webhook.event_abandoned", event_id=event_id, error=error)
            await session.commit()
