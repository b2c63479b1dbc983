"""``wait_for_review``: polls a submitted template until Meta (here the emulator) decides."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from herald_client import AsyncHeraldClient, HeraldClient, ReviewTimeout
from sqlalchemy import update

from herald.config import Settings
from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.models import Template, User
from tests.conftest import PASSWORD, DatabaseUnderTest, add_user
from tests.live_herald import Live
from tests.message.helpers import approved_template
from tests.sdk.conftest import FakeTime, asgi_transport, async_client


async def test_it_returns_the_template_once_it_leaves_pending(
    herald: FastAPI,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
    fake_time: FakeTime,
) -> None:
    pending = await approved_template(db, ana, settings, clock.now(), state="PENDING")

    async def approve_on_the_second_pause(seconds: float) -> None:
        await fake_time.async_sleep(seconds)
        if len(fake_time.sleeps) == 2:  # Meta decides while the SDK waits
            async with session_factory(db.engine)() as session:
                await session.execute(
                    update(Template).where(Template.id == pending.id).values(state="REJECTED")
                )
                await session.commit()

    recorder = asgi_transport(herald)
    async with async_client(recorder, fake_time, ana, sleep=approve_on_the_second_pause) as sdk:
        decided = await sdk.wait_for_review(pending.id, timeout=60, poll_interval=5)

    assert decided["state"] == "REJECTED"
    assert decided["id"] == pending.id
    assert fake_time.sleeps == [5.0, 5.0]
    path = f"/api/v2/whatsapp/templates/{pending.id}"
    assert len(recorder.to(path)) == 3


async def test_it_gives_up_after_the_timeout_with_the_last_template_read(
    sdk: AsyncHeraldClient,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
    fake_time: FakeTime,
) -> None:
    pending = await approved_template(db, ana, settings, clock.now(), state="PENDING")
    with pytest.raises(ReviewTimeout) as caught:
        await sdk.wait_for_review(pending.id, timeout=10, poll_interval=3)
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.template["state"] == "PENDING"
    assert fake_time.sleeps == [3.0, 3.0, 3.0, 1.0]  # the last pause ends at the deadline


async def test_a_template_not_under_review_is_returned_at_once(
    sdk: AsyncHeraldClient,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
    fake_time: FakeTime,
) -> None:
    approved = await approved_template(db, ana, settings, clock.now())
    assert (await sdk.wait_for_review(approved.id))["state"] == "APPROVED"
    assert fake_time.sleeps == []
    with pytest.raises(ValueError, match="poll_interval"):
        await sdk.wait_for_review(approved.id, poll_interval=0)


async def test_the_sync_client_waits_for_the_emulator_to_approve(
    live: Live, db: DatabaseUnderTest
) -> None:
    ana = await add_user(db, "ana@example.com")

    def create_submit_and_wait() -> tuple[str, str]:
        # Real time: the emulator approves on its own clock, after a pause.
        with HeraldClient(str(live.herald.base_url), email=ana.email, password=PASSWORD) as sdk:
            created = sdk.create_template("order_confirmed", "en", "UTILITY", "Hi {{1}}.")
            submitted = sdk.submit_template(created["id"])
            decided = sdk.wait_for_review(created["id"], timeout=30, poll_interval=0.2)
            return submitted["state"], decided["state"]

    assert await asyncio.to_thread(create_submit_and_wait) == ("PENDING", "APPROVED")
