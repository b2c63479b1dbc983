"""A stored webhook event that cannot be applied is set aside after a few tries; the events
behind it, of another user's messages, are applied once and in order (issue 20)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from herald.db import create_engine, session_factory
from herald.meta_webhook.processor import MAX_ATTEMPTS
from herald.models import WebhookEvent
from tests.callback.test_delivery import send
from tests.conftest import DatabaseUnderTest, add_user
from tests.health.test_metrics import scrape, value
from tests.live_herald import Live, eventually

# Valid JSON, but not the envelope Meta sends (stored by hand, or before the signature check
# looked at the body's shape): applying it raises.
POISON = '[{"entry": "not a list of entries"}]'


async def test_a_poison_event_is_set_aside_and_the_others_are_applied(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    engine = create_engine(live.settings.resolved_database_url)
    try:
        async with session_factory(engine)() as session:
            event = WebhookEvent(
                body_sha256="0" * 64, payload=POISON, received_at=datetime.now(UTC), attempts=0
            )
            session.add(event)
            await session.commit()
            poison_id = event.id
        bob = await live.auth_for(await add_user(db, "bob@example.com"))
        message_id = await send(live, bob)

        async def read() -> bool:
            got = await live.herald.get(f"/api/whatsapp/{message_id}/", headers=bob)
            return bool(got.json()["data"]["state"] == "read")

        await eventually(read, timeout=30, message="bob's statuses applied")
        message = (await live.herald.get(f"/api/whatsapp/{message_id}/", headers=bob)).json()
        assert message["data"]["delivered_at"] is not None

        async def set_aside() -> bool:
            async with session_factory(engine)() as session:
                row = await session.get(WebhookEvent, poison_id)
            return row is not None and row.dead_at is not None

        await eventually(set_aside, timeout=30, message="the poison event is set aside")
        async with session_factory(engine)() as session:
            poison = await session.get(WebhookEvent, poison_id)
            others = (
                (await session.execute(select(WebhookEvent).where(WebhookEvent.id != poison_id)))
                .scalars()
                .all()
            )
    finally:
        await engine.dispose()
    assert poison is not None
    assert poison.attempts == MAX_ATTEMPTS
    assert poison.processed_at is not None  # no longer pending
    assert (poison.last_error or "").startswith("AttributeError")
    assert others  # bob's statuses (the emulator may carry several in one delivery)
    assert all(e.processed_at and e.dead_at is None for e in others)
    metrics = await scrape(live)
    assert value(metrics, "herald_set_aside_items", kind="webhook_event") == 1
    assert value(metrics, "herald_loop_items_set_aside_total", loop="webhooks") >= 1
