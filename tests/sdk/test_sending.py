"""Sending through the SDK to the live Herald and its emulator: a message reaches ``read``, its
status callbacks arrive signed, and the v1, bulk and scheduling routes behave as documented."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from herald_client import (
    SIGNATURE_HEADER,
    AsyncHeraldClient,
    BadRequest,
    Conflict,
    HeraldClient,
    Message,
    verify_signature,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from herald.config import Settings
from herald.kit.clock import FrozenClock
from herald.models import User
from tests.conftest import PASSWORD, DatabaseUnderTest, add_user
from tests.live import serve_app
from tests.live_herald import Live, eventually
from tests.message.helpers import approved_template
from tests.sdk.transports import AsyncWrapping

ORDER_BODY = "Hello {{1}}, your order {{2}} is confirmed."
CALLBACK_SECRET = "callback-secret-0123456789"


@pytest.fixture
async def live_sdk(live: Live, db: DatabaseUnderTest) -> AsyncIterator[AsyncHeraldClient]:
    """ana's async client on the live Herald, over real HTTP."""
    ana = await add_user(db, "ana@example.com")
    async with AsyncHeraldClient(
        str(live.herald.base_url), email=ana.email, password=PASSWORD
    ) as client:
        yield client


async def approve(sdk: AsyncHeraldClient) -> int:
    template = await sdk.create_template("order_confirmed", "en", "UTILITY", ORDER_BODY)
    assert (template["state"], template["placeholder_count"]) == ("DRAFT", 2)
    assert (await sdk.submit_template(template["id"]))["state"] == "PENDING"

    async def approved() -> bool:
        return (await sdk.get_template(template["id"]))["state"] == "APPROVED"

    await eventually(approved, message="the emulator approves the template")
    return template["id"]


async def wait_for_state(sdk: AsyncHeraldClient, message_id: int, state: str) -> Message:
    async def reached() -> bool:
        return (await sdk.get_message(message_id))["state"] == state

    await eventually(reached, timeout=20, message=f"message {message_id} reaches {state}")
    return await sdk.get_message(message_id)


async def test_a_send_through_the_sdk_reaches_read(live_sdk: AsyncHeraldClient) -> None:
    template_id = await approve(live_sdk)
    accepted = await live_sdk.send_template(
        template_id, "21696816277", "TN", body_params=["Sam", "ORD-2026-00041"]
    )
    queued = accepted["message"]
    assert queued["state"] == "queued"
    assert queued["whatsapp_bulk_group_id"] == accepted["whatsapp_bulk_group_id"]

    message = await wait_for_state(live_sdk, queued["id"], "read")
    assert message["provider_message_id"] is not None
    assert message["provider_message_id"].startswith("wamid.")
    assert message["sent_date"]
    assert message["delivered_at"]
    assert message["read_at"]
    assert message["error"] is None
    assert message["template_name"] == "order_confirmed"

    group = await live_sdk.get_bulk_group(accepted["whatsapp_bulk_group_id"])
    assert (group["total"], group["counts"].get("read")) == (1, 1)
    listed = await live_sdk.list_messages(state="read", phone_number="21696816277")
    assert [m["id"] for m in listed["items"]] == [queued["id"]]


async def test_status_callbacks_arrive_signed_and_verify(live_sdk: AsyncHeraldClient) -> None:
    received: list[tuple[str | None, bytes]] = []

    async def hook(request: Request) -> Response:
        received.append((request.headers.get(SIGNATURE_HEADER), await request.body()))
        return Response(status_code=204)

    receiver = Starlette(routes=[Route("/herald", hook, methods=["POST"])])
    async with serve_app(receiver) as receiver_url:
        callback = await live_sdk.create_callback(f"{receiver_url}/herald", secret=CALLBACK_SECRET)
        assert callback["secret"] == CALLBACK_SECRET
        assert callback["events"] == ["message.status", "template.updated", "message.received"]
        assert [c["id"] for c in (await live_sdk.list_callbacks())["items"]] == [callback["id"]]
        assert "secret" not in await live_sdk.get_callback(callback["id"])

        template_id = await approve(live_sdk)
        sent = await live_sdk.send_template(
            template_id, "21696816277", "TN", body_params=["Sam", "ORD-2026-00041"]
        )
        message_id = sent["message"]["id"]

        async def told_read() -> bool:
            return any(json.loads(body)["data"]["state"] == "read" for _, body in received)

        await eventually(told_read, timeout=20, message="a callback says the message was read")

        async def all_delivered() -> bool:
            page = await live_sdk.list_callback_deliveries(callback["id"])
            return len(page["items"]) == len(received) and all(
                d["outcome"] == "delivered" for d in page["items"]
            )

        await eventually(all_delivered, timeout=20, message="Herald records each delivery")
        delivered = await live_sdk.list_callback_deliveries(callback["id"], outcome="delivered")
        messages = [d for d in delivered["items"] if d["type"] == "message.status"]
        assert {d["message_id"] for d in messages} == {message_id}
        assert "read" in {d["state"] for d in messages}
        templates = [d for d in delivered["items"] if d["type"] == "template.updated"]
        assert [(d["template_id"], d["state"]) for d in templates] == [(template_id, "APPROVED")]
        assert all(d["last_status"] == 204 and d["done_at"] for d in delivered["items"])
        assert (await live_sdk.list_callback_deliveries(callback["id"], outcome="dead"))[
            "items"
        ] == []
        assert (await live_sdk.delete_callback(callback["id"])) == {"id": callback["id"]}

    for header, body in received:
        event = json.loads(body)
        if event["type"] == "template.updated":  # its approval, heard of too
            assert (event["data"]["id"], event["data"]["state"]) == (template_id, "APPROVED")
        else:
            assert event["type"] == "message.status"
            assert event["data"]["id"] == message_id
        assert verify_signature(CALLBACK_SECRET, body, header)
        assert not verify_signature("another-secret-0123456789", body, header)
        assert not verify_signature(CALLBACK_SECRET, body.replace(b'"state"', b'"State"'), header)


