"""``template.updated``: each change of a template's state, category, quality or flag, told to
its owner's callbacks through the same outbox, signing and retries as message events.

The event is written down with the change, in its transaction (a template keeps no history a
late delivery could rebuild it from): exactly once per change, whatever found it (a webhook of
Meta's, the periodic sync, the dispatcher's look at a refused send, an import), and delivered
in order per template and endpoint (``repository.due_heads``).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.callback import repository
from herald.kit.clock import iso_utc
from herald.models import Template

EVENT_TYPE = repository.TEMPLATE_UPDATED
# What a change is: any of these differs from before.
WATCHED = ("state", "category", "quality", "rejection_reason", "flagged_at")

Snapshot = dict[str, Any]


def snapshot(template: Template) -> Snapshot:
    """The watched values before a change, to compare with after it."""
    return {name: getattr(template, name) for name in WATCHED}


def _shown(value: Any) -> Any:
    return iso_utc(value) if isinstance(value, datetime) else value


def event_of(
    template: Template, previous: Snapshot, reason: str, detail: str | None, now: datetime
) -> dict[str, Any]:
    """The event's body: the template as of the change, the values it had before (only those
    that changed), and why (Meta's event, or how Herald found out)."""
    return {
        # Random, not counted: two processes may change one template; the same for every
        # endpoint and every retry, so receivers deduplicate on it.
        "id": f"evt_template_{template.id}_{secrets.token_hex(8)}",
        "type": EVENT_TYPE,
        "created_at": iso_utc(now),
        "data": {
            "id": template.id,
            "name": template.name,
            "language": template.language,
            "state": template.state,
            "category": template.category,
            "previous_category": template.previous_category,
            "quality": template.quality,
            "rejection_reason": template.rejection_reason,
            "flagged_at": _shown(template.flagged_at),
            "updated_at": _shown(template.updated_at),
            "previous": {name: _shown(value) for name, value in previous.items()},
            "reason": reason,
            "detail": detail,
        },
    }


async def announce(
    session: AsyncSession,
    template: Template,
    before: Snapshot,
    reason: str,
    detail: str | None,
    now: datetime,
) -> bool:
    """Queue a ``template.updated`` event if the template changed since ``before``; whether
    it did."""
    previous = {k: v for k, v in before.items() if getattr(template, k) != v}
    if not previous:
        return False
    event = event_of(template, previous, reason, detail, now)
    await repository.queue_template_event(
        session, template.user_id, template.id, template.state, event, now
    )
    return True
