"""Apply stored webhook events, idempotently, off the request path."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.channel.health import apply_account_event
from herald.conversation.inbound import record_inbound
from herald.db import lost_to_another
from herald.kit.clock import Clock
from herald.kit.metrics import ITEM_FAILURES, SET_ASIDE, WEBHOOK_LAG, WEBHOOKS_APPLIED
from herald.message.limit import release_held
from herald.message.statuses import (
    StatusBatch,
    apply_status,
    channel_of,
    prefetch_messages,
    record_changed_states,
)
from herald.meta_webhook import repository
from herald.models import WebhookEvent
from herald.provider.account_events import AccountUpdate, CapabilityUpdate, NumberQualityUpdate
from herald.provider.events import (
    InboundMessage,
    MessageStatus,
    ProviderEvent,
    TemplateCategoryUpdate,
    TemplateQualityUpdate,
    TemplateStatusUpdate,
    parse_webhook,
)
from herald.template.provider_news import apply_provider_event

log = structlog.get_logger("herald.meta_webhook")

MAX_ATTEMPTS = 5
BATCH_ATTEMPTS = 3  # a batch PostgreSQL ended for a concurrent transaction's sake goes again
WEBHOOK_BATCH = 200  # stored webhooks (each up to a hundred changes) applied in one transaction


async def apply_events(session: AsyncSession, events: Sequence[WebhookEvent], clock: Clock) -> None:
    """Apply events in order, in the caller's transaction. The messages their statuses name
    are loaded together first, and the changed rows are written and their callbacks queued
    once at the end: a batch costs a few statements, not a few per status."""
    parsed = [(event, parse_webhook(event.payload)) for event in events]
    batch = StatusBatch()
    await prefetch_messages(
        session,
        batch,
        [
            e
            for _, provider_events in parsed
            for e in provider_events
            if isinstance(e, MessageStatus)
        ],
    )
    for event, provider_events in parsed:
        now = clock.now()
        for provider_event in provider_events:
            await _apply(session, batch, provider_event, now)
        event.processed_at = now
        # Statuses of prefetched messages apply without I/O: let the dispatcher, which shares
        # this event loop, keep its pace between events.
        await asyncio.sleep(0)
    await session.flush()
    await record_changed_states(session, batch, clock.now())
    for event, _ in parsed:
        assert event.processed_at is not None
        WEBHOOKS_APPLIED.inc()
        WEBHOOK_LAG.observe(max(0.0, (event.processed_at - event.received_at).total_seconds()))


async def _apply(
    session: AsyncSession, batch: StatusBatch, event: ProviderEvent, now: datetime
) -> None:
    """One event, by its type: a message's status or reply, a template's status, quality or
    category, a number's or an account's health."""
    if isinstance(event, MessageStatus | InboundMessage):
        channel = await channel_of(session, batch, event.waba_id, event.phone_number_id)
        if channel is None:
            return
        if isinstance(event, MessageStatus):
            await apply_status(session, batch, channel, event, now)
        else:
            await record_inbound(session, channel, event, now)
    elif isinstance(event, TemplateStatusUpdate | TemplateQualityUpdate | TemplateCategoryUpdate):
        await apply_provider_event(session, event, now)
    elif isinstance(event, NumberQualityUpdate | AccountUpdate | CapabilityUpdate):
        await apply_account_event(session, event, now, tier_changed=release_held)


async def process_pending(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, batch: int = WEBHOOK_BATCH
) -> int:
    """Apply up to ``batch`` pending events in one transaction; returns how many were taken.

    A batch PostgreSQL ends in a deadlock goes again whole. When it fails otherwise, each
    event is retried alone so that one bad event cannot block the rest; an event failing
    ``MAX_ATTEMPTS`` times is set aside (``dead_at``) with its error.
    """
    async with sessions() as session:
        ids = await repository.pending_ids(session, batch)
    if not ids:
        return 0
    for _ in range(BATCH_ATTEMPTS):
        try:
            async with sessions() as session:
                await apply_events(session, await repository.claim(session, ids), clock)
                await session.commit()
            return len(ids)
        except Exception as exc:
            # A deadlock with another transaction on the same messages says nothing about the
            # events: the batch goes again whole (one by one, it cost 200 transactions).
            if not lost_to_another(exc):
                break
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
            await apply_events(session, [event], clock)
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
            ITEM_FAILURES.labels("webhooks").inc()
            if event.attempts >= MAX_ATTEMPTS:
                event.processed_at = event.dead_at = clock.now()
                SET_ASIDE.labels("webhooks").inc()
                log.error("webhook.event_set_aside", event_id=event_id, error=type_of(error))
            else:
                log.warning("webhook.event_failed", event_id=event_id, error=type_of(error))
            await session.commit()


def type_of(error: str) -> str:
    """The exception's name only: its text may quote the payload (phone numbers)."""
    return error.split(":", 1)[0]
