"""The history through the SDK: ``before_id``, ``next_before_id``, and ``iter_all`` walking the
history by id (both clients)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from herald_client import AsyncHeraldClient, BadRequest, next_page

from herald.config import Settings
from herald.kit.clock import FrozenClock
from herald.models import Template, User
from tests.conftest import DatabaseUnderTest, add_user
from tests.live_herald import Live
from tests.message.helpers import approved_template
from tests.sdk.conftest import FakeTime, sync_client
from tests.sdk.transports import AsyncWrapping, SyncWrapping

HISTORY = "/api/whatsapp/"


async def send_five(sdk: AsyncHeraldClient, template: Template) -> list[int]:
    """Five messages' ids, newest first."""
    ids = []
    for n in range(5):
        accepted = await sdk.send_template(
            template.id, f"2169681627{n}", "TN", body_params=["Sam", "ORD-1"]
        )
        ids.append(accepted["message"]["id"])
    return ids[::-1]


async def test_list_messages_by_id_and_iter_all_following_it(
    sdk: AsyncHeraldClient,
    recorder: AsyncWrapping,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    ids = await send_five(sdk, await approved_template(db, ana, settings, clock.now()))
    first = await sdk.list_messages(limit=2)
    assert (first["pagination"]["page"], first["pagination"]["next_before_id"]) == (1, ids[1])
    after = await sdk.list_messages(limit=2, before_id=ids[1])
    assert [m["id"] for m in after["items"]] == ids[2:4]
    assert (after["pagination"]["page"], after["pagination"]["total"]) == (None, 5)
    assert next_page(after) is None
    assert recorder.requests[-1].url.params.get("page") is None  # a page by id has no number
    with pytest.raises(BadRequest) as caught:
        await sdk.list_messages(page=2, before_id=ids[1])
    assert caught.value.code == "validation_failed"

    before = len(recorder.to(HISTORY))
    seen = [m["id"] async for m in sdk.iter_all(sdk.list_messages, limit=2, state="queued")]
    assert seen == ids
    walked = recorder.to(HISTORY)[before:]
    assert [dict(r.url.params) for r in walked] == [
        {"page": "1", "limit": "2", "state": "queued"},
        {"limit": "2", "state": "queued", "before_id": str(ids[1])},
        {"limit": "2", "state": "queued", "before_id": str(ids[3])},
    ]


async def test_the_sync_client_walks_the_history_by_id(
    live: Live, db: DatabaseUnderTest, fake_time: FakeTime
) -> None:
    ana = await add_user(db, "ana@example.com")
    template = await approved_template(db, ana, live.settings, datetime.now(UTC))
    auth = await live.auth_for(ana)
    ids = []
    # Scheduled a day ahead: the live dispatcher leaves them alone (the template exists in
    # Herald's database only, and the emulator would answer 132001 for it).
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for n in range(5):
        answer = await live.herald.post(
            f"/api/v2/whatsapp/templates/{template.id}/send",
            json={
                "to": f"2169681627{n}",
                "country_code": "TN",
                "body_params": ["Sam", "ORD-1"],
                "send_at": later,
            },
            headers=auth,
        )
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["data"]["message"]["id"])
    recorder = SyncWrapping()

    def walk() -> list[int]:
        with sync_client(recorder, fake_time, ana, str(live.herald.base_url)) as sdk:
            return [m["id"] for m in sdk.iter_all(sdk.list_messages, limit=2)]

    assert await asyncio.to_thread(walk) == ids[::-1]
    assert [r.url.params.get("before_id") for r in recorder.to(HISTORY)] == [
        None,
        str(ids[3]),
        str(ids[1]),
    ]
