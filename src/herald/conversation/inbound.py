"""Customers' messages: stored once with everything their kind carries, linked to the contact
(created if new) and to the message they answer, counted in their conversation, announced to
the user's callbacks (a message with media once its file is fetched: media_fetch.py), and STOP
honoured."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.callback import inbound_events
from herald.conversation import repository
from herald.conversation.window import CUSTOMER_WINDOW
from herald.kit.phone import country_of
from herald.models import Channel
from herald.models.inbound import MEDIA_PENDING
from herald.opt_out import repository as opt_outs
from herald.provider.events import InboundMessage as InboundEvent

STOP_WORDS = {
    "stop",
    "stop all",
    "stopall",
    "unsubscribe",
    "end",
    "quit",
    "cancel",
    "opt out",
    "optout",
    "arret",
    "arrêt",
    "stopp",
    "basta",
    "alto",
}
KIND_LENGTH = 20  # inbound_messages.kind


def is_stop(text: str | None) -> bool:
    if not text:
        return False
    return re.sub(r"[^\w\s]", "", text).strip().lower() in STOP_WORDS


def sent_at(inbound: InboundEvent, now: datetime) -> datetime:
    """When the customer wrote (the window runs from it): Meta's timestamp, never later than
    now (a clock ahead must not stretch the window), now when it is unreadable."""
    return now if inbound.sent_at is None else min(inbound.sent_at, now)


def details_of(inbound: InboundEvent) -> dict[str, Any] | None:
    """The kind's own fields, as stored in ``details`` (and shown to the integrator); an
    unknown kind's object as Meta sent it."""
    details: dict[str, Any] = {}
    if inbound.media is not None:
        media = inbound.media
        details[inbound.kind] = _present(
            mime_type=media.mime_type,
            sha256=media.sha256,
            caption=media.caption,
            filename=media.filename,
            voice=media.voice,
            animated=media.animated,
        )
    if inbound.location is not None:
        location = inbound.location
        details["location"] = _present(
            latitude=location.latitude,
            longitude=location.longitude,
            name=location.name,
            address=location.address,
            url=location.url,
        )
    if inbound.contacts:
        details["contacts"] = list(inbound.contacts)
    if inbound.reaction is not None:
        details["reaction"] = {
            "message_id": inbound.reaction.message_id,
            "emoji": inbound.reaction.emoji,
        }
    if inbound.button is not None:
        details["button"] = _present(text=inbound.button.text, payload=inbound.button.payload)
    if inbound.interactive is not None:
        reply = inbound.interactive
        details["interactive"] = {
            "type": reply.type,
            reply.type: _present(id=reply.id, title=reply.title, description=reply.description),
        }
    if inbound.raw is not None:
        details.update(inbound.raw)
    if inbound.extra is not None:
        details.update(inbound.extra)
    if inbound.profile_name is not None:
        details["profile_name"] = inbound.profile_name
    return details or None


def _present(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


async def record_inbound(
    session: AsyncSession, channel: Channel, inbound: InboundEvent, now: datetime
) -> int | None:
    """Store a customer's message once (Meta delivers webhooks more than once) and open or
    extend their conversation's window; the new row's id, or None when it was known."""
    user_id, sender, text = channel.user_id, inbound.sender, inbound.text
    at = sent_at(inbound, now)
    contact_id = await repository.contact_of(
        session, user_id, sender, country_of(sender), _name(inbound.profile_name), now
    )
    reply_to = None
    if inbound.context_message_id is not None:
        reply_to = await repository.sent_message_id(session, user_id, inbound.context_message_id)
    media = inbound.media
    values: dict[str, Any] = {
        "user_id": user_id,
        "channel_id": channel.id,
        "provider_message_id": inbound.provider_message_id,
        "phone_number": sender,
        "contact_id": contact_id,
        "kind": inbound.kind[:KIND_LENGTH],
        "text": text,
        "payload": inbound.payload,
        "details": details_of(inbound),
        "context_message_id": inbound.context_message_id,
        "reply_to_message_id": reply_to,
        "provider_media_id": media.provider_media_id if media else None,
        "media_status": MEDIA_PENDING if media else None,
        # When Herald took it, as an outbound message's time is when Herald took that: a
        # conversation is ordered by them (Meta's timestamp counts whole seconds, and would put
        # a reply before the template it answers within the same second).
        "received_at": now,
    }
    inbound_id = await repository.add_inbound(session, values)
    if inbound_id is None:
        return None
    last = await repository.customer_wrote(
        session, user_id, channel.id, sender, inbound_id, at, contact_id
    )
    if media is None:  # a file is announced once it is fetched (media_fetch.py)
        await inbound_events.announce(
            session, {**values, "id": inbound_id}, last + CUSTOMER_WINDOW, None, now
        )
    if is_stop(text):
        await opt_outs.add(session, user_id, sender, None, "inbound_stop", now)
    return inbound_id


def _name(profile_name: str | None) -> str | None:
    """A profile name as a contact's first name (``contacts.firstname`` holds 100)."""
    return profile_name.strip()[:100] or None if profile_name else None
