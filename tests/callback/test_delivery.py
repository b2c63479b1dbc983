"""Status callbacks over real HTTP: signed, ordered per message, retried, never redirected."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import func, select
from standardwebhooks import Webhook, WebhookVerificationError

from herald.db import create_engine, session_factory
from herald.kit.crypto import Cipher
from herald.models import CallbackDelivery, CallbackEndpoint, User
from tests.dispatch.test_end_to_end import SAM, approved_template
from tests.live import serve_app
from tests.live_herald import Live, eventually

CALLBACKS = "/api/v2/webhooks"


@dataclass
class Receiver:
    url: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    signatures: list[tuple[bytes, str]] = field(default_factory=list)
    deliveries: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    attempt_ids: list[str] = field(default_factory=list)  # webhook-id of every attempt
    refuse_first: int = 0
    hang_first: int = 0
    hang_seconds: float = 8.0
    redirect_to: str | None = None
    attempts: int = 0

    def states(self, message_id: int) -> list[str]:
        return [
            e["data"]["state"]
            for e in self.events
            if e["type"] == "message.status" and e["data"]["id"] == message_id
        ]

    def template_events(self, template_id: int) -> list[dict[str, Any]]:
        return [
            e
            for e in self.events
            if e["type"] == "template.updated" and e["data"]["id"] == template_id
        ]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()
    app = FastAPI()

    @app.post("/events")
    async def events(request: Request) -> Response:
        state.attempts += 1
        state.attempt_ids.append(request.headers.get("webhook-id", ""))
        if state.redirect_to:
            return Response(status_code=307, headers={"Location": state.redirect_to})
        if state.refuse_first > 0:
            state.refuse_first -= 1
            return Response(status_code=500)
        if state.hang_first > 0:  # longer than Herald waits
            state.hang_first -= 1
            await asyncio.sleep(state.hang_seconds)
            return Response(status_code=204)
        raw = await request.body()
        state.signatures.append((raw, request.headers.get("x-herald-signature", "")))
        state.deliveries.append((raw, dict(request.headers)))
        state.events.append(json.loads(raw))
        return Response(status_code=204)

    async with serve_app(app) as url:
        state.url = f"{url}/events"
        yield state


async def register(
    live: Live, auth: dict[str, str], url: str, events: tuple[str, ...] = ("message.status",)
) -> str:
    """A callback on ``url`` (for message events only, unless told: these tests count them)."""
    body = {"url": url, "events": list(events)}
    answer = await live.herald.post(CALLBACKS, json=body, headers=auth)
    assert answer.status_code == 201, answer.text
    secret: str = answer.json()["data"]["secret"]
    return secret


async def send(live: Live, auth: dict[str, str], **extra: Any) -> int:
    template = await approved_template(live, auth)
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send", json={**SAM, **extra}, headers=auth
    )
    assert answer.status_code == 202, answer.text
    message_id: int = answer.json()["data"]["message"]["id"]
    return message_id


async def test_sent_delivered_read_arrive_signed_and_in_order(
    live: Live, live_ana: dict[str, str], receiver: Receiver
) -> None:
    secret = await register(live, live_ana, receiver.url)
    message_id = await send(live, live_ana)

    async def all_three() -> bool:
        return len(receiver.states(message_id)) == 3

    await eventually(all_three, timeout=30, message="three callbacks arrive")
    assert receiver.states(message_id) == ["sent", "delivered", "read"]
    for raw, signature in receiver.signatures:  # the legacy header, for older receivers
        expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        assert signature == f"sha256={expected}"
    for raw, headers in receiver.deliveries:  # Standard Webhooks, by its reference library
        event = Webhook(secret).verify(raw, headers)
        assert headers["webhook-id"] == event["id"]
        assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    sent, delivered, read = receiver.events
    assert sent["id"] == f"evt_{message_id}_sent"
    assert sent["type"] == "message.status"
    # Each event is the record as of its state: later timestamps are not in it yet.
    assert sent["data"]["sent_date"] is not None
    assert sent["data"]["delivered_at"] is None
    assert delivered["data"]["delivered_at"] is not None
    assert delivered["data"]["read_at"] is None
    assert read["data"]["read_at"] is not None
    assert read["data"]["phone_number"] == "21696816277"


async def test_a_receiver_that_fails_twice_still_gets_all_three_in_order(
    live: Live, live_ana: dict[str, str], receiver: Receiver
) -> None:
    receiver.refuse_first = 2
    await register(live, live_ana, receiver.url)
    message_id = await send(live, live_ana)

    async def all_three() -> bool:
        return len(receiver.states(message_id)) == 3

    await eventually(all_three, timeout=30, message="retried callbacks arrive")
    assert receiver.states(message_id) == ["sent", "delivered", "read"]
    assert receiver.attempts == 5  # two refusals, then three deliveries
    # Retries carry the event's id: a receiver deduplicates on webhook-id.
    assert receiver.attempt_ids == [f"evt_{message_id}_sent"] * 3 + [
        f"evt_{message_id}_delivered",
        f"evt_{message_id}_read",
    ]


async def test_after_a_rotation_both_secrets_verify_until_the_overlap_ends(
    live: Live, live_ana: dict[str, str], receiver: Receiver
) -> None:
    old = await register(live, live_ana, receiver.url)
    callback_id = (await live.herald.get(CALLBACKS, headers=live_ana)).json()["data"]["items"][0]
    rotate = f"{CALLBACKS}/{callback_id['id']}/rotate-secret"
    rotated = await live.herald.post(rotate, headers=live_ana)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["data"]["secret"]
    first = await send(live, live_ana)

    async def three_of(message_id: int) -> bool:
        return len(receiver.states(message_id)) == 3

    await eventually(lambda: three_of(first), timeout=30, message="callbacks arrive")
    for raw, headers in receiver.deliveries:
        assert len(headers["webhook-signature"].split(" ")) == 2
        Webhook(new).verify(raw, headers)
        Webhook(old).verify(raw, headers)  # a receiver not yet switched still accepts it
        expected = hmac.new(new.encode(), raw, hashlib.sha256).hexdigest()
        assert headers["x-herald-signature"] == f"sha256={expected}"

    body = {"previous_secret_valid_for_seconds": 0}
    newest = (await live.herald.post(rotate, json=body, headers=live_ana)).json()["data"]
    receiver.deliveries.clear()
    second = await send(live, live_ana)
    await eventually(lambda: three_of(second), timeout=30, message="callbacks arrive")
    for raw, headers in receiver.deliveries:
        assert len(headers["webhook-signature"].split(" ")) == 1
        Webhook(newest["secret"]).verify(raw, headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(new).verify(raw, headers)


async def test_statuses_out_of_order_still_announce_every_state_in_order(
    live: Live, live_ana: dict[str, str], receiver: Receiver
) -> None:
    """Meta sends ``read`` before ``delivered`` here: the message is read at once, and the
    receiver is still told sent, delivered, read, each once and in that order."""
    await live.emulator.patch("/_emulator/config", json={"reorder_statuses": True})
    await register(live, live_ana, receiver.url)
    message_id = await send(live, live_ana)

    async def all_three() -> bool:
        return len(receiver.states(message_id)) >= 3

    await eventually(all_three, timeout=30, message="three callbacks arrive")
    await live.emulator.post("/_emulator/drain")
    await asyncio.sleep(0.5)  # time for a wrongly queued fourth event to arrive
    assert receiver.states(message_id) == ["sent", "delivered", "read"]
    delivered, read = receiver.events[1]["data"], receiver.events[2]["data"]
    assert delivered["read_at"] is None  # as of the state it announces
    assert read["read_at"] is not None


async def test_redirects_are_not_followed(
    live: Live, live_ana: dict[str, str], receiver: Receiver
) -> None:
    elsewhere = Receiver()
    app = FastAPI()

    @app.post("/elsewhere")
    async def hit(request: Request) -> Response:
        elsewhere.attempts += 1
        return Response(status_code=204)

    async with serve_app(app) as other_url:
        receiver.redirect_to = f"{other_url}/elsewhere"
        await register(live, live_ana, receiver.url)
        await send(live, live_ana)

        async def retried() -> bool:
            return receiver.attempts >= 3

        await eventually(retried, timeout=15, message="the redirected delivery is retried")
    assert elsewhere.attempts == 0
    assert receiver.events == []


async def test_cancelling_a_scheduled_message_is_announced(
    live: Live, live_ana: dict[str, str], receiver: Receiver
) -> None:
    await register(live, live_ana, receiver.url)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    message_id = await send(live, live_ana, send_at=later)
    cancelled = await live.herald.delete(f"/api/whatsapp/{message_id}/", headers=live_ana)
    assert cancelled.status_code == 200, cancelled.text

    async def announced() -> bool:
        return receiver.states(message_id) == ["cancelled"]

    await eventually(announced, timeout=10, message="the cancellation is announced")


async def test_users_without_callbacks_queue_nothing(live: Live, live_ana: dict[str, str]) -> None:
    message_id = await send(live, live_ana)

    async def read() -> bool:
        answer = await live.herald.get(f"/api/whatsapp/{message_id}/", headers=live_ana)
        return bool(answer.json()["data"]["state"] == "read")

    await eventually(read, message="the message is read")
    engine = create_engine(live.settings.resolved_database_url)
    async with session_factory(engine)() as session:
        count = (await session.execute(select(func.count()).select_from(CallbackDelivery))).scalar()
    await engine.dispose()
    assert count == 0


async def test_a_receiver_that_times_out_gets_it_again_in_order(
    live: Live, live_ana: dict[str, str], receiver: Receiver
) -> None:
    receiver.hang_first = 1  # the first attempt outlasts callback_timeout_seconds (3 s)
    await register(live, live_ana, receiver.url)
    message_id = await send(live, live_ana)

    async def all_three() -> bool:
        return len(receiver.states(message_id)) == 3

    try:
        await eventually(all_three, timeout=60, message="callbacks arrive after a timeout")
    except BaseException:
        engine = create_engine(live.settings.resolved_database_url)
        async with session_factory(engine)() as session:
            rows = (await session.execute(select(CallbackDelivery))).scalars().all()
        await engine.dispose()
        print("receiver:", receiver.attempts, receiver.states(message_id))
        print(
            "deliveries:",
            [
                (r.state, r.attempts, r.last_status, r.last_error, r.done_at, r.next_attempt_at)
                for r in rows
            ],
        )
        raise
    assert receiver.states(message_id) == ["sent", "delivered", "read"]


async def test_an_internal_address_is_refused_at_delivery_too(
    live: Live, live_ana: dict[str, str]
) -> None:
    """A URL that points inside (here written straight into the database, as a DNS change
    would make it) is never contacted: each attempt is refused and retried, then given up."""
    engine = create_engine(live.settings.resolved_database_url)
    message_id = await send(live, live_ana)
    async with session_factory(engine)() as session:
        ana = (await session.execute(select(User))).scalar_one()
        cipher = Cipher(live.settings.resolved_encryption_keys())
        session.add(
            CallbackEndpoint(
                user_id=ana.id,
                url="https://10.20.30.40/hook",
                events=["message.status"],
                secret_encrypted=cipher.encrypt("whsec_internal_0123456789"),
                created_at=datetime.now(UTC),
            )
        )
        await session.commit()
    await live.herald.delete(f"/api/whatsapp/{message_id}/", headers=live_ana)  # any change
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    scheduled = await send(live, live_ana, send_at=later)
    await live.herald.delete(f"/api/whatsapp/{scheduled}/", headers=live_ana)

    async def refused() -> bool:
        async with session_factory(engine)() as session:
            rows = (await session.execute(select(CallbackDelivery))).scalars().all()
        return any(r.attempts >= 2 and "private" in (r.last_error or "") for r in rows)

    try:
        await eventually(refused, timeout=10, message="deliveries to 10.20.30.40 are refused")
        async with session_factory(engine)() as session:
            rows = (await session.execute(select(CallbackDelivery))).scalars().all()
        assert all(r.delivered is not True for r in rows)
        assert all(r.last_status is None for r in rows)  # never answered: never contacted
    finally:
        await engine.dispose()


async def test_a_hanging_receiver_never_slows_the_dispatcher(
    live: Live, live_ana: dict[str, str], receiver: Receiver
) -> None:
    receiver.hang_first = 10_000  # every delivery hangs past the timeout
    receiver.hang_seconds = 5
    await register(live, live_ana, receiver.url)
    template = await approved_template(live, live_ana)
    recipients = [
        {"to": f"2169682{n:04d}", "country_code": "TN", "body_params": ["A", str(n)]}
        for n in range(100)
    ]
    started = asyncio.get_running_loop().time()
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send-bulk",
        json={"recipients": recipients},
        headers=live_ana,
    )
    group = answer.json()["data"]["whatsapp_bulk_group_id"]

    async def all_read() -> bool:
        counts = (
            await live.herald.get(f"/api/v2/whatsapp/bulk-groups/{group}", headers=live_ana)
        ).json()["data"]["counts"]
        return bool(counts.get("read") == 100)

    await eventually(all_read, timeout=15, message="100 messages read despite the receiver")
    elapsed = asyncio.get_running_loop().time() - started
    # 100 messages at the channel's 80/s take ~1.3 s; every callback attempt hangs 3 s.
    assert elapsed < 8, f"{elapsed:.1f}s"
    assert receiver.events == []
