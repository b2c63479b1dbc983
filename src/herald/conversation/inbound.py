"""Customers' messages: stored once, counted in their conversation, STOP honoured."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from herald.conversation import repository
from herald.models import Channel
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


def is_stop(text: str | None) -> bool:
    if not text:
        return False
    return re.sub(r"[^\w\s]", "", text).strip().lower() in STOP_WORDS


async def record_inbound(
    session: AsyncSession, channel: Channel, inbound: InboundEvent, now: datetime
) -> int | None:
    """Store a customer's message once (Meta delivers webhooks more than once) and open or
    extend their conversation's window; the new row's id, or None when it was known."""
    sender, text = inbound.sender, inbound.text
    inbound_id = await repository.add_inbound(
        session,
        channel.user_id,
        channel.id,
        inbound.provider_message_id,
        sender,
        inbound.kind[:20],
        text,
        inbound.context_message_id,
        now,
    )
    if inbound_id is None:
        return None
    await repository.customer_wrote(session, channel.user_id, channel.id, sender, inbound_id, now)
    if is_stop(text):
        await opt_outs.add(session, channel.user_id, sender, None, "inbound_stop", now)
    return inbound_id
