"""Meta's customer-service window: a business may write freely to a customer for 24 hours
after the customer's last message; outside it, only templates."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from herald.conversation import repository
from herald.errors import Conflict
from herald.kit.clock import iso_utc

CUSTOMER_WINDOW = timedelta(hours=24)


class WindowClosed(Conflict):
    code = "window_closed"
    message = (
        "The customer has not written in the last 24 hours: only a template may be sent "
        "until they write again."
    )

    @classmethod
    def since(cls, expires_at: datetime | None) -> WindowClosed:
        """``data.window_expires_at``: when the last window closed (null: the customer never
        wrote)."""
        closed = iso_utc(expires_at) if expires_at is not None else None
        return cls(data={"window_expires_at": closed})


async def window_expires_at(
    session: AsyncSession, user_id: int, channel_id: int, phone_number: str
) -> datetime | None:
    """When the window with this customer closes (or closed); None when they never wrote."""
    last = await repository.last_inbound_at(session, user_id, channel_id, phone_number)
    return None if last is None else last + CUSTOMER_WINDOW


def is_open(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is not None and now < expires_at
