"""Meta's messaging limit: how many unique customers a WABA may reach with business-initiated
templates in a rolling 24 hours (its tier). A send past it is accepted with the excess held:
stored queued, due when the window frees (``held_reason``), rather than refused by Meta.

Every storing of template sends asks ``hold_excess`` (the batcher's batch, a keyed or media
single send, a bulk send): the one place the limit is decided. A WABA without a tier (never
reported) or with TIER_UNLIMITED is not limited and costs nothing: no row, no statement.

Usage is kept in ``messaging_reaches``: per user, WABA and number, the latest time a template
reached or is due to reach that customer (a held send counts at the time it is held until).
A send at ``t`` is placed if fewer than ``limit`` customers count after ``t - 24 h`` (future
ones included: conservative, so no 24 h window ever holds more than the tier); otherwise it is
held until enough of them expire. A customer already counted costs nothing new.

The batcher remembers per process each limited WABA's count (``LimitMemory``): while it is
fresh and well under the tier, a batch only adds its customers (one statement a batch, no
read); near the tier every batch reads the window under a lock, in its own transaction.
Several processes may still race past the tier between two reads: Meta's refusal for the limit
(``ErrorKind.MESSAGING_LIMIT``) is then held by the dispatcher too (``dispatch/limit_holds.py``).
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from herald.channel import repository as channel_repository
from herald.channel.health import TIER_CUSTOMERS
from herald.message import limit_repository as repository
from herald.models.message import MESSAGING_LIMIT
from herald.models.message import MESSAGING_LIMIT_WINDOW as WINDOW

log = structlog.get_logger("herald.message")

# The per-process count is trusted, without a read, while it is this fresh and the batch
# keeps it under this share of the tier: the rest of the tier is the margin other processes
# may take meanwhile.
FRESH_SECONDS = 5.0
FAST_SHARE = 0.5


def limit_of(tier: str | None) -> int | None:
    """The tier's number of customers; None: not limited."""
    return TIER_CUSTOMERS.get(tier) if tier is not None else None


def waba_tier(reported: Iterable[str | None]) -> str | None:
    """A WABA's tier from what its numbers reported (each channel's ``messaging_limit_tier``):
    the lowest. Meta sets one limit for all the numbers of a business, so their reports agree
    but for one not updated yet, and the lower one is the safe one. None: not limited (none
    reported, or only unlimited)."""
    limited = [(customers, tier) for tier in reported if (customers := limit_of(tier))]
    return min(limited)[1] if limited else None


@dataclass
class LimitMemory:
    """Per process: each limited WABA's count as last read, plus what this process added."""

    counts: dict[tuple[int, str], tuple[int, float]] = field(default_factory=dict)

    def room(self, user_id: int, waba_id: str, limit: int, adding: int) -> bool:
        known = self.counts.get((user_id, waba_id))
        if known is None or time.monotonic() - known[1] > FRESH_SECONDS:
            return False
        return known[0] + adding <= limit * FAST_SHARE

    def added(self, user_id: int, waba_id: str, count: int) -> None:
        known = self.counts.get((user_id, waba_id))
        if known is not None:
            self.counts[(user_id, waba_id)] = (known[0] + count, known[1])

    def read(self, user_id: int, waba_id: str, count: int) -> None:
        if len(self.counts) >= 10_000:
            self.counts.clear()
        self.counts[(user_id, waba_id)] = (count, time.monotonic())


def place(
    counted: dict[str, datetime], wanted: Sequence[tuple[str, datetime]], limit: int
) -> list[datetime | None]:
    """For each (number, due time) in order, None if it goes when due, else when it is held
    until. ``counted``: each number counted (its latest time), updated with the new ones."""
    times = sorted(counted.values())
    answers: list[datetime | None] = []
    for number, due in wanted:
        known = counted.get(number)
        if known is not None and known > due - WINDOW:
            answers.append(None)  # already a customer of the window: nothing new
            if due > known:
                times.pop(bisect.bisect_left(times, known))
                bisect.insort(times, due)
                counted[number] = due
            continue
        if known is not None:  # counted once, expired by ``due``
            times.pop(bisect.bisect_left(times, known))
        at = due
        if len(times) - bisect.bisect_right(times, due - WINDOW) >= limit:
            # The window frees once all but ``limit - 1`` of the counted ones have expired.
            at = max(due, times[len(times) - limit] + WINDOW)
        answers.append(at if at > due else None)
        bisect.insort(times, at)
        counted[number] = at
    return answers


