"""A customer's message opens their conversation's 24-hour window, once per message however
often Meta delivers it; STOP still opts the number out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from herald.config import Settings
from herald.conversation.window import CUSTOMER_WINDOW, is_open, window_expires_at
from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.meta_webhook.processor import process_pending
from herald.models import Channel, Conversation, InboundMessage, OptOut, User
from tests.conftest import DatabaseUnderTest
from tests.message.helpers import approved_template
from tests.meta_webhook.test_endpoints import sign
from tests.meta_webhook.test_failed_status import delivery

CUSTOMER = "21696816277"


def written(
    number_id: str, wamid: str, text: str, name: str, sent_at: int = 1700000000
) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": number_id},
        "contacts": [{"profile": {"name": name}, "wa_id": CUSTOMER}],
        "messages": [
            {
                "from": CUSTOMER,
                "id": wamid,
                "timestamp": str(sent_at),
                "type": "text",
                "text": {"body": text},
            }
        ],
    }


async def test_each_message_opens_the_window_once_and_stop_opts_out(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    template = await approved_template(db, ana, settings, clock.now())
    sessions = session_factory(db.engine)
    async with sessions() as session:
        assert template.channel_id is not None
        assert await window_expires_at(session, ana.id, template.channel_id, CUSTOMER) is None
        channel = await session.get(Channel, template.channel_id)
        assert channel is not None
        waba_id, number_id = channel.waba_id, channel.phone_number_id

    async def deliver(wamid: str, text: str, name: str = "Sam") -> None:
        # Sent when Herald reads it: the window runs from Meta's timestamp of the message.
        sent_at = int(clock.now().timestamp())
        body = delivery(waba_id, [("messages", written(number_id, wamid, text, name, sent_at))])
        answer = await client.post("/webhooks/whatsapp", content=body, headers=sign(body))
        assert answer.is_success, answer.text
        assert await process_pending(sessions, clock) == 1

    first_at = clock.now()
    await deliver("wamid.in-1", "where is my parcel?")
    # Meta delivers a message again, in another delivery (the same body is stored once).
    await deliver("wamid.in-1", "where is my parcel?", name="Sam S.")
    clock.advance(timedelta(hours=2))
    await deliver("wamid.in-2", "STOP")

    async with sessions() as session:
        [conversation] = (await session.scalars(select(Conversation))).all()
        assert (conversation.user_id, conversation.phone_number) == (ana.id, CUSTOMER)
        assert conversation.unread_count == 2
        assert conversation.last_inbound_at == first_at + timedelta(hours=2)
        texts = (await session.scalars(select(InboundMessage.text).order_by("id"))).all()
        assert texts == ["where is my parcel?", "STOP"]
        expires = await window_expires_at(session, ana.id, template.channel_id, CUSTOMER)
        assert expires == first_at + timedelta(hours=2) + CUSTOMER_WINDOW
        assert is_open(expires, clock.now() + timedelta(hours=23))
        assert not is_open(expires, clock.now() + timedelta(hours=24))
        assert [o.phone_number for o in (await session.scalars(select(OptOut))).all()] == [CUSTOMER]


async def test_the_window_runs_from_when_the_customer_wrote_never_from_the_future(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    template = await approved_template(db, ana, settings, clock.now())
    sessions = session_factory(db.engine)
    async with sessions() as session:
        channel = await session.get(Channel, template.channel_id)
        assert channel is not None
        waba_id, number_id = channel.waba_id, channel.phone_number_id
    now = int(clock.now().timestamp())
    # Written an hour ago, delivered late; then one stamped an hour ahead (a clock off).
    for wamid, sent_at in (("wamid.late", now - 3600), ("wamid.ahead", now + 3600)):
        value = written(number_id, wamid, "hello", "Sam", sent_at)
        body = delivery(waba_id, [("messages", value)])
        answer = await client.post("/webhooks/whatsapp", content=body, headers=sign(body))
        assert answer.is_success, answer.text
        assert await process_pending(sessions, clock) == 1
        async with sessions() as session:
            expires = await window_expires_at(session, ana.id, channel.id, CUSTOMER)
        expected = min(sent_at, now)
        assert expires == clock.now() + timedelta(seconds=expected - now) + CUSTOMER_WINDOW
