"""Webhook events the processing loop set aside, for operators (``herald webhook-events``):
they belong to no one user, so no API route shows them. Listed with their error, and applied
again once the cause is fixed (applying is idempotent)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from herald.errors import Conflict, NotFound
from herald.meta_webhook import repository
from herald.models import WebhookEvent


class WebhookEventNotFound(NotFound):
    code = "webhook_event_not_found"
    message = "Webhook event not found."


class WebhookEventNotSetAside(Conflict):
    code = "webhook_event_not_set_aside"
    message = "This webhook event was not set aside: it is applied, or waiting to be."


def state(event: WebhookEvent) -> str:
    if event.dead_at is not None:
        return "set_aside"
    return "pending" if event.processed_at is None else "applied"


async def recent(session: AsyncSession, set_aside_only: bool, limit: int) -> Sequence[WebhookEvent]:
    return await repository.recent(session, set_aside_only, limit)


async def retry(session: AsyncSession, event_id: int) -> WebhookEvent:
    """Put a set-aside event back in the queue with fresh attempts; its last error stays until
    an attempt replaces it."""
    event = await repository.get(session, event_id)
    if event is None:
        raise WebhookEventNotFound()
    if event.dead_at is None:
        raise WebhookEventNotSetAside(data={"state": state(event)})
    event.dead_at = event.processed_at = None
    event.attempts = 0
    await session.flush()
    return event
