"""Provider faults injected through the emulator: each message ends in the right state."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select

from herald.channel import repository
from herald.db import create_engine, session_factory
from herald.dispatch.runner import MIN_CHUNK
from herald.kit.crypto import Cipher
from herald.models import Message
from tests.dispatch.test_end_to_end import SAM, approved_template, messages_of
from tests.live_herald import Live, eventually, refusals_as_sent, sends_by_number


async def _send(live: Live, auth: dict[str, str], template_id: int, body: dict[str, object]) -> str:
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template_id}/send", json=body, headers=auth
    )
    assert answer.status_code == 202, answer.text
    group: str = answer.json()["data"]["whatsapp_bulk_group_id"]
    return group


async def _state_is(live: Live, auth: dict[str, str], group: str, state: str) -> None:
    async def check() -> bool:
        return [m["state"] for m in await messages_of(live, auth, group)] == [state]

    await eventually(check, timeout=60, message=f"reaches {state}")


@pytest.mark.parametrize("knob", ["reorder_statuses", "duplicate_statuses"])
async def test_reordered_and_duplicated_statuses_end_in_read(
    live: Live, live_ana: dict[str, str], knob: str
) -> None:
    template = await approved_template(live, live_ana)
    await live.emulator.patch("/_emulator/config", json={knob: True})
    group = await _send(live, live_ana, template["id"], SAM)
    await _state_is(live, live_ana, group, "read")
    await live.emulator.post("/_emulator/drain")

    # Drained means Herald acknowledged every webhook; applying the last one (a "delivered"
    # after the "read", when reordered) happens just after, off the request path.
    async def both_times() -> bool:
        message = (await messages_of(live, live_ana, group))[0]
        return bool(message["delivered_at"] and message["read_at"])

    await eventually(both_times, timeout=30, message="delivered_at and read_at set")
    assert (await messages_of(live, live_ana, group))[0]["state"] == "read"


# The emulator answers a second after Herald's timeout: a short one keeps the test short, and
# 5 s still leaves the template submit before it room on a busy machine (it failed at 1 s).
@pytest.mark.parametrize("live_overrides", [{"provider_timeout_seconds": 5.0}], ids=["timeout5"])
async def test_an_unknown_outcome_is_not_resent_and_the_webhook_settles_it(
    live: Live, live_ana: dict[str, str]
) -> None:
    """The emulator takes the send but answers after Herald's timeout: Herald must not re-send;
    the status webhook carrying our id in biz_opaque_callback_data settles it."""
    template = await approved_template(live, live_ana)
    timeout = live.settings.provider_timeout_seconds
    await live.emulator.patch(
        "/_emulator/config",
        json={
            "timeout_rate": 1.0,
            "timeout_seconds": timeout + 1,
            "status_delays": [timeout + 0.5, 0.05, 0.05],
        },
    )
    group = await _send(live, live_ana, template["id"], SAM)
    await _state_is(live, live_ana, group, "read")
    sent = (await live.emulator.get("/_emulator/messages")).json()
    assert len(sent) == 1  # never sent twice
    message = (await messages_of(live, live_ana, group))[0]
    assert message["provider_message_id"] == sent[0]["wamid"]


async def test_pair_rate_errors_delay_that_recipient_only(
    live: Live, live_ana: dict[str, str]
) -> None:
    template = await approved_template(live, live_ana)
    await live.emulator.patch("/_emulator/config", json={"pair_rate_seconds": 0.5})
    first = await _send(live, live_ana, template["id"], SAM)
    await _state_is(live, live_ana, first, "read")
    # Herald spaces sends to one recipient by pair_spacing_seconds; the emulator refuses a
    # second send within 0.5 s. A different recipient is never held back.
    second = await _send(live, live_ana, template["id"], SAM)
    other = await _send(live, live_ana, template["id"], {**SAM, "to": "21696816278"})
    await _state_is(live, live_ana, other, "read")
    await _state_is(live, live_ana, second, "read")


async def test_the_channel_throughput_is_never_exceeded(
    live: Live, live_ana: dict[str, str]
) -> None:
    """A channel at 20/s against an emulator enforcing 20/s: no send over the limit, rate as
    configured. Judged by when each send left Herald: on two cores shared with PostgreSQL and
    the suite, a stall of the emulator's own loop bunches arrivals that left evenly spaced."""
    template = await approved_template(live, live_ana)
    await live.emulator.patch("/_emulator/config", json={"throughput_per_second": 20})
    engine = create_engine(live.settings.resolved_database_url)
    async with session_factory(engine)() as session:
        for channel in await repository.list_all(session):
            channel.throughput_per_second = 20
        await session.commit()
    recipients = [
        {"to": f"2169682{n:04d}", "country_code": "TN", "body_params": ["A", str(n)]}
        for n in range(60)
    ]
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send-bulk",
        json={"recipients": recipients},
        headers=live_ana,
    )
    group = answer.json()["data"]["whatsapp_bulk_group_id"]

    async def all_sent() -> bool:
        return len((await live.emulator.get("/_emulator/messages")).json()) == 60

    async def all_recorded() -> bool:
        # The emulator has a send before Herald records its attempt (results are recorded a
        # chunk at a time): judge the sends once Herald has recorded all of them.
        return sum(map(len, (await sends_by_number(engine)).values())) >= 60

    try:
        await eventually(all_sent, timeout=20, message="60 sent")
        await eventually(all_recorded, timeout=20, message="60 attempts recorded")
        assert await refusals_as_sent(engine, 20) == 0
        (times,) = (await sends_by_number(engine)).values()
    finally:
        await engine.dispose()
    assert len(times) >= 60
    rate = (len(times) - 1) / (times[-1] - times[0])
    # Never above the limit. How close below it a channel gets is a benchmark's figure
    # (`python -m bench pacing`, docs/benchmarks.md). The floor here only catches a pacer that
    # spaces sends wrongly (60% of the rate or less).
    assert 12 <= rate <= 20.5, rate
    window = [t for t in times if times[10] <= t < times[10] + 1.0]
    assert len(window) <= 21
    assert group
    counts = await live.herald.get(f"/api/v2/whatsapp/bulk-groups/{group}", headers=live_ana)
    assert counts.json()["data"]["total"] == 60


