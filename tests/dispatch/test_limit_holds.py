"""Meta refused a send for the messaging limit (``dispatch/limit_holds.py``): the refused
message and the WABA's queued templates to new customers wait until the window frees; those
to customers already reached in the window, and other users' messages, do not."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select, update

from herald.config import Settings
from herald.db import session_factory
from herald.dispatch.limit_holds import hold_after_refusal
from herald.kit.clock import FrozenClock
from herald.models import Channel, Message, User
from herald.models.message import SENT
from tests.conftest import DatabaseUnderTest, add_user, login
from tests.message.helpers import approved_template


async def send(client: httpx.AsyncClient, auth: dict[str, str], template_id: int, to: str) -> int:
    answer = await client.post(
        f"/api/v2/whatsapp/templates/{template_id}/send",
        json={"to": to, "country_code": "TN", "body_params": ["A", "1"]},
        headers=auth,
    )
    assert answer.status_code == 202, answer.text
    return int(answer.json()["data"]["message"]["id"])


async def test_the_refused_and_new_customers_wait_for_the_window(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    ana: User,
    db: DatabaseUnderTest,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    template = await approved_template(db, ana, settings, clock.now())
    bob = await add_user(db, "bob@example.com", now=clock.now())
    bobs = await approved_template(db, bob, settings, clock.now())
    bob_auth = {"Authorization": f"Bearer {await login(client, bob.email)}"}
    now = clock.now()
    earlier = await send(client, auth, template.id, "21690000001")
    known = await send(client, auth, template.id, "21690000001")  # a customer of the window
    new = await send(client, auth, template.id, "21690000002")
    refused = await send(client, auth, template.id, "21690000003")
    bobs_new = await send(client, bob_auth, bobs.id, "21690000004")
    async with session_factory(db.engine)() as session:
        await session.execute(
            update(Message)
            .where(Message.id == earlier)
            .values(state=SENT, sent_at=now - timedelta(hours=2))
        )
        # The refused one's retry, as the dispatcher recorded it, with a deadline before then.
        await session.execute(
            update(Message)
            .where(Message.id == refused)
            .values(next_attempt_at=now + timedelta(hours=30), deadline_at=now)
        )
        channel = await session.get(Channel, template.channel_id)
        assert channel is not None
        until = await hold_after_refusal(session, ana.id, channel.waba_id, [refused], now)
        await session.commit()
    assert until == now + timedelta(hours=22)  # the window's oldest send, a day on
    async with session_factory(db.engine)() as session:
        rows = {
            m.id: m for m in (await session.execute(select(Message).order_by(Message.id))).scalars()
        }
    for held in (new, refused):
        assert rows[held].held_reason == "messaging_limit"
        assert rows[held].next_attempt_at == until
        assert rows[held].scheduled_at == until
        assert rows[held].deadline_at > until
    for going in (known, bobs_new):
        assert rows[going].held_reason is None
        assert rows[going].next_attempt_at == now
