"""Meta's messaging limit at intake (``message/limit.py``): a send past the WABA's tier of
unique customers in a rolling 24 h is accepted with the excess held (``data.held``), a customer
already reached costs nothing new, the hold ends when the window frees or the tier is upgraded,
and a WABA without a tier (or unlimited) is not touched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from herald.config import Settings
from herald.db import session_factory
from herald.dispatch import repository as dispatch_repository
from herald.kit.clock import FrozenClock, iso_utc
from herald.message import limit
from herald.models import Channel, Message, Template, User
from herald.models.message import BULK
from tests.channel.helpers import add_emulator_channel
from tests.conftest import DatabaseUnderTest, add_user, count_rows, login
from tests.message.helpers import approved_template, send_path

DAY = timedelta(hours=24)


@pytest.fixture
async def template(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> Template:
    return await approved_template(db, ana, settings, clock.now())


def recipients(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {"to": f"2169{start + n:07d}", "country_code": "TN", "body_params": ["A", str(n)]}
        for n in range(count)
    ]


async def set_tier(db: DatabaseUnderTest, template: Template, tier: str | None) -> str:
    """The tier Meta reported for the template's channel; returns the channel's WABA."""
    async with session_factory(db.engine)() as session:
        channel = await session.get(Channel, template.channel_id)
        assert channel is not None
        channel.messaging_limit_tier = tier
        await session.commit()
        return channel.waba_id


async def bulk(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template, sent: list[Any]
) -> dict[str, Any]:
    answer = await client.post(
        f"/api/v2/whatsapp/templates/{template.id}/send-bulk",
        json={"recipients": sent},
        headers=auth,
    )
    assert answer.status_code == 202, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


async def single(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    to: str,
    key: str | None = None,
) -> dict[str, Any]:
    headers = {**auth, "Idempotency-Key": key} if key else auth
    answer = await client.post(
        send_path(template),
        json={"to": to, "country_code": "TN", "body_params": ["A", "1"]},
        headers=headers,
    )
    assert answer.status_code == 202, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


async def advance(
    client: httpx.AsyncClient, auth: dict[str, str], clock: FrozenClock, by: timedelta
) -> None:
    """Time passes (past the session's hour): log in again."""
    clock.advance(by)
    auth["Authorization"] = f"Bearer {await login(client, 'ana@example.com')}"


async def held_messages(db: DatabaseUnderTest) -> list[Message]:
    async with session_factory(db.engine)() as session:
        found = await session.execute(
            select(Message).where(Message.held_reason.is_not(None)).order_by(Message.id)
        )
        return list(found.scalars())


@pytest.mark.parametrize("tier", [None, "TIER_UNLIMITED"])
async def test_a_waba_without_a_limit_is_not_touched(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    tier: str | None,
) -> None:
    await set_tier(db, template, tier)
    data = await bulk(client, auth, template, recipients(80))
    assert data["queued"] == 80
    assert data["held"] is None
    one = await single(client, auth, template, "21690000999")
    assert one["held"] is None
    assert one["message"]["held_reason"] is None
    assert await count_rows(db, "messaging_reaches") == 0  # no work at all
    assert await held_messages(db) == []


async def test_under_the_tier_nothing_is_held(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    session: Any,
    clock: FrozenClock,
) -> None:
    waba_id = await set_tier(db, template, "TIER_50")
    data = await bulk(client, auth, template, recipients(40))
    assert data["held"] is None
    for n in range(10):
        assert (await single(client, auth, template, f"2169100{n:04d}"))["held"] is None
    assert await held_messages(db) == []
    assert await limit.usage(session, template.user_id, waba_id, clock.now()) == 50


async def test_a_bulk_send_past_the_tier_holds_exactly_the_excess(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    clock: FrozenClock,
) -> None:
    await set_tier(db, template, "TIER_50")
    first = clock.now()
    assert (await bulk(client, auth, template, recipients(30)))["held"] is None
    await advance(client, auth, clock, timedelta(hours=1))
    second = clock.now()
    assert (await bulk(client, auth, template, recipients(20, start=100)))["held"] is None
    await advance(client, auth, clock, timedelta(hours=1))

    data = await bulk(client, auth, template, recipients(35, start=200))

    # 30 places free when the first 30 customers' day ends, the next 5 an hour later.
    assert data["queued"] == 35
    assert data["held"] == {"count": 35, "until": iso_utc(second + DAY)}
    held = await held_messages(db)
    assert len(held) == 35
    assert all(m.held_reason == "messaging_limit" for m in held)
    by_number = {m.phone_number: m.scheduled_at for m in held}
    assert [by_number[f"2169{200 + n:07d}"] for n in range(35)] == [first + DAY] * 30 + [
        second + DAY
    ] * 5
    assert all(m.next_attempt_at == m.scheduled_at for m in held)
    # The message shows why it waits.
    shown = await client.get(f"/api/whatsapp/{held[0].id}/", headers=auth)
    assert shown.json()["data"]["held_reason"] == "messaging_limit"
    assert shown.json()["data"]["scheduled_at"] == iso_utc(first + DAY)


async def test_customers_already_reached_are_not_counted_twice(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    clock: FrozenClock,
) -> None:
    await set_tier(db, template, "TIER_50")
    assert (await bulk(client, auth, template, recipients(50)))["held"] is None
    await advance(client, auth, clock, timedelta(hours=2))
    again = recipients(50) + recipients(1, start=500)
    data = await bulk(client, auth, template, again)
    assert data["held"]["count"] == 1
    assert [m.phone_number for m in await held_messages(db)] == ["21690000500"]
    # A single send to a customer of the window goes at once, even at the tier.
    assert (await single(client, auth, template, "21690000007"))["held"] is None


@pytest.mark.parametrize("keyed", [False, True])
async def test_a_single_send_past_the_tier_answers_until_when(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    clock: FrozenClock,
    keyed: bool,
) -> None:
    await set_tier(db, template, "TIER_50")
    await bulk(client, auth, template, recipients(50))
    data = await single(client, auth, template, "21699999999", "k-1" if keyed else None)
    assert data["held"] == iso_utc(clock.now() + DAY)
    assert data["message"]["held_reason"] == "messaging_limit"
    assert data["message"]["scheduled_at"] == iso_utc(clock.now() + DAY)


async def test_the_hold_ends_when_the_window_frees(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    clock: FrozenClock,
) -> None:
    await set_tier(db, template, "TIER_50")
    await bulk(client, auth, template, recipients(55))
    [*_, last] = await held_messages(db)
    frees = clock.now() + DAY
    channel_id, group = template.channel_id or 0, last.whatsapp_bulk_group_id

    async def claimed(at: datetime) -> set[int]:
        async with session_factory(db.engine)() as session:
            due = await dispatch_repository.claim(
                session, channel_id, "t:1", 100, at, timedelta(seconds=60), BULK, group
            )
            ids = {m.id for m in due}
            await session.rollback()
            return ids

    assert last.id not in await claimed(frees - timedelta(seconds=1))
    assert last.id in await claimed(frees)
    # And a day later the window is empty again: nothing new is held.
    await advance(client, auth, clock, DAY + timedelta(seconds=1))
    assert (await single(client, auth, template, "21698888888"))["held"] is None


async def test_a_tier_upgrade_releases_the_held_messages(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    clock: FrozenClock,
) -> None:
    waba_id = await set_tier(db, template, "TIER_50")
    await bulk(client, auth, template, recipients(300))
    assert len(await held_messages(db)) == 250
    await advance(client, auth, clock, timedelta(minutes=5))
    await set_tier(db, template, "TIER_250")
    async with session_factory(db.engine)() as session:
        released = await limit.release_held(session, waba_id, clock.now())
        await session.commit()
    # 200 more fit the new tier now; the last 50 still wait, for when the first day ends.
    assert released == 200
    still = await held_messages(db)
    async with session_factory(db.engine)() as session:
        now_due = await session.execute(
            select(Message.id).where(
                Message.next_attempt_at == clock.now(), Message.held_reason.is_(None)
            )
        )
        assert len(list(now_due.scalars())) == 200
    assert len([m for m in still if m.state == "queued"]) == 50
    # Unlimited: the rest go too.
    await set_tier(db, template, "TIER_UNLIMITED")
    async with session_factory(db.engine)() as session:
        assert await limit.release_held(session, waba_id, clock.now()) == 50
        await session.commit()


@pytest.mark.parametrize("keyed", [False, True])
async def test_a_release_keeps_a_later_send_at(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    clock: FrozenClock,
    keyed: bool,
) -> None:
    """A send scheduled for later and held past it is released by an upgrade for when it was
    asked, not at once."""
    waba_id = await set_tier(db, template, "TIER_50")
    await bulk(client, auth, template, recipients(50))
    asked = clock.now() + timedelta(hours=3)
    later = {"send_at": iso_utc(asked)}
    answer = await client.post(
        f"/api/v2/whatsapp/templates/{template.id}/send-bulk",
        json={"recipients": recipients(2, start=100), **later},
        headers=auth,
    )
    assert answer.json()["data"]["held"]["count"] == 2, answer.text
    headers = {**auth, "Idempotency-Key": "k-1"} if keyed else auth
    body = {"to": "21693000001", "country_code": "TN", "body_params": ["A", "1"], **later}
    answer = await client.post(send_path(template), json=body, headers=headers)
    assert answer.json()["data"]["held"] == iso_utc(clock.now() + DAY), answer.text
    assert [m.held_from for m in await held_messages(db)] == [asked] * 3

    await advance(client, auth, clock, timedelta(hours=1))
    await set_tier(db, template, "TIER_250")
    async with session_factory(db.engine)() as session:
        assert await limit.release_held(session, waba_id, clock.now()) == 3
        await session.commit()
    async with session_factory(db.engine)() as session:
        released = await session.execute(
            select(Message.next_attempt_at, Message.scheduled_at, Message.held_reason).where(
                Message.phone_number.in_(["21690000100", "21690000101", "21693000001"])
            )
        )
        assert list(released.all()) == [(asked, asked, None)] * 3


async def test_another_waba_is_not_affected(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    await set_tier(db, template, "TIER_50")
    bob = await add_user(db, "bob@example.com", now=clock.now())
    bobs = await approved_template(db, bob, settings, clock.now())
    async with session_factory(db.engine)() as session:
        await session.execute(
            update(Channel).where(Channel.id == bobs.channel_id).values(waba_id="bob-waba")
        )
        await session.commit()
    await set_tier(db, bobs, "TIER_50")
    bob_auth = {"Authorization": f"Bearer {await login(client, bob.email)}"}
    assert (await bulk(client, auth, template, recipients(60)))["held"]["count"] == 10
    # The same customers, from bob's WABA: a window of its own.
    assert (await bulk(client, bob_auth, bobs, recipients(50)))["held"] is None


@pytest.mark.parametrize("keyed", [False, True])
async def test_a_wabas_tier_holds_whichever_of_its_numbers_sends(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
    session: Any,
    keyed: bool,
) -> None:
    """A template sends from any number of its WABA, and Meta's limit is the WABA's (its
    business's): a tier one number reported counts the sends of every number of the WABA,
    whichever the template was made through."""
    waba_id = await set_tier(db, template, None)
    limited = await add_emulator_channel(
        db.engine, settings, ana.id, "200000000002", "+44 7700 900002", waba_id=waba_id
    )
    other_waba = await add_emulator_channel(
        db.engine, settings, ana.id, "200000000003", "+44 7700 900003"
    )
    async with session_factory(db.engine)() as writing:
        await writing.execute(
            update(Channel)
            .where(Channel.id.in_([limited.id, other_waba.id]))
            .values(messaging_limit_tier="TIER_50")
        )
        # As a template Herald created or imported has it (helpers' fixture makes none).
        await writing.execute(
            update(Template).where(Template.id == template.id).values(waba_id=waba_id)
        )
        await writing.commit()
    # From the template's own number, which reported no tier: counted all the same.
    assert (await bulk(client, auth, template, recipients(45)))["held"] is None
    assert await limit.usage(session, template.user_id, waba_id, clock.now()) == 45
    # From the number that reported it, in single sends: the 51st customer is held.
    sent = []
    for n in range(6):
        headers = {**auth, "Idempotency-Key": f"k-{n}"} if keyed else auth
        body = {"to": f"2169300{n:04d}", "country_code": "TN", "body_params": ["A", "1"]}
        answer = await client.post(
            send_path(template), json={**body, "channel_id": limited.id}, headers=headers
        )
        assert answer.status_code == 202, answer.text
        sent.append(answer.json()["data"]["held"])
    assert sent == [None] * 5 + [iso_utc(clock.now() + DAY)]
    # And a bulk send from the template's number past the tier holds its excess.
    assert (await bulk(client, auth, template, recipients(2, start=500)))["held"]["count"] == 2
    assert [m.channel_id for m in await held_messages(db)] == [limited.id] + [
        template.channel_id
    ] * 2


def test_placing_counts_each_customer_once_and_frees_in_order() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    counted = {"a": t0, "b": t0 + timedelta(hours=1)}
    wanted = [
        ("a", t0 + timedelta(hours=2)),  # already counted
        ("c", t0 + timedelta(hours=2)),  # held until b's day ends (a now counts from +2 h)
        ("d", t0 + timedelta(hours=2)),  # then a's
        ("c", t0 + timedelta(hours=3)),  # c is counted (at its held time): nothing new
    ]
    assert limit.place(counted, wanted, 2) == [
        None,
        t0 + DAY + timedelta(hours=1),
        t0 + DAY + timedelta(hours=2),
        None,
    ]


def test_a_wabas_tier_is_the_lowest_its_numbers_reported() -> None:
    assert limit.waba_tier([None, "TIER_1K", "TIER_250", "TIER_UNLIMITED"]) == "TIER_250"
    assert limit.waba_tier(["TIER_2K", "TIER_10K"]) == "TIER_2K"
    assert limit.waba_tier([None, "TIER_UNLIMITED"]) is None
    assert limit.waba_tier([]) is None
