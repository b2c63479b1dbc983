"""Two senders of one user, in two WABAs, with the same template in each: each send reaches
the emulator from the number it named, over real HTTP."""

from __future__ import annotations

from typing import Any

from herald.db import create_engine
from herald.models import User
from tests.channel.helpers import add_emulator_channel
from tests.conftest import DatabaseUnderTest, add_user
from tests.dispatch.test_end_to_end import SAM, approved_template
from tests.live_herald import Live, eventually

SECOND = "200000000002"  # its number id and its WABA's (the emulator's sandbox convention)
SECOND_NUMBER = "+44 7700 900002"


async def second_channel(live: Live, user: User) -> int:
    engine = create_engine(live.settings.resolved_database_url)
    try:
        channel = await add_emulator_channel(engine, live.settings, user.id, SECOND, SECOND_NUMBER)
        return channel.id
    finally:
        await engine.dispose()


async def test_each_send_leaves_from_the_number_it_named(live: Live, db: DatabaseUnderTest) -> None:
    ana = await add_user(db, "ana@example.com")
    auth = await live.auth_for(ana)
    first = await approved_template(live, auth)  # made on ana's default (emulator) channel
    second_id = await second_channel(live, ana)
    await live.emulator.put(f"/_emulator/phone-numbers/{SECOND}", json={"waba_id": SECOND})
    second = await approved_template(live, auth, channel_id=second_id)
    assert second["waba_id"] == SECOND
    default_number = str(100_000_000_000 + ana.id)  # the emulator channel's number and WABA
    sends: list[tuple[dict[str, Any], dict[str, Any]]] = [
        (first, {}),
        (second, {"channel_id": second_id}),
        (second, {"from": SECOND_NUMBER}),
    ]
    for template, sender in sends:
        answer = await live.herald.post(
            f"/api/v2/whatsapp/templates/{template['id']}/send",
            json={**SAM, **sender},
            headers=auth,
        )
        assert answer.status_code == 202, answer.text

    sent: list[dict[str, Any]] = []

    async def all_sent() -> bool:
        nonlocal sent
        sent = (await live.emulator.get("/_emulator/messages")).json()
        return len(sent) == len(sends)

    await eventually(all_sent, message="every send reaches the emulator")
    numbers = sorted(m["phone_number_id"] for m in sent)
    assert numbers == sorted([default_number, SECOND, SECOND])
