"""One user's unusable callback URL neither stalls nor repeats another user's callbacks: its
deliveries fail alone, are set aside, and show in the API (issue 20's reproduction)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from herald.db import create_engine, session_factory
from herald.kit.crypto import Cipher
from herald.models import CallbackDelivery, CallbackEndpoint, User
from tests.callback.test_delivery import CALLBACKS, Receiver, register
from tests.conftest import DatabaseUnderTest, add_user, assert_error
from tests.dispatch.test_end_to_end import SAM, approved_template
from tests.live_herald import Live, eventually

BAD_URL = "https://93.184.216.34/\r\nX: y"
OLD_KEY = Fernet.generate_key().decode()
SECRET = "whsec_poison_0123456789"
# Two poisons: the URL, stored before registration checked it; a signing secret
# encrypted with a key the operator has since removed (it cannot be decrypted).
POISONS = {
    "bad_url": (BAD_URL, True, "control characters"),
    "undecryptable_secret": ("https://93.184.216.34/hook", False, "internal error (ConfigError)"),
}


async def send_three(live: Live, auth: dict[str, str], prefix: str) -> list[int]:
    template = await approved_template(live, auth)
    ids = []
    for n in range(3):
        answer = await live.herald.post(
            f"/api/v2/whatsapp/templates/{template['id']}/send",
            json={**SAM, "to": f"{prefix}{n}"},
            headers=auth,
        )
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["data"]["message"]["id"])
    return ids


@pytest.mark.parametrize("poison", POISONS)
async def test_a_poison_endpoint_is_set_aside_and_another_users_events_arrive_once_in_order(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest, receiver: Receiver, poison: str
) -> None:
    url, good_secret, error = POISONS[poison]
    refused = await live.herald.post(CALLBACKS, json={"url": BAD_URL}, headers=live_ana)
    body = assert_error(refused, 400, "validation_failed")
    assert "control characters" in body["data"]["errors"][0]["message"]  # type: ignore[index]

    cipher = Cipher(live.settings.resolved_encryption_keys())
    engine = create_engine(live.settings.resolved_database_url)
    async with session_factory(engine)() as session:
        ana = (
            await session.execute(select(User).where(User.email == "ana@example.com"))
        ).scalar_one()
        poison = CallbackEndpoint(
            user_id=ana.id,
            url=url,
            events=["message.status"],
            secret_encrypted=cipher.encrypt(SECRET)
            if good_secret
            else Cipher([OLD_KEY]).encrypt(SECRET),
            created_at=datetime.now(UTC),
        )
        session.add(poison)
        await session.commit()
        poison_id = poison.id
    bob = await live.auth_for(await add_user(db, "bob@example.com"))
    await register(live, bob, receiver.url)

    anas = await send_three(live, live_ana, "2169681627")
    bobs = await send_three(live, bob, "2169871627")

    async def settled() -> bool:
        async with session_factory(engine)() as session:
            rows = (await session.execute(select(CallbackDelivery))).scalars().all()
        # Every message announced sent, delivered and read, and nothing left to try.
        return len(rows) == 18 and all(r.done_at is not None for r in rows)

    try:
        await eventually(settled, timeout=60, message="every delivery delivered or set aside")
    finally:
        async with session_factory(engine)() as session:
            rows = (await session.execute(select(CallbackDelivery))).scalars().all()
        await engine.dispose()
    for message_id in bobs:
        assert receiver.states(message_id) == ["sent", "delivered", "read"]
    assert len(receiver.events) == 9  # each exactly once
    poisoned = [r for r in rows if r.endpoint_id == poison_id]
    assert len(poisoned) == 9
    assert all(r.delivered is False and r.attempts == 5 for r in poisoned)
    assert {r.message_id for r in poisoned} == set(anas)

    dead = await live.herald.get(
        f"{CALLBACKS}/{poison_id}/deliveries", params={"outcome": "dead"}, headers=live_ana
    )
    assert dead.status_code == 200, dead.text
    listed = dead.json()["data"]
    assert listed["pagination"]["total"] == 9
    first = listed["items"][0]
    assert first["outcome"] == "dead"
    assert first["attempts"] == 5
    assert error in first["last_error"]
    assert first["next_attempt_at"] is None
    assert "delivered" not in first
    # Bob's are delivered, not dead; and Ana's endpoint is not Bob's to look at.
    bobs_endpoint = (await live.herald.get(CALLBACKS, headers=bob)).json()["data"]["items"][0]
    mine = f"{CALLBACKS}/{bobs_endpoint['id']}/deliveries"
    assert (await live.herald.get(mine, params={"outcome": "dead"}, headers=bob)).json()["data"][
        "items"
    ] == []
    delivered = await live.herald.get(mine, params={"outcome": "delivered"}, headers=bob)
    assert delivered.json()["data"]["pagination"]["total"] == 9
    other = await live.herald.get(f"{CALLBACKS}/{poison_id}/deliveries", headers=bob)
    assert_error(other, 404, "callback_not_found")
    wrong = await live.herald.get(mine, params={"outcome": "lost"}, headers=bob)
    assert_error(wrong, 400, "validation_failed")
