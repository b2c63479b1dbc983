"""The lease rules after a crash, and the retry policy's bounds, with a frozen clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from herald.config import Settings
from herald.db import session_factory
from herald.dispatch import repository
from herald.dispatch.policy import Outcome, RetryPolicy, decide
from herald.kit.clock import FrozenClock
from herald.models import Message, User
from herald.provider.base import ErrorKind, ProviderError
from tests.conftest import DatabaseUnderTest
from tests.message.helpers import approved_template

LEASE = timedelta(seconds=60)


async def _queue(
    db: DatabaseUnderTest, ana: User, settings: Settings, now: datetime, count: int
) -> int:
    template = await approved_template(db, ana, settings, now)
    async with session_factory(db.engine)() as session:
        for n in range(count):
            session.add(
                Message(
                    user_id=ana.id,
                    channel_id=template.channel_id,
                    template_id=template.id,
                    template_name=template.name,
                    template_language="en",
                    phone_number=f"2169681627{n}",
                    country_code="TN",
                    whatsapp_bulk_group_id="g",
                    priority=0,
                    content={"body_params": ["a", "b"]},
                    state="queued",
                    created_at=now,
                    next_attempt_at=now,
                    deadline_at=now + timedelta(days=1),
                    attempts=0,
                    pair_rate_hits=0,
                    updated_at=now,
                )
            )
        await session.commit()
    assert template.channel_id is not None
    return template.channel_id


async def _states(db: DatabaseUnderTest) -> list[tuple[str, bool, str | None]]:
    async with session_factory(db.engine)() as session:
        from sqlalchemy import select

        rows = (await session.execute(select(Message).order_by(Message.id))).scalars()
        return [(m.state, m.outcome_unknown_since is not None, m.error_code) for m in rows]


async def test_expired_leases_requeue_unsent_and_flag_in_flight(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> None:
    now = clock.now()
    channel_id = await _queue(db, ana, settings, now, 3)
    sessions = session_factory(db.engine)
    async with sessions() as session:
        claimed = await repository.claim(session, channel_id, "dead:1", 3, now, LEASE, 0)
        assert len(claimed) == 3
        marked = await repository.mark_in_flight(session, [claimed[0].id], "dead:1", now, LEASE)
        assert marked == {claimed[0].id}
        await session.commit()
    async with sessions() as session:  # a claim that lost its lease marks nothing
        assert (
            await repository.mark_in_flight(session, [claimed[1].id], "other:1", now, LEASE)
            == set()
        )

    async with sessions() as session:  # the lease still holds: nothing moves
        assert await repository.reap(session, now + timedelta(seconds=59), timedelta(hours=1)) == {
            "requeued": 0,
            "unknown": 0,
            "failed_unknown": 0,
        }
        await session.commit()
    later = now + timedelta(seconds=61)
    async with sessions() as session:
        counts = await repository.reap(session, later, timedelta(hours=1))
        await session.commit()
    assert counts == {"requeued": 2, "unknown": 1, "failed_unknown": 0}
    assert await _states(db) == [
        ("sending", True, None),
        ("queued", False, None),
        ("queued", False, None),
    ]

    async with sessions() as session:  # the old claim cannot send what went back
        assert (
            await repository.mark_in_flight(session, [claimed[1].id], "dead:1", later, LEASE)
            == set()
        )
    async with sessions() as session:
        counts = await repository.reap(
            session, later + timedelta(hours=1, seconds=1), timedelta(hours=1)
        )
        await session.commit()
    assert counts["failed_unknown"] == 1
    assert (await _states(db))[0] == ("failed", True, "outcome_unknown")


async def test_a_message_is_marked_in_flight_once(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> None:
    """Marking is what hands a message to the runner to send: a second mark of a message still
    on its way (a chunk that took it in again) hands it over nothing."""
    now = clock.now()
    channel_id = await _queue(db, ana, settings, now, 2)
    sessions = session_factory(db.engine)
    async with sessions() as session:
        ids = [m.id for m in await repository.claim(session, channel_id, "one:1", 2, now, LEASE, 0)]
        assert await repository.mark_in_flight(session, ids[:1], "one:1", now, LEASE) == {ids[0]}
        await session.commit()
    async with sessions() as session:
        assert await repository.mark_in_flight(session, ids, "one:1", now, LEASE) == {ids[1]}


async def test_a_chunk_marked_but_never_sent_goes_back_to_the_queue(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> None:
    """What a runner that stops between marking a chunk and sending it gives back: due again
    at once, not "outcome unknown"; only its own, still-marked messages."""
    now = clock.now()
    channel_id = await _queue(db, ana, settings, now, 3)
    sessions = session_factory(db.engine)
    async with sessions() as session:
        claimed = await repository.claim(session, channel_id, "stopping:1", 3, now, LEASE, 0)
        ids = [m.id for m in claimed]
        assert await repository.mark_in_flight(session, ids[:2], "stopping:1", now, LEASE) == set(
            ids[:2]
        )
        await session.commit()
    async with sessions() as session:  # another claim's token gives back nothing
        await repository.unmark(session, ids, "other:1", now)
        await session.commit()
    assert [state for state, _, _ in await _states(db)] == ["sending", "sending", "sending"]

    async with sessions() as session:
        await repository.unmark(session, ids, "stopping:1", now)
        await session.commit()
    # The two marked ones are queued again; the third was claimed but never marked, so it
    # stays with its claim (its lease returns it, as for any claim).
    assert await _states(db) == [
        ("queued", False, None),
        ("queued", False, None),
        ("sending", False, None),
    ]
    async with sessions() as session:
        again = await repository.claim(session, channel_id, "next:1", 3, now, LEASE, 0)
    assert sorted(m.id for m in again) == ids[:2]
    async with sessions() as session:  # and the reaper finds nothing unknown among them
        counts = await repository.reap(session, now + timedelta(seconds=61), timedelta(hours=1))
    assert counts["unknown"] == 0


async def test_claims_take_due_messages_once(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> None:
    now = clock.now()
    channel_id = await _queue(db, ana, settings, now, 5)
    sessions = session_factory(db.engine)
    async with sessions() as session:
        first = await repository.claim(session, channel_id, "a:1", 3, now, LEASE, 0)
        await session.commit()
    async with sessions() as session:
        second = await repository.claim(session, channel_id, "b:1", 10, now, LEASE, 0)
        await session.commit()
    assert len(first) == 3
    assert len(second) == 2
    assert {m.id for m in first}.isdisjoint({m.id for m in second})
    async with sessions() as session:
        assert await repository.claim(session, channel_id, "c:1", 10, now, LEASE, 0) == []


def test_backoff_is_jittered_exponential_and_capped() -> None:
    policy, rng = RetryPolicy(), random.Random(7)
    for attempt, mean in ((1, 1), (2, 2), (5, 16), (20, 300)):
        delays = [policy.backoff(attempt, rng).total_seconds() for _ in range(200)]
        assert min(delays) >= mean * 0.5
        assert max(delays) <= mean * 1.5
        assert max(delays) - min(delays) > mean * 0.5  # really jittered
    assert [policy.pair_rate_delay(n).total_seconds() for n in range(1, 5)] == [4, 16, 64, 256]


def test_decisions_follow_the_error_kind_and_the_deadline() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    policy, rng = RetryPolicy(), random.Random(1)
    far, near = now + timedelta(days=1), now + timedelta(milliseconds=100)

    def outcome(kind: ErrorKind, deadline: datetime = far) -> Outcome:
        return decide(ProviderError(kind, 1, "x"), 1, 1, deadline, now, policy, rng).outcome

    assert outcome(ErrorKind.TRANSIENT) is Outcome.RETRY
    assert outcome(ErrorKind.THROTTLED) is Outcome.RETRY
    assert outcome(ErrorKind.PAIR_RATE) is Outcome.RETRY
    assert outcome(ErrorKind.TRANSIENT, near) is Outcome.FAILED  # past the deadline
    for kind in (
        ErrorKind.PERMANENT,
        ErrorKind.AUTH,
        ErrorKind.OPTED_OUT,
        ErrorKind.TEMPLATE_UNAVAILABLE,
        ErrorKind.SENDER_LIMITED,
    ):
        assert outcome(kind) is Outcome.FAILED
    assert outcome(ErrorKind.UNKNOWN_OUTCOME) is Outcome.UNKNOWN
    throttled = decide(ProviderError(ErrorKind.THROTTLED, 130429, "x"), 1, 0, far, now, policy, rng)
    assert throttled.slow_sender
