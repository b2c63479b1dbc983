"""Meta's pricing on a status is kept on the message (message/statuses.py): the last status
applied that carries pricing wins, one without leaves it, and it rides in the UPDATE that
applies the status (no statement of its own)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from herald.config import Settings
from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.meta_webhook.processor import process_pending
from herald.models import Message, User
from tests.conftest import DatabaseUnderTest
from tests.meta_webhook.test_endpoints import sign
from tests.meta_webhook.test_failed_status import delivery, sent_messages

MARKETING = {"billable": True, "pricing_model": "PMP", "category": "MARKETING"}


def _status(number_id: str, n: int, kind: str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": number_id},
        "statuses": [
            {
                "id": f"wamid.failed-{n}",
                "status": kind,
                "timestamp": str(int(at.timestamp())),
                "recipient_id": f"2169681627{n}",
                **extra,
            }
        ],
    }


async def _apply(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    clock: FrozenClock,
    waba_id: str,
    values: list[dict[str, Any]],
) -> None:
    body = delivery(waba_id, [("messages", value) for value in values])
    assert (await client.post("/webhooks/whatsapp", content=body, headers=sign(body))).is_success
    assert await process_pending(session_factory(db.engine), clock) == 1


async def _pricing(db: DatabaseUnderTest) -> dict[int, tuple[object, ...]]:
    async with session_factory(db.engine)() as session:
        rows = (await session.execute(select(Message).order_by(Message.id))).scalars()
        return {m.id: (m.state, m.billable, m.pricing_category, m.pricing_model) for m in rows}


@contextmanager
def message_updates(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement = str(args[2])
        if statement.lstrip().upper().startswith("UPDATE MESSAGES"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_pricing_is_stored_whatever_order_the_statuses_come_in(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    now = clock.now()
    waba_id, number_id, (first, second) = await sent_messages(db, ana, settings, now, 2)
    # read comes first, without pricing; delivered after it, with pricing: the state stays
    # read, and the pricing is kept all the same.
    with message_updates(db.engine.sync_engine) as updates:
        await _apply(
            client,
            db,
            clock,
            waba_id,
            [
                _status(number_id, 0, "read", now),
                _status(number_id, 0, "delivered", now, pricing=MARKETING),
                _status(
                    number_id, 1, "delivered", now, pricing={**MARKETING, "category": "utility"}
                ),
            ],
        )
    # One UPDATE per message: the pricing went out with the state, not on its own.
    assert len(updates) == 2
    assert await _pricing(db) == {
        first: ("read", True, "marketing", "PMP"),
        second: ("delivered", True, "utility", "PMP"),
    }

    # A later status without pricing leaves it; one with pricing replaces it.
    await _apply(
        client,
        db,
        clock,
        waba_id,
        [
            _status(number_id, 0, "sent", now),
            _status(number_id, 1, "read", now, pricing={"billable": False, "category": "service"}),
        ],
    )
    assert await _pricing(db) == {
        first: ("read", True, "marketing", "PMP"),
        second: ("read", False, "service", "PMP"),
    }


async def test_a_message_shows_its_pricing(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    now = clock.now()
    waba_id, number_id, (priced, unpriced) = await sent_messages(db, ana, settings, now, 2)
    await _apply(
        client, db, clock, waba_id, [_status(number_id, 0, "delivered", now, pricing=MARKETING)]
    )
    shown = {"billable": True, "category": "marketing", "model": "PMP"}
    one = await client.get(f"/api/whatsapp/{priced}/", headers=auth)
    assert one.json()["data"]["pricing"] == shown
    other = await client.get(f"/api/whatsapp/{unpriced}/", headers=auth)
    assert other.json()["data"]["pricing"] is None  # Meta has not priced it (yet)
    history = await client.get("/api/whatsapp/", headers=auth)
    assert history.status_code == 200, history.text
    by_id = {item["id"]: item["pricing"] for item in history.json()["data"]["items"]}
    assert by_id == {priced: shown, unpriced: None}
