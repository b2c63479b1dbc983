"""Messages stored as their statuses would have left them, for the analytics and exports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from herald.db import session_factory
from herald.models import Message
from tests.conftest import DatabaseUnderTest


def day(text: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(text).replace(hour=hour, tzinfo=UTC)


async def store_messages(db: DatabaseUnderTest, rows: list[dict[str, Any]]) -> list[int]:
    """One message per row: ``user_id`` and ``created_at`` given, the rest defaulted."""
    async with session_factory(db.engine)() as session:
        messages = []
        for row in rows:
            created = row["created_at"]
            values: dict[str, Any] = {
                "template_name": "order_confirmed",
                "template_language": "en",
                "phone_number": "4915112345678",
                "country_code": "DE",
                "whatsapp_bulk_group_id": "g1",
                "priority": 0,
                "content": {"body_params": []},
                "state": "delivered",
                "next_attempt_at": created,
                "deadline_at": created + timedelta(days=1),
                "attempts": 1,
                "pair_rate_hits": 0,
                "updated_at": created,
                **row,
            }
            messages.append(Message(**values))
        session.add_all(messages)
        await session.commit()
        return [m.id for m in messages]
