"""A failed status arriving by webhook: the message keeps Meta's code, title and details, and
its error means what the same code means for a refused send (131050: the number opts out, as
``dispatch/effects.py`` does for a refused send). Events Herald does not act on yet (template
quality and category) are applied as nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from herald.config import Settings
from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.meta_webhook.processor import process_pending
from herald.models import Channel, Message, OptOut, User, WebhookEvent
from tests.conftest import DatabaseUnderTest
from tests.message.helpers import approved_template
from tests.meta_webhook.test_endpoints import sign


async def sent_messages(
    db: DatabaseUnderTest, ana: User, settings: Settings, now: datetime, count: int
) -> tuple[str, str, list[int]]:
    """``count`` messages of ana's, SENT on her emulator channel; (WABA id, number id, ids)."""
    template = await approved_template(db, ana, settings, now)
    async with session_factory(db.engine)() as session:
        messages = [
            Message(
                user_id=ana.id,
                channel_id=template.channel_id,
                template_id=template.id,
                template_name=template.name,
                template_language="en",
                phone_number=f"2169681627{n}",
                country_code="TN",
                whatsapp_bulk_group_id="g",
                priority=0,
                content={"body_params": ["a", "b"]},
                state="sent",
                provider_message_id=f"wamid.failed-{n}",
                created_at=now,
                next_attempt_at=now,
                deadline_at=now + timedelta(days=1),
                attempts=1,
                pair_rate_hits=0,
                sent_at=now,
                updated_at=now,
            )
            for n in range(count)
        ]
        session.add_all(messages)
        await session.commit()
        channel = await session.get(Channel, template.channel_id)
        assert channel is not None
        return channel.waba_id, channel.phone_number_id, [m.id for m in messages]


def delivery(waba_id: str, changes: list[tuple[str, dict[str, Any]]]) -> bytes:
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": waba_id,
                    "changes": [{"field": field, "value": value} for field, value in changes],
                }
            ],
        }
    ).encode()


async def test_a_failed_status_is_stored_as_meta_gave_it_and_131050_opts_the_number_out(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    now = clock.now()
    waba_id, number_id, (opted_out, undeliverable, bare) = await sent_messages(
        db, ana, settings, now, 3
    )

    def failed(n: int, errors: list[dict[str, Any]] | None) -> dict[str, Any]:
        status = {
            "id": f"wamid.failed-{n}",
            "status": "failed",
            "timestamp": str(int(now.timestamp()) + 5),
            "recipient_id": f"2169681627{n}",
        }
        return status if errors is None else {**status, "errors": errors}

    statuses = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": number_id},
        "statuses": [
            failed(
                0,
                [
                    {
                        "code": 131050,
                        "title": "Unable to deliver the message",
                        "message": "(#131050) Unable to deliver the message",
                        "error_data": {"details": "The user stopped marketing messages."},
                    }
                ],
            ),
            failed(1, [{"code": 131026, "message": "Message undeliverable"}]),
            failed(2, None),
        ],
    }
    template_news = {
        "message_template_id": 1,
        "message_template_name": "order_confirmed",
        "message_template_language": "en",
    }
    body = delivery(
        waba_id,
        [
            ("messages", statuses),
            (
                "message_template_quality_update",
                {**template_news, "previous_quality_score": "GREEN", "new_quality_score": "RED"},
            ),
            (
                "template_category_update",
                {**template_news, "previous_category": "UTILITY", "new_category": "MARKETING"},
            ),
        ],
    )
    assert (await client.post("/webhooks/whatsapp", content=body, headers=sign(body))).is_success
    assert await process_pending(session_factory(db.engine), clock) == 1

    async with session_factory(db.engine)() as session:
        rows = {
            m.id: (m.state, m.error_code, m.error_title, m.error_detail)
            for m in (await session.execute(select(Message))).scalars()
        }
        opt_outs = [
            (o.phone_number, o.source) for o in (await session.execute(select(OptOut))).scalars()
        ]
        event = (await session.execute(select(WebhookEvent))).scalars().one()
    assert rows == {
        opted_out: (
            "failed",
            "131050",
            "Unable to deliver the message",
            "The user stopped marketing messages.",
        ),
        undeliverable: ("failed", "131026", "Message undeliverable", None),
        bare: ("failed", "failed", None, None),
    }
    assert opt_outs == [("21696816270", "131050")]
    assert event.processed_at is not None
    assert event.dead_at is None
