"""A customer's file that cannot be fetched: too large (refused while it downloads, failed at
once) or behind a provider that does not answer (tried again later, each time twice as late,
then failed); either way the message is announced without it, and the others go on."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from herald.config import Settings
from herald.conversation.media_fetch import MAX_ATTEMPTS, MediaFetcher, retry_after
from herald.db import session_factory
from herald.emulator.app import create_emulator_app
from herald.emulator.config import EmulatorConfig
from herald.kit.clock import FrozenClock
from herald.kit.crypto import Cipher
from herald.media.kinds import INBOUND_MAX_SIZE
from herald.media.storage import open_store
from herald.meta_webhook.processor import process_pending
from herald.models import CallbackDelivery, CallbackEndpoint, Channel, InboundMessage, User
from herald.provider.cloud_api import CloudApiProvider, new_session
from tests.conftest import EMULATOR_ACCESS_TOKEN, EMULATOR_APP_SECRET, DatabaseUnderTest
from tests.live import serve_app
from tests.message.helpers import approved_template
from tests.meta_webhook.test_endpoints import sign
from tests.meta_webhook.test_failed_status import delivery

CUSTOMER = "21696816277"


@pytest.fixture
async def emulator_url() -> AsyncIterator[str]:
    app = create_emulator_app(
        EmulatorConfig(access_token=EMULATOR_ACCESS_TOKEN, app_secret=EMULATOR_APP_SECRET)
    )
    try:
        async with serve_app(app) as url:
            yield url
    finally:
        await app.state.emulator.aclose()


def image_message(number_id: str, wamid: str, media_id: str, kind: str = "image") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": number_id},
        "contacts": [{"profile": {"name": "Sam"}, "wa_id": CUSTOMER}],
        "messages": [
            {
                "from": CUSTOMER,
                "id": wamid,
                "timestamp": "1700000000",
                "type": kind,
                kind: {"id": media_id, "mime_type": "image/webp", "sha256": "x"},
            }
        ],
    }


async def channel_of(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> tuple[str, str]:
    """Ana's channel (its WABA and phone number ids), with a callback for received messages."""
    template = await approved_template(db, ana, settings, clock.now())
    async with session_factory(db.engine)() as session:
        channel = await session.get(Channel, template.channel_id)
        assert channel is not None
        session.add(
            CallbackEndpoint(
                user_id=ana.id,
                url="https://shop.example.com/herald",
                events=["message.received"],
                secret_encrypted=Cipher(settings.resolved_encryption_keys()).encrypt("s" * 32),
                created_at=clock.now(),
            )
        )
        await session.commit()
        return channel.waba_id, channel.phone_number_id


async def customer_sends(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    clock: FrozenClock,
    numbers: tuple[str, str],
    messages: list[tuple[str, str, str]],
) -> None:
    """The customer's messages (wamid, provider media id, kind) reach Herald."""
    waba_id, number_id = numbers
    for wamid, media_id, kind in messages:
        body = delivery(waba_id, [("messages", image_message(number_id, wamid, media_id, kind))])
        answer = await client.post("/webhooks/whatsapp", content=body, headers=sign(body))
        assert answer.is_success, answer.text
        assert await process_pending(session_factory(db.engine), clock) == 1


async def rows(db: DatabaseUnderTest) -> list[InboundMessage]:
    async with session_factory(db.engine)() as session:
        return list((await session.scalars(select(InboundMessage).order_by("id"))).all())


async def announced(db: DatabaseUnderTest) -> list[dict[str, Any]]:
    async with session_factory(db.engine)() as session:
        found = (await session.scalars(select(CallbackDelivery).order_by("id"))).all()
    return [d.event["data"] for d in found if d.event is not None]


async def test_an_unreachable_provider_is_tried_again_later_then_the_file_fails(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    # The settings' emulator is at a port nothing listens on: every lookup fails to connect.
    numbers = await channel_of(db, ana, settings, clock)
    await customer_sends(client, db, clock, numbers, [("wamid.a", "m-1", "image")])
    assert await announced(db) == []  # a message with a file waits for it
    async with new_session(5.0) as http:
        fetcher = MediaFetcher(
            session_factory(db.engine),
            CloudApiProvider(http),
            open_store(settings),
            Cipher(settings.resolved_encryption_keys()),
            clock,
            settings.upload_dir,
        )
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if attempt > 1:
                clock.advance(retry_after(attempt - 1) - timedelta(seconds=1))
                assert await fetcher.run_once() == 0  # not due again yet
                clock.advance(timedelta(seconds=1))
            assert await fetcher.run_once() == 1
            [row] = await rows(db)
            assert row.media_attempts == attempt
            if attempt < MAX_ATTEMPTS:
                assert row.media_status == "pending"
    assert (row.media_status, row.media_id) == ("failed", None)
    [event] = await announced(db)
    assert (event["media"], event["media_status"], event["kind"]) == (None, "failed", "image")


async def test_a_file_over_the_limit_fails_at_once_and_the_others_are_stored(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
    emulator_url: str,
) -> None:
    settings = settings.model_copy(update={"emulator_url": emulator_url})
    numbers = await channel_of(db, ana, settings, clock)
    async with httpx.AsyncClient(base_url=emulator_url) as emulator:

        async def upload(size: int) -> str:
            content = b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * size
            answer = await emulator.post(
                "/_emulator/inbound",
                json={
                    "waba_id": numbers[0],
                    "phone_number_id": numbers[1],
                    "from": CUSTOMER,
                    "type": "sticker",
                    "media": {
                        "content_base64": base64.b64encode(content).decode(),
                        "mime_type": "image/webp",
                    },
                },
            )
            assert answer.status_code == 200, answer.text
            media_id: str = answer.json()["media_id"]
            return media_id

        big, small = await upload(2000), await upload(100)
    await customer_sends(
        client,
        db,
        clock,
        numbers,
        [("wamid.big", big, "sticker"), ("wamid.ok", small, "sticker")],
    )
    async with new_session(5.0) as http:
        fetcher = MediaFetcher(
            session_factory(db.engine),
            CloudApiProvider(http),
            open_store(settings),
            Cipher(settings.resolved_encryption_keys()),
            clock,
            settings.upload_dir,
            {**INBOUND_MAX_SIZE, "sticker": 1000},  # smaller than Meta's: a file it lets by
        )
        clock.advance(timedelta(seconds=1))
        assert await fetcher.run_once() == 2
    first, second = await rows(db)
    assert (first.media_status, first.media_attempts, first.media_id) == ("failed", 1, None)
    assert second.media_status == "stored"
    assert second.media_id is not None
    events = {e["id"]: e for e in await announced(db)}
    assert events[first.id]["media"] is None
    assert events[second.id]["media"]["url"] == f"/api/v2/whatsapp/media/{second.media_id}/content"
    assert list(settings.upload_dir.glob("inbound-*")) == []  # no download left behind
