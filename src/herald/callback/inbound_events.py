"""``message.received``: a customer's message, told to its user's callbacks through the same
outbox, signing and retries as message and template events.

The event is written down when the message is in Herald for good: on arrival, or, for a
message with a file, once the file is fetched into Herald's media store or given up
(``conversation/media_fetch.py``), so that the media URL an integrator receives works.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.callback import repository
from herald.kit.clock import iso_utc
from herald.media.schemas import content_path
from herald.models import MediaAsset

EVENT_TYPE = repository.MESSAGE_RECEIVED
STATE = "received"  # callback_deliveries.state of every message.received delivery


def event_of(
    inbound: Mapping[str, Any],
    window_expires_at: datetime,
    media: MediaAsset | None,
    now: datetime,
) -> dict[str, Any]:
    """The event's body: the customer's message as Herald stored it (``inbound``: its
    columns), its file (Herald's URL) and the message it answers."""
    inbound_id = inbound["id"]
    return {
        # One per message: the same for every endpoint and every retry (receivers deduplicate).
        "id": f"evt_received_{inbound_id}",
        "type": EVENT_TYPE,
        "created_at": iso_utc(now),
        "data": {
            "id": inbound_id,
            "channel_id": inbound["channel_id"],
            "from": inbound["phone_number"],
            "contact_id": inbound["contact_id"],
            "kind": inbound["kind"],
            "text": inbound["text"],
            "payload": inbound["payload"],
            "details": inbound["details"],
            "media": None
            if media is None
            else {
                "id": media.id,
                "url": content_path(media.id),
                "mime_type": media.mime_type,
                "size": media.size,
                "filename": media.filename,
            },
            "media_status": inbound["media_status"],
            "reply_to_message_id": inbound["reply_to_message_id"],
            "context_message_id": inbound["context_message_id"],
            "received_at": iso_utc(inbound["received_at"]),
            "window_expires_at": iso_utc(window_expires_at),
        },
    }


async def announce(
    session: AsyncSession,
    inbound: Mapping[str, Any],
    window_expires_at: datetime,
    media: MediaAsset | None,
    now: datetime,
) -> None:
    """Queue the ``message.received`` event for every endpoint of the user that takes it."""
    event = event_of(inbound, window_expires_at, media, now)
    await repository.queue_event(
        session,
        inbound["user_id"],
        EVENT_TYPE,
        {"inbound_message_id": inbound["id"]},
        STATE,
        event,
        now,
    )
