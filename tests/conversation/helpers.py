"""Conversations made the real way: customers' messages as signed webhooks, processed."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.meta_webhook.processor import process_pending
from herald.models import Channel, Template
from tests.conftest import DatabaseUnderTest
from tests.meta_webhook.test_endpoints import sign
from tests.meta_webhook.test_failed_status import delivery

_wamids = itertools.count(1)


def text_message(
    number_id: str, sender: str, wamid: str, text: str, timestamp: str = "1700000000"
) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": number_id},
        "contacts": [{"profile": {"name": "Customer"}, "wa_id": sender}],
        "messages": [
            {
                "from": sender,
                "id": wamid,
                "timestamp": timestamp,
                "type": "text",
                "text": {"body": text},
            }
        ],
    }


@dataclass
class Customers:
    """Customers of the template's channel, writing to it at the clock's time."""

    client: httpx.AsyncClient
    db: DatabaseUnderTest
    clock: FrozenClock
    waba_id: str
    number_id: str

    @classmethod
    async def of(
        cls,
        client: httpx.AsyncClient,
        db: DatabaseUnderTest,
        clock: FrozenClock,
        template: Template,
    ) -> Customers:
        async with session_factory(db.engine)() as session:
            channel = await session.get(Channel, template.channel_id)
            assert channel is not None
            return cls(client, db, clock, channel.waba_id, channel.phone_number_id)

    def timestamp(self) -> str:
        """Meta's timestamp of a message written now (whole seconds)."""
        return str(int(self.clock.now().timestamp()))

    async def write(self, sender: str, text: str) -> str:
        wamid = f"wamid.conv-{next(_wamids)}"
        body = delivery(
            self.waba_id,
            [("messages", text_message(self.number_id, sender, wamid, text, self.timestamp()))],
        )
        answer = await self.client.post("/webhooks/whatsapp", content=body, headers=sign(body))
        assert answer.is_success, answer.text
        assert await process_pending(session_factory(self.db.engine), self.clock) == 1
        return wamid
