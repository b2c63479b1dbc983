"""429 and 503 are retried (Retry-After first, back-off otherwise), and so are dropped
connections where repeating is safe (reads, keyed sends, requests that never left); sends keep
one Idempotency-Key across their retries; nothing else is retried."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from herald_client import (
    AsyncHeraldClient,
    HeraldConnectionError,
    NotFound,
    RateLimited,
    SendAccepted,
    ServerError,
)

from herald.config import Settings
from herald.kit.clock import FrozenClock
from herald.models import User
from tests.conftest import DatabaseUnderTest, add_user, count_rows
from tests.live_herald import Live
from tests.message.helpers import approved_template
from tests.sdk.conftest import FakeTime, asgi_transport, async_client, sync_client
from tests.sdk.transports import (
    AsyncWrapping,
    SyncWrapping,
    dropped,
    rate_limited,
    unavailable,
)


async def send_to_sam(sdk: AsyncHeraldClient, template_id: int, **options: Any) -> SendAccepted:
    return await sdk.send_template(
        template_id, "21696816277", "TN", body_params=["Sam", "ORD-2026-00041"], **options
    )


def send_path(template_id: int) -> str:
    return f"/api/v2/whatsapp/templates/{template_id}/send"


async def test_a_429_is_retried_after_what_retry_after_says(
    herald: FastAPI,
    fake_time: FakeTime,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    template = await approved_template(db, ana, settings, clock.now())
    path = send_path(template.id)
    recorder = asgi_transport(herald, path, (rate_limited(2), rate_limited(2)))
    async with async_client(recorder, fake_time, ana) as sdk:
        accepted = await send_to_sam(sdk, template.id)

    assert fake_time.sleeps == [2.0, 2.0]
    assert accepted["message"]["state"] == "queued"
    assert accepted["message"]["phone_number"] == "21696816277"
    sends = recorder.to(path)
    assert [recorder.statuses[recorder.requests.index(r)] for r in sends] == [429, 429, 202]
    keys = {request.headers["Idempotency-Key"] for request in sends}
    assert len(keys) == 1  # one key, generated for the call, on every attempt
    assert uuid.UUID(keys.pop()).version == 4
    assert await count_rows(db, "messages") == 1


async def test_a_send_whose_answer_was_lost_is_queued_once(
    herald: FastAPI,
    fake_time: FakeTime,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    """Herald queued the first attempt but a proxy answered 503: the retry carries the same
    key, so Herald replays its first answer instead of queueing a second message."""
    template = await approved_template(db, ana, settings, clock.now())
    path = send_path(template.id)
    recorder = asgi_transport(herald, path, (unavailable(forward=True),))
    async with async_client(recorder, fake_time, ana) as sdk:
        accepted = await send_to_sam(sdk, template.id)
        history = await sdk.list_messages(template_id=template.id)

    sends = recorder.to(path)
    assert len(sends) == 2
    assert sends[0].headers["Idempotency-Key"] == sends[1].headers["Idempotency-Key"]
    assert await count_rows(db, "messages") == 1
    assert [m["id"] for m in history["items"]] == [accepted["message"]["id"]]
    assert len(fake_time.sleeps) == 1
    assert 0.25 <= fake_time.sleeps[0] <= 0.5  # no Retry-After: first back-off step


async def test_a_callers_idempotency_key_is_the_one_sent(
    herald: FastAPI,
    fake_time: FakeTime,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    template = await approved_template(db, ana, settings, clock.now())
    recorder = asgi_transport(herald)
    async with async_client(recorder, fake_time, ana) as sdk:
        first = await send_to_sam(sdk, template.id, idempotency_key="order-41")
        again = await send_to_sam(sdk, template.id, idempotency_key="order-41")
        other = await send_to_sam(sdk, template.id)
    keys = [r.headers["Idempotency-Key"] for r in recorder.to(send_path(template.id))]
    assert keys[:2] == ["order-41", "order-41"]
    assert keys[2] != "order-41"
    assert again["message"]["id"] == first["message"]["id"]  # replayed, not queued twice
    assert other["message"]["id"] != first["message"]["id"]
    assert await count_rows(db, "messages") == 2


async def test_503_backs_off_exponentially_with_jitter(
    herald: FastAPI, fake_time: FakeTime, ana: User
) -> None:
    script = (unavailable(), unavailable(), unavailable())
    recorder = asgi_transport(herald, "/api/user/", script)
    async with async_client(recorder, fake_time, ana) as sdk:
        profile = await sdk.get_profile()
    assert profile["email"] == ana.email
    first, second, third = fake_time.sleeps
    assert 0.25 <= first <= 0.5
    assert 0.5 <= second <= 1.0
    assert 1.0 <= third <= 2.0
    assert recorder.statuses[-4:] == [503, 503, 503, 200]


async def test_retries_stop_at_max_retries_and_raise_the_last_answer(
    herald: FastAPI, fake_time: FakeTime, ana: User
) -> None:
    script = tuple(rate_limited(1) for _ in range(3))
    recorder = asgi_transport(herald, "/api/contacts/", script)
    async with async_client(recorder, fake_time, ana, max_retries=2) as sdk:
        with pytest.raises(RateLimited) as caught:
            await sdk.list_contacts()
    assert (caught.value.status, caught.value.code) == (429, "rate_limited")
    assert caught.value.retry_after == 1.0
    assert fake_time.sleeps == [1.0, 1.0]
    assert len(recorder.to("/api/contacts/")) == 3


async def test_herald_s_own_503_is_retried_until_max_retries(
    sdk: AsyncHeraldClient, recorder: AsyncWrapping, fake_time: FakeTime
) -> None:
    # In-process Herald has no reachable provider: submitting a template is 503
    # provider_unavailable with Retry-After, a real answer of Herald's, retried then raised.
    template = await sdk.create_template("order_confirmed", "en", "UTILITY", "Hi {{1}}.")
    with pytest.raises(ServerError) as caught:
        await sdk.submit_template(template["id"])
    error = caught.value
    assert (error.status, error.code) == (503, "provider_unavailable")
    assert error.retry_after is not None
    assert fake_time.sleeps == [error.retry_after] * 5
    assert len(recorder.to(f"/api/v2/whatsapp/templates/{template['id']}/submit")) == 6
    assert (await sdk.get_template(template["id"]))["state"] == "DRAFT"


async def test_a_404_is_not_retried(
    sdk: AsyncHeraldClient, recorder: AsyncWrapping, fake_time: FakeTime
) -> None:
    with pytest.raises(NotFound):
        await sdk.submit_template(424242)
    assert len(recorder.to("/api/v2/whatsapp/templates/424242/submit")) == 1
    assert fake_time.sleeps == []


async def test_the_sync_client_retries_a_429_from_a_worker_thread(
    live: Live, db: DatabaseUnderTest, fake_time: FakeTime
) -> None:
    ana = await add_user(db, "ana@example.com")
    # The first two requests (the login) meet a 429; the third reaches the live Herald.
    recorder = SyncWrapping(script=(rate_limited(2), rate_limited(2)))

    def fetch_profile() -> str:
        with sync_client(recorder, fake_time, ana, str(live.herald.base_url)) as sdk:
            return sdk.get_profile()["email"]

    assert await asyncio.to_thread(fetch_profile) == ana.email
    assert fake_time.sleeps == [2.0, 2.0]
    assert recorder.paths() == ["/api/login_check"] * 3 + ["/api/user/"]
    assert recorder.statuses == [429, 429, 200, 200]


async def test_a_send_whose_connection_dropped_is_repeated_unseen_and_queued_once(
    herald: FastAPI,
    fake_time: FakeTime,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    """The connection resets after Herald queued the message: the SDK sends again with the
    same Idempotency-Key, Herald answers as the first time, and the caller sees one success."""
    template = await approved_template(db, ana, settings, clock.now())
    path = send_path(template.id)
    recorder = asgi_transport(herald, path, (dropped(forward=True), dropped(forward=True)))
    async with async_client(recorder, fake_time, ana) as sdk:
        accepted = await send_to_sam(sdk, template.id)

    sends = recorder.to(path)
    assert [recorder.statuses[recorder.requests.index(r)] for r in sends] == [0, 0, 202]
    assert len({request.headers["Idempotency-Key"] for request in sends}) == 1
    assert await count_rows(db, "messages") == 1
    assert accepted["message"]["state"] == "queued"
    first, second = fake_time.sleeps  # the back-off of a 503 without Retry-After
    assert 0.25 <= first <= 0.5
    assert 0.5 <= second <= 1.0


async def test_a_read_whose_connection_dropped_is_repeated(
    herald: FastAPI, fake_time: FakeTime, ana: User
) -> None:
    recorder = asgi_transport(herald, "/api/user/", (dropped(forward=True),))
    async with async_client(recorder, fake_time, ana) as sdk:
        assert (await sdk.get_profile())["email"] == ana.email
    assert recorder.statuses[-2:] == [0, 200]


async def test_a_lost_answer_to_an_unkeyed_create_is_raised_not_repeated(
    herald: FastAPI, fake_time: FakeTime, db: DatabaseUnderTest, ana: User
) -> None:
    """Herald created the contact but the answer was lost: a second POST would be a second
    try at creating it, so the caller is told and decides."""
    recorder = asgi_transport(herald, "/api/contacts/", (dropped(forward=True),))
    async with async_client(recorder, fake_time, ana) as sdk:
        with pytest.raises(HeraldConnectionError) as caught:
            await sdk.create_contact("21696816277", "TN")
    assert caught.value.sent is True
    assert isinstance(caught.value.__cause__, httpx.ReadError)
    assert len(recorder.to("/api/contacts/")) == 1
    assert fake_time.sleeps == []
    assert await count_rows(db, "contacts") == 1


async def test_any_call_is_repeated_when_its_connection_never_opened(
    herald: FastAPI, fake_time: FakeTime, db: DatabaseUnderTest, ana: User
) -> None:
    recorder = asgi_transport(herald, "/api/contacts/", (dropped(forward=False),))
    async with async_client(recorder, fake_time, ana) as sdk:
        created = await sdk.create_contact("21696816277", "TN")
    assert created["number"] == "21696816277"
    assert recorder.statuses[-2:] == [0, 201]
    assert await count_rows(db, "contacts") == 1


async def test_connection_retries_stop_at_max_retries(
    herald: FastAPI, fake_time: FakeTime, ana: User
) -> None:
    script = tuple(dropped(forward=True) for _ in range(3))
    recorder = asgi_transport(herald, "/api/user/", script)
    async with async_client(recorder, fake_time, ana, max_retries=2) as sdk:
        with pytest.raises(HeraldConnectionError):
            await sdk.get_profile()
    assert len(recorder.to("/api/user/")) == 3
    assert len(fake_time.sleeps) == 2


async def test_the_sync_client_survives_a_dropped_send_on_the_live_server(
    live: Live, db: DatabaseUnderTest, fake_time: FakeTime
) -> None:
    ana = await add_user(db, "ana@example.com")
    template = await approved_template(db, ana, live.settings, datetime.now(UTC))
    path = send_path(template.id)
    recorder = SyncWrapping(path=path, script=(dropped(forward=True),))

    def send() -> SendAccepted:
        with sync_client(recorder, fake_time, ana, str(live.herald.base_url)) as sdk:
            return sdk.send_template(
                template.id, "21696816277", "TN", body_params=["Sam", "ORD-2026-00041"]
            )

    accepted = await asyncio.to_thread(send)
    assert accepted["message"]["phone_number"] == "21696816277"
    sends = recorder.to(path)
    assert len(sends) == 2
    assert sends[0].headers["Idempotency-Key"] == sends[1].headers["Idempotency-Key"]
    assert await count_rows(db, "messages") == 1
