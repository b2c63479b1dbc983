"""Meta refused a template for the business's messaging limit (unique customers a rolling 24 h):
the account is past its tier although intake holds the excess (``message/limit.py``), because
several API processes raced past it between two reads, or Meta counts customers Herald did
not see. The refused messages are held, not failed, and so are the account's other queued
templates to customers it has not sent to in the window: each would be refused too."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from herald.dispatch import limit_repository as repository
from herald.models.message import MESSAGING_LIMIT_WINDOW as WINDOW

log = structlog.get_logger("herald.dispatch")

# Herald knows of no template sent in the window (Meta counts others): look again after this.
UNKNOWN_WINDOW_WAIT = timedelta(hours=1)
# A held message keeps at least this long past its hold to be sent before its deadline.
HOLD_DEADLINE_GRACE = timedelta(hours=1)


async def hold_after_refusal(
    session: AsyncSession, user_id: int, waba_id: str, refused: Sequence[int], now: datetime
) -> datetime:
    """Hold the refused messages and the WABA's queued templates to new customers until the
    window frees: the oldest template it sent in the window, 24 h on. Returns that time. The
    caller commits."""
    channel_ids = await repository.user_waba_channels(session, user_id, waba_id)
    since = now - WINDOW
    oldest = await repository.window_frees(session, channel_ids, since)
    until = oldest + WINDOW if oldest is not None else now + UNKNOWN_WINDOW_WAIT
    until = max(until, now + timedelta(seconds=1))
    held = await repository.hold_new_customers(
        session, channel_ids, refused, since, until, until + HOLD_DEADLINE_GRACE, now
    )
    log.warning("dispatch.held_for_messaging_limit", count=held)
    return until