async def hold_excess(
    session: AsyncSession,
    user_id: int,
    waba_id: str,
    tier: str | None,
    wanted: Sequence[tuple[str, datetime]],
    memory: LimitMemory | None = None,
) -> list[datetime | None]:
    """The sends (number, due time) about to be stored for a WABA, in order: for each, None
    (sent when due) or the time it is held until; their customers are counted. Runs in the
    transaction that stores them."""
    limit = limit_of(tier)
    if limit is None or not wanted:
        return [None] * len(wanted)
    if memory is not None and memory.room(user_id, waba_id, limit, len(wanted)):
        reached: dict[str, datetime] = {}
        for number, due in wanted:
            reached[number] = max(due, reached.get(number, due))
        await repository.add_reaches(session, user_id, waba_id, reached)
        memory.added(user_id, waba_id, len(reached))
        return [None] * len(wanted)
    await repository.lock_waba(session, user_id, waba_id)
    earliest = min(due for _, due in wanted)
    counted = await repository.reaches_since(session, user_id, waba_id, earliest - WINDOW)
    before = dict(counted)
    answers = place(counted, wanted, limit)
    await repository.add_reaches(
        session, user_id, waba_id, {n: at for n, at in counted.items() if before.get(n) != at}
    )
    if memory is not None:
        memory.read(user_id, waba_id, len(counted))
    held = sum(1 for at in answers if at is not None)
    if held:
        log.info("message.held_for_messaging_limit", count=held, limit=limit)
    return answers


def held_row(row: dict[str, Any], until: datetime) -> None:
    """A new message's row (``service.queued_columns``) held until ``until``: its deadline
    moves with it, as a scheduled send's does."""
    due: datetime = row["next_attempt_at"]
    deadline: datetime = row["deadline_at"]
    row["scheduled_at"] = until
    row["next_attempt_at"] = until
    row["deadline_at"] = until + (deadline - due)
    row["held_reason"] = MESSAGING_LIMIT
    row["held_from"] = due


async def hold_channel_excess(
    session: AsyncSession,
    user_id: int,
    channel_id: int | None,
    wanted: Sequence[tuple[str, datetime]],
) -> list[datetime | None]:
    """``hold_excess`` for sends through a channel whose WABA and tier are not known yet (a
    keyed or media single send, a bulk send: one read of the channel and its WABA's)."""
    found = await repository.channel_limit(session, channel_id) if channel_id else None
    if found is None:
        return [None] * len(wanted)
    waba_id, reported = found
    return await hold_excess(session, user_id, waba_id, waba_tier(reported), wanted)


async def usage(session: AsyncSession, user_id: int, waba_id: str, now: datetime) -> int:
    """Unique customers the WABA reached with business-initiated templates in the 24 h up to
    ``now`` (sends held for later not included)."""
    return await channel_repository.customers_reached(session, user_id, waba_id, now - WINDOW, now)


async def release_held(session: AsyncSession, waba_id: str, now: datetime) -> int:
    """The WABA's tier changed (an upgrade): its held messages are placed again under the new
    tier, in the order they were held, and those it now has room for are released: due when
    they were due before the hold, or at once if that has passed (the rest earlier, as the new
    tier allows). Returns how many were released. The caller commits."""
    by_user: dict[int, list[tuple[int, str | None]]] = {}
    for channel_id, user_id, tier in await repository.waba_channels(session, waba_id):
        by_user.setdefault(user_id, []).append((channel_id, tier))
    released = 0
    for user_id, channels in by_user.items():
        limit = limit_of(waba_tier(tier for _, tier in channels))
        released += await _release_user(
            session, user_id, waba_id, [c for c, _ in channels], limit, now
        )
    return released


async def _release_user(
    session: AsyncSession,
    user_id: int,
    waba_id: str,
    channel_ids: list[int],
    limit: int | None,
    now: datetime,
) -> int:
    await repository.lock_waba(session, user_id, waba_id)
    held = await repository.held(session, channel_ids)
    if not held:
        return 0
    counted = await repository.reaches_since(session, user_id, waba_id, now - WINDOW)
    # A held message's own count (at the time it was held until) is placed again with it.
    for message in held:
        if counted.get(message.number) == message.scheduled_at:
            del counted[message.number]
    # Never earlier than its sender asked (``held_from``: its send_at, or its acceptance).
    wanted = [(m.number, max(now, m.held_from or now)) for m in held]
    answers = [None] * len(held) if limit is None else place(counted, wanted, limit)
    changes, moved = [], {}
    released = 0
    for message, (number, asked), until in zip(held, wanted, answers, strict=True):
        at = until or asked
        due, deadline = message.next_attempt_at, message.deadline_at
        if at >= due:
            continue  # no earlier than it was
        released += until is None
        changes.append(
            {
                "mid": message.id,
                "new_scheduled_at": until or (asked if asked > now else None),
                "new_next_attempt_at": at,
                "new_deadline_at": deadline - (due - at),
                "new_held_reason": MESSAGING_LIMIT if until is not None else None,
                "now": now,
            }
        )
        moved[number] = at
    await repository.move(session, changes)
    await repository.set_reaches(session, user_id, waba_id, moved)
    if released:
        log.info("message.released_from_messaging_limit", count=released)
    return released
