"""Several senders per user: a user with two channels in two WABAs and the same template in
each sends from either (by ``channel_id`` or ``from``), the default rules, the WABA mismatch,
another user's channel, bulk and free-form sends, and the channel routes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from herald.channel import service as channels
from herald.channel.defaults import emulator_defaults
from herald.config import Settings
from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.kit.crypto import Cipher
from herald.models import Channel, Message, Template, User
from tests.channel.helpers import add_emulator_channel
from tests.conftest import DatabaseUnderTest, add_user, assert_error, login
from tests.message.helpers import ORDER_BODY, SAM
from tests.message.test_free_form import SEND as FREE_FORM
from tests.message.test_free_form import TEXT, customer_writes

SECOND_NUMBER = "+44 7700 900002"  # unlike any sandbox number (+1 555 ...)


@dataclass
class TwoWabas:
    first: Channel  # ana's default, in WABA first.waba_id
    second: Channel  # in another WABA
    in_first: Template  # "order_confirmed" in the first WABA
    in_second: Template  # the same template in the second WABA


async def add_channel(
    db: DatabaseUnderTest,
    user: User,
    settings: Settings,
    now: datetime,
    number_id: str,
    display_number: str,
    *,
    default: bool = False,
) -> Channel:
    return await add_emulator_channel(
        db.engine, settings, user.id, number_id, display_number, now=now, default=default
    )


async def add_template(
    db: DatabaseUnderTest, user: User, channel: Channel, now: datetime
) -> Template:
    async with session_factory(db.engine)() as session:
        template = Template(
            user_id=user.id,
            channel_id=channel.id,
            waba_id=channel.waba_id,
            name="order_confirmed",
            language="en",
            category="UTILITY",
            body=ORDER_BODY,
            buttons=[],
            placeholder_count=2,
            state="APPROVED",
            provider_template_id=f"t-{channel.id}",
            created_at=now,
            updated_at=now,
        )
        session.add(template)
        await session.commit()
        return template


@pytest.fixture
async def two(db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock) -> TwoWabas:
    now = clock.now()
    async with session_factory(db.engine)() as session:
        first = await channels.ensure_default(
            session,
            ana.id,
            emulator_defaults(settings),
            Cipher(settings.resolved_encryption_keys()),
            now,
        )
        await session.commit()
    second = await add_channel(db, ana, settings, now, "200000000002", SECOND_NUMBER)
    return TwoWabas(
        first,
        second,
        await add_template(db, ana, first, now),
        await add_template(db, ana, second, now),
    )


async def send(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template, **sender: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v2/whatsapp/templates/{template.id}/send", json={**SAM, **sender}, headers=auth
    )


async def sender_of(db: DatabaseUnderTest, answer: httpx.Response) -> int:
    assert answer.status_code == 202, answer.text
    message_id = answer.json()["data"]["message"]["id"]
    async with session_factory(db.engine)() as session:
        channel_id = await session.scalar(
            select(Message.channel_id).where(Message.id == message_id)
        )
    assert channel_id is not None
    return int(channel_id)


async def test_the_same_template_goes_from_each_wabas_channel(
    client: httpx.AsyncClient, auth: dict[str, str], db: DatabaseUnderTest, two: TwoWabas
) -> None:
    assert two.first.is_default
    assert not two.second.is_default
    by_id = await send(client, auth, two.in_second, channel_id=two.second.id)
    assert await sender_of(db, by_id) == two.second.id
    by_number = await send(client, auth, two.in_second, **{"from": "447700900002"})
    assert await sender_of(db, by_number) == two.second.id
    first = await send(client, auth, two.in_first, **{"from": two.first.display_number})
    assert await sender_of(db, first) == two.first.id
    # Again, now from what the process remembers (the fast path): the same senders.
    for _ in range(2):
        again = await send(client, auth, two.in_second, channel_id=two.second.id)
        assert await sender_of(db, again) == two.second.id


async def test_without_a_sender_the_default_goes_when_in_the_templates_waba(
    client: httpx.AsyncClient, auth: dict[str, str], db: DatabaseUnderTest, two: TwoWabas
) -> None:
    assert await sender_of(db, await send(client, auth, two.in_first)) == two.first.id
    # The default is in another WABA: the template's own channel.
    assert await sender_of(db, await send(client, auth, two.in_second)) == two.second.id
    made = await client.put(f"/api/v2/channels/{two.second.id}/default", headers=auth)
    assert made.status_code == 200, made.text
    assert made.json()["data"]["is_default"] is True
    # Remembered channels are checked again by the batch: the new default holds at once.
    for _ in range(2):
        assert await sender_of(db, await send(client, auth, two.in_second)) == two.second.id
        assert await sender_of(db, await send(client, auth, two.in_first)) == two.first.id
    listed = (await client.get("/api/v2/channels", headers=auth)).json()["data"]["items"]
    assert [(c["id"], c["is_default"]) for c in listed] == [
        (two.first.id, False),
        (two.second.id, True),
    ]


async def test_two_defaults_set_at_once_leave_one_and_never_a_5xx(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    two: TwoWabas,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    third = await add_channel(db, ana, settings, clock.now(), "200000000003", "+44 7700 900003")
    for _ in range(5):
        answers = await asyncio.gather(
            *(
                client.put(f"/api/v2/channels/{channel.id}/default", headers=auth)
                for channel in (two.second, third, two.first)
            )
        )
        assert {a.status_code for a in answers} <= {200, 409}, [a.text for a in answers]
        assert 200 in {a.status_code for a in answers}
        for answer in answers:
            if answer.status_code == 409:
                assert answer.json()["code"] == "channel_default_taken"
        listed = (await client.get("/api/v2/channels", headers=auth)).json()["data"]["items"]
        assert sum(c["is_default"] for c in listed) == 1


async def test_a_sender_in_another_waba_is_refused(
    client: httpx.AsyncClient, auth: dict[str, str], db: DatabaseUnderTest, two: TwoWabas
) -> None:
    answer = await send(client, auth, two.in_first, channel_id=two.second.id)
    body = assert_error(answer, 400, "channel_waba_mismatch")
    assert body["data"] == {
        "template_waba_id": two.first.waba_id,
        "channel_waba_id": two.second.waba_id,
    }
    assert two.first.waba_id in str(body["message"])
    bulk = await client.post(
        f"/api/v2/whatsapp/templates/{two.in_first.id}/send-bulk",
        json={"recipients": [dict(SAM)], "from": SECOND_NUMBER},
        headers=auth,
    )
    assert_error(bulk, 400, "channel_waba_mismatch")


async def test_a_templates_number_moved_to_another_waba_no_longer_sends_it(
    client: httpx.AsyncClient, auth: dict[str, str], db: DatabaseUnderTest, two: TwoWabas
) -> None:
    assert await sender_of(db, await send(client, auth, two.in_second)) == two.second.id
    # The operator corrects the number's WABA (``herald channels update --waba-id``): the
    # template stays in the WABA it was made in, which the number is no longer part of.
    async with session_factory(db.engine)() as session:
        await session.execute(
            update(Channel).where(Channel.id == two.second.id).values(waba_id="moved-waba")
        )
        await session.commit()
    for _ in range(2):  # read again, then from what the process remembers
        body = assert_error(await send(client, auth, two.in_second), 400, "channel_waba_mismatch")
        assert body["data"] == {
            "template_waba_id": two.second.waba_id,
            "channel_waba_id": "moved-waba",
        }


async def test_another_users_channel_is_not_found(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    two: TwoWabas,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    bob = await add_user(db, "bob@example.com", now=clock.now())
    bobs = await add_channel(db, bob, settings, clock.now(), "300000000003", "+44 7700 900003")
    assert bobs.is_default  # a user's first channel is the default
    assert_error(
        await send(client, auth, two.in_first, channel_id=bobs.id), 404, "channel_not_found"
    )
    assert_error(
        await send(client, auth, two.in_first, **{"from": "+44 7700 900003"}),
        404,
        "channel_not_found",
    )
    assert_error(
        await client.get(f"/api/v2/channels/{bobs.id}", headers=auth), 404, "channel_not_found"
    )
    assert_error(
        await client.put(f"/api/v2/channels/{bobs.id}/default", headers=auth),
        404,
        "channel_not_found",
    )
    bob_auth = {"Authorization": f"Bearer {await login(client, bob.email)}"}
    mine = (await client.get(f"/api/v2/channels/{bobs.id}", headers=bob_auth)).json()["data"]
    assert mine["phone_number_id"] == "300000000003"
    assert "access_token" not in str(mine)
    assert "secret" not in str(mine)


async def test_bulk_sends_from_the_sender_named(
    client: httpx.AsyncClient, auth: dict[str, str], db: DatabaseUnderTest, two: TwoWabas
) -> None:
    answer = await client.post(
        f"/api/v2/whatsapp/templates/{two.in_second.id}/send-bulk",
        json={"recipients": [dict(SAM), {**SAM, "to": "21696816278"}], "from": SECOND_NUMBER},
        headers=auth,
    )
    assert answer.status_code == 202, answer.text
    async with session_factory(db.engine)() as session:
        senders = (await session.scalars(select(Message.channel_id))).all()
    assert senders == [two.second.id, two.second.id]


async def test_free_form_goes_from_the_sender_named_inside_that_senders_window(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    two: TwoWabas,
    clock: FrozenClock,
) -> None:
    # The customer wrote to the second number only: only its window is open.
    await customer_writes(client, db, two.second, clock)
    assert_error(await client.post(FREE_FORM, json=TEXT, headers=auth), 409, "window_closed")
    by_id = await client.post(FREE_FORM, json={**TEXT, "channel_id": two.second.id}, headers=auth)
    assert await sender_of(db, by_id) == two.second.id
    by_number = await client.post(FREE_FORM, json={**TEXT, "from": SECOND_NUMBER}, headers=auth)
    assert await sender_of(db, by_number) == two.second.id
    unknown = await client.post(FREE_FORM, json={**TEXT, "channel_id": 999_999}, headers=auth)
    assert_error(unknown, 404, "channel_not_found")