async def test_an_unreadable_ok_is_an_unknown_outcome_never_resent(
    live: Live, live_ana: dict[str, str]
) -> None:
    """200 with an HTML page: the provider may have taken it, so Herald must not send again;
    the status webhook settles it."""
    template = await approved_template(live, live_ana)
    await live.emulator.patch(
        "/_emulator/config", json={"malformed_answers": "accepted_html", "malformed_rate": 1.0}
    )
    group = await _send(live, live_ana, template["id"], SAM)
    await _state_is(live, live_ana, group, "read")
    assert len((await live.emulator.get("/_emulator/messages")).json()) == 1


async def test_an_html_error_page_is_retried_until_sent(
    live: Live, live_ana: dict[str, str]
) -> None:
    """A 502 HTML page from a proxy: nothing was taken, so Herald retries (transient)."""
    template = await approved_template(live, live_ana)
    await live.emulator.patch(
        "/_emulator/config", json={"malformed_answers": "error_html", "malformed_rate": 1.0}
    )
    group = await _send(live, live_ana, template["id"], SAM)

    async def refused_once() -> bool:
        return bool((await live.emulator.get("/_emulator/stats")).json()["refused"].get("502"))

    await eventually(refused_once, message="the proxy page was met")
    await live.emulator.patch("/_emulator/config", json={"malformed_rate": 0.0})
    await _state_is(live, live_ana, group, "read")
    assert len((await live.emulator.get("/_emulator/messages")).json()) == 1


async def test_a_slow_webhook_sender_still_ends_in_read(
    live: Live, live_ana: dict[str, str]
) -> None:
    template = await approved_template(live, live_ana)
    await live.emulator.patch("/_emulator/config", json={"webhook_delay_seconds": 0.5})
    groups = [
        await _send(live, live_ana, template["id"], {**SAM, "to": f"2169681627{n}"})
        for n in range(3)
    ]
    for group in groups:
        await _state_is(live, live_ana, group, "read")


async def test_a_recipient_in_two_consecutive_chunks_is_spaced(
    live: Live, live_ana: dict[str, str]
) -> None:
    """The next chunk is prepared while one is being sent: a recipient of the chunk going out
    is held back from it (pair spacing) even before their message has left."""
    template = await approved_template(live, live_ana)
    await live.emulator.patch("/_emulator/config", json={"pair_rate_seconds": 0.9})
    numbers = [f"2169683{n:04d}" for n in range(9)]
    numbers.insert(5, numbers[4])  # last of the first chunk (5 at 80/s), first of the next
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send-bulk",
        json={
            "recipients": [
                {"to": to, "country_code": "TN", "body_params": ["A", str(n)]}
                for n, to in enumerate(numbers)
            ]
        },
        headers=live_ana,
    )
    assert answer.status_code == 202, answer.text

    async def all_sent() -> bool:
        return len((await live.emulator.get("/_emulator/messages")).json()) == 10

    await eventually(all_sent, timeout=20, message="10 sent")
    stats = (await live.emulator.get("/_emulator/stats")).json()
    assert stats["refused"].get("131056", 0) == 0


async def test_refused_credentials_pause_the_channel_and_leave_the_rest_queued(
    live: Live, live_ana: dict[str, str]
) -> None:
    """Meta refuses the channel's access token (190): what went out meanwhile fails, and the
    rest of the batch the channel had claimed waits in the queue, in its place and unleased,
    for the minute's pause to end instead of failing the same way."""
    template = await approved_template(live, live_ana)
    engine = create_engine(live.settings.resolved_database_url)
    sessions = session_factory(engine)
    cipher = Cipher(live.settings.resolved_encryption_keys())
    async with sessions() as session:
        for channel in await repository.list_all(session):
            assert channel.throughput_per_second == 80  # chunks of MIN_CHUNK, a batch of 80
            channel.access_token_encrypted = cipher.encrypt("a-revoked-token")
        await session.commit()
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send-bulk",
        json={
            "recipients": [
                {"to": f"2169684{n:04d}", "country_code": "TN", "body_params": ["A", str(n)]}
                for n in range(60)
            ]
        },
        headers=live_ana,
    )
    group = answer.json()["data"]["whatsapp_bulk_group_id"]

    async def states() -> Counter[str]:
        return Counter(m["state"] for m in await messages_of(live, live_ana, group))

    async def some_failed() -> bool:
        return (await states())["failed"] > 0

    await eventually(some_failed, timeout=15, message="the first refusals recorded")
    # All 60 would have gone out within 0.75 s at 80/s; the pause has 59 s left.
    await asyncio.sleep(1.5)
    messages = await messages_of(live, live_ana, group)
    refused = [m for m in messages if m["state"] == "failed"]
    # The chunk answered with 190, the one sent meanwhile and the one marked in flight.
    assert 0 < len(refused) <= 3 * MIN_CHUNK
    assert {m["error"]["code"] for m in refused} == {"190"}
    assert Counter(m["state"] for m in messages) == Counter(
        {"failed": len(refused), "queued": 60 - len(refused)}
    )
    async with sessions() as session:
        leased = await session.scalar(
            select(func.count()).select_from(Message).where(Message.lease_owner.is_not(None))
        )
    await engine.dispose()
    assert leased == 0