async def test_the_sync_client_sends_v1_and_bulk_from_a_worker_thread(
    live_sdk: AsyncHeraldClient, live: Live
) -> None:
    template_id = await approve(live_sdk)

    def send_everything() -> tuple[list[int], str]:
        with HeraldClient(
            str(live.herald.base_url), email="ana@example.com", password=PASSWORD
        ) as sdk:
            contact = sdk.create_contact("21696816271", "TN", firstname="Sam", tags=["vip"])
            by_contact = sdk.send_v1(
                template_id, contact_id=contact["id"], body_params=["Sam", "A-1"]
            )
            by_number = sdk.send_v1(
                template_id, phone_number="21696816272", country_code="TN", body_params=["B", "2"]
            )
            via_template = sdk.send_to_contact(
                template_id, contact["id"], body_params=["Sam", "A-3"]
            )
            bulk = sdk.send_bulk(
                template_id,
                [
                    {"to": "21696816273", "country_code": "TN", "body_params": ["C", "3"]},
                    {"to": "123", "country_code": "TN", "body_params": ["D", "4"]},
                    {"to": "21696816274", "country_code": "TN", "body_params": ["E", "5"]},
                ],
                skip_invalid=True,
            )
            assert by_contact["message"]["contact_id"] == contact["id"]
            assert by_number["message"]["phone_number"] == "21696816272"
            assert via_template["message"]["contact_id"] == contact["id"]
            assert bulk["queued"] == 2
            assert [(r["index"], r["code"]) for r in bulk["rejected"]] == [
                (1, "invalid_phone_number")
            ]
            single_ids = [
                by_contact["message"]["id"],
                by_number["message"]["id"],
                via_template["message"]["id"],
            ]
            return single_ids, bulk["whatsapp_bulk_group_id"]

    single_ids, group_id = await asyncio.to_thread(send_everything)
    for message_id in single_ids:
        assert (await wait_for_state(live_sdk, message_id, "read"))["state"] == "read"

    async def bulk_read() -> bool:
        return (await live_sdk.get_bulk_group(group_id))["counts"].get("read") == 2

    await eventually(bulk_read, timeout=20, message="both bulk messages are read")
    grouped = await live_sdk.list_messages(whatsapp_bulk_group_id=group_id)
    assert sorted(m["phone_number"] for m in grouped["items"]) == ["21696816273", "21696816274"]


async def test_a_scheduled_message_is_cancelled_once(
    sdk: AsyncHeraldClient,
    recorder: AsyncWrapping,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    template = await approved_template(db, ana, settings, clock.now())
    later = clock.now() + timedelta(hours=2)
    accepted = await sdk.send_template(
        template.id, "21696816277", "TN", body_params=["Sam", "X"], send_at=later
    )
    assert accepted["message"]["scheduled_at"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")

    cancelled = await sdk.cancel_message(accepted["message"]["id"])
    assert cancelled["state"] == "cancelled"
    with pytest.raises(Conflict) as caught:
        await sdk.cancel_message(accepted["message"]["id"])
    assert caught.value.code == "invalid_state"
    assert caught.value.data == {"state": "cancelled"}

    with pytest.raises(ValueError, match="time zone"):
        await sdk.send_template(template.id, "21696816277", "TN", send_at=datetime(2030, 1, 1))
    send_path = f"/api/v2/whatsapp/templates/{template.id}/send"
    assert len(recorder.to(send_path)) == 1  # the naive datetime never left the client


async def test_a_bulk_with_an_invalid_recipient_queues_nothing(
    sdk: AsyncHeraldClient,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    template = await approved_template(db, ana, settings, clock.now())
    with pytest.raises(BadRequest) as caught:
        await sdk.send_bulk(
            template.id,
            [
                {"to": "21696816277", "country_code": "TN", "body_params": ["A", "1"]},
                {"to": "21696816278", "country_code": "TN", "body_params": ["B"]},
            ],
        )
    assert caught.value.code == "recipients_invalid"
    assert [(r["index"], r["code"]) for r in caught.value.data["rejected"]] == [
        (1, "body_params_mismatch")
    ]
    assert (await sdk.list_messages())["pagination"]["total"] == 0
