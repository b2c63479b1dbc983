"""``channel.updated``: each change of a channel's health as Meta reports it (quality, messaging
limit tier, throughput, sending status, restrictions), told to its owner's callbacks through
the same outbox, signing and retries as message events.

Like ``template.updated``, the event is written down with the change, in its transaction (a
channel keeps no history a late delivery could rebuild it from), and delivered in order per
channel and endpoint (``repository.due_heads``). The channel's display number is the
business's own, not a customer's: it may be told.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.callback import repository
from herald.kit.clock import iso_utc

EVENT_TYPE = repository.CHANNEL_UPDATED


async def announce(
    session: AsyncSession,
    user_id: int,
    channel_id: int,
    status: str,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Queue one ``channel.updated`` event (``data``: the channel's health as of the change,
    as the health route shows it, with ``previous`` and ``reason``) for every endpoint of the
    user that takes it."""
    event = {
        # Random, not counted; the same for every endpoint and retry: receivers deduplicate.
        "id": f"evt_channel_{channel_id}_{secrets.token_hex(8)}",
        "type": EVENT_TYPE,
        "created_at": iso_utc(now),
        "data": data,
    }
    await repository.queue_event(
        session, user_id, EVENT_TYPE, {"channel_id": channel_id}, status.lower(), event, now
    )
