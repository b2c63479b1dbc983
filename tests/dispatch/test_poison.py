"""A message the dispatcher cannot read fails alone with ``internal_error``: the rest of its
chunk and another user's messages are sent, each once (issue 20)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from herald.db import create_engine, session_factory
from herald.models import Message
from tests.conftest import DatabaseUnderTest, add_user
from tests.dispatch.test_end_to_end import SAM, approved_template, messages_of
from tests.live_herald import Live, eventually


async def scheduled_bulk(live: Live, auth: dict[str, str], prefix: str) -> str:
    """Five messages due in an hour (so the test can change one before it is sent)."""
    template = await approved_template(live, auth)
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send-bulk",
        json={
            "recipients": [{**SAM, "to": f"{prefix}{n}"} for n in range(5)],
            "send_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        },
        headers=auth,
    )
    assert answer.status_code == 202, answer.text
    group: str = answer.json()["data"]["whatsapp_bulk_group_id"]
    return group


async def test_a_message_that_cannot_be_built_fails_alone(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    bob = await live.auth_for(await add_user(db, "bob@example.com"))
    anas = await scheduled_bulk(live, live_ana, "2169681627")
    bobs = await scheduled_bulk(live, bob, "2169871627")

    engine = create_engine(live.settings.resolved_database_url)
    try:
        async with session_factory(engine)() as session:
            ids = list((await session.execute(select(Message.id).order_by(Message.id))).scalars())
            poison = ids[2]  # in the middle of ana's chunk
            # A row an older version (or a hand) wrote: a button without its index.
            await session.execute(
                update(Message)
                .where(Message.id == poison)
                .values(content={"body_params": ["Sam", "X"], "buttons": [{"value": "x"}]})
            )
            await session.execute(update(Message).values(next_attempt_at=datetime.now(UTC)))
            await session.commit()
    finally:
        await engine.dispose()

    async def all_final() -> bool:
        for auth, group in ((live_ana, anas), (bob, bobs)):
            states = [m["state"] for m in await messages_of(live, auth, group)]
            if len(states) != 5 or not set(states) <= {"read", "failed"}:
                return False
        return True

    await eventually(all_final, timeout=30, message="every message read or failed")
    mine: list[dict[str, Any]] = await messages_of(live, live_ana, anas)
    failed = [m for m in mine if m["state"] == "failed"]
    assert [m["id"] for m in failed] == [poison]
    assert failed[0]["error"]["code"] == "internal_error"
    assert "nothing was sent" in failed[0]["error"]["detail"]
    assert [m["state"] for m in await messages_of(live, bob, bobs)] == ["read"] * 5
    sent = (await live.emulator.get("/_emulator/messages")).json()
    per_message = Counter(m["callback_data"] for m in sent)
    assert set(per_message) == {str(i) for i in ids if i != poison}
    assert set(per_message.values()) == {1}  # each once
