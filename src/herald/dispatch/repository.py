"""SQL of the queue: claiming due messages, marking them in flight, recording what came of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.callback.repository import record_states
from herald.channel.repository import may_send
from herald.models import Attempt, Channel, Message
from herald.models.lifecycle import moved_to
from herald.models.message import BULK, FAILED, QUEUED, SENDING, SENT, TRANSACTIONAL


def _due(channel_id: int, now: datetime) -> Any:
    return and_(
        Message.channel_id == channel_id, Message.state == QUEUED, Message.next_attempt_at <= now
    )


async def channels_with_due(session: AsyncSession, now: datetime) -> Sequence[int]:
    """Channels with due messages that may send now: a restricted or banned channel's wait."""
    result = await session.execute(
        select(Message.channel_id)
        .join(Channel, Channel.id == Message.channel_id)
        .where(
            Message.state == QUEUED,
            Message.next_attempt_at <= now,
            may_send(now),
        )
        .distinct()
    )
    return [channel_id for channel_id in result.scalars() if channel_id is not None]


async def due_bulk_groups(session: AsyncSession, channel_id: int, now: datetime) -> list[str]:
    result = await session.execute(
        select(Message.whatsapp_bulk_group_id)
        .where(_due(channel_id, now), Message.priority == BULK)
        .distinct()
    )
    return list(result.scalars())


async def claim(
    session: AsyncSession,
    channel_id: int,
    owner: str,
    limit: int,
    now: datetime,
    lease: timedelta,
    priority: int,
    group_id: str | None = None,
) -> Sequence[Message]:
    """Move up to ``limit`` due messages to ``sending`` under a lease held by ``owner``."""
    if limit <= 0:
        return []
    picked = (
        select(Message.id)
        .where(_due(channel_id, now), Message.priority == priority)
        .order_by(Message.next_attempt_at, Message.id)
        .limit(limit)
    )
    if group_id is not None:
        picked = picked.where(Message.whatsapp_bulk_group_id == group_id)
    if session.get_bind().dialect.name == "postgresql":
        picked = picked.with_for_update(skip_locked=True)
    # Materialised, so the LIMIT is applied once: PostgreSQL may otherwise re-run an
    # `IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` while updating and claim more than n.
    chosen = picked.cte("chosen").prefix_with("MATERIALIZED")
    result = await session.execute(
        update(Message)
        .where(Message.id.in_(select(chosen.c.id)), Message.state == QUEUED)
        .values(state=SENDING, lease_owner=owner, lease_expires_at=now + lease, updated_at=now)
        .returning(Message)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars().all(), key=lambda m: (m.next_attempt_at, m.id))


async def mark_in_flight(
    session: AsyncSession, ids: Sequence[int], lease_token: str, now: datetime, lease: timedelta
) -> set[int]:
    """Mark the messages this claim still holds as in flight; returns those marked.

    From this commit on, a crash leaves them "outcome unknown", never re-sent. A message whose
    lease expired meanwhile went back to the queue (and maybe to another claim), or that is
    already in flight, is not marked, and the caller must not send it.
    """
    connection = await session.connection()
    result = await connection.execute(
        _MARK_IN_FLIGHT,
        {"ids": list(ids), "token": lease_token, "now": now, "expires": now + lease},
    )
    return set(result.scalars())


# Built once, run on the connection (Core): through the session's ORM bulk-update path a mark
# and its commit cost 2.4 ms of CPU, this way 1.5 ms (medians of 8 rounds side by side on
# PostgreSQL, 25 ids): at 1,000/s, a chunk every 25 ms, that is 3.5% of a core.
_MARK_IN_FLIGHT = (
    update(Message)
    .where(
        Message.id.in_(bindparam("ids", expanding=True)),
        Message.state == SENDING,
        Message.lease_owner == bindparam("token"),
        # Marked once: a second mark would hand the runner a message already on its way.
        Message.in_flight_at.is_(None),
    )
    .values(in_flight_at=bindparam("now"), lease_expires_at=bindparam("expires"))
    .returning(Message.id)
)


async def unmark(
    session: AsyncSession, ids: Sequence[int], lease_token: str, now: datetime
) -> None:
    """Give back messages marked in flight that were never sent (their runner stopped first):
    they were not handed to the provider, so they are due again, not "outcome unknown"."""
    await session.execute(
        update(Message)
        .where(
            Message.id.in_(ids),
            Message.state == SENDING,
            Message.lease_owner == lease_token,
            Message.in_flight_at.is_not(None),
        )
        .values(
            state=QUEUED, in_flight_at=None, lease_owner=None, lease_expires_at=None, updated_at=now
        )
        .execution_options(synchronize_session=False)
    )


async def requeue(
    session: AsyncSession,
    ids: Sequence[int],
    lease_token: str,
    at: datetime | None,
    now: datetime,
) -> None:
    """Give this claim's unsent messages back to the queue, due at ``at`` (None: when they were
    due, so they keep their place); no attempt counted."""
    await session.execute(
        update(Message)
        .where(
            Message.id.in_(ids),
            Message.state == SENDING,
            Message.lease_owner == lease_token,
            Message.in_flight_at.is_(None),
        )
        .values(
            state=QUEUED,
            next_attempt_at=Message.next_attempt_at if at is None else at,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


async def release_held(session: AsyncSession, template_ids: Sequence[int], now: datetime) -> None:
    """A paused template is active again: its queued messages held for it are due now (a
    scheduled one keeps its time)."""
    await session.execute(
        update(Message)
        .where(
            Message.template_id.in_(template_ids),
            Message.state == QUEUED,
            Message.next_attempt_at > now,
            (Message.scheduled_at.is_(None)) | (Message.scheduled_at <= now),
        )
        .values(next_attempt_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def reap(session: AsyncSession, now: datetime, unknown_deadline: timedelta) -> dict[str, int]:
    """Recover from workers that died: the lease rules of docs/reliability.md.

    - claimed but never in flight, lease expired: back to the queue (nothing left);
    - in flight, lease expired: outcome unknown, left for the status webhook to settle;
    - outcome unknown for longer than ``unknown_deadline``: failed, never re-sent.
    """
    expired = and_(Message.state == SENDING, Message.lease_expires_at < now)
    requeued = await session.execute(
        update(Message)
        .where(expired, Message.in_flight_at.is_(None))
        .values(state=QUEUED, lease_owner=None, lease_expires_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    unknown = await session.execute(
        update(Message)
        .where(expired, Message.in_flight_at.is_not(None), Message.outcome_unknown_since.is_(None))
        .values(outcome_unknown_since=now, lease_owner=None, lease_expires_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    settled = await session.execute(
        update(Message)
        .where(
            Message.state == SENDING,
            Message.outcome_unknown_since < now - unknown_deadline,
            Message.lease_expires_at.is_(None),
        )
        .values(
            state=FAILED,
            failed_at=now,
            updated_at=now,
            error_code="outcome_unknown",
            error_title="No answer from the provider and no status webhook",
            error_detail=(
                "The request left but its outcome never became known; Herald does not re-send "
                "(it could deliver twice). Send again if it did not arrive."
            ),
        )
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    failed_ids = list(settled.scalars())
    await record_states(session, failed_ids, now)
    return {
        "requeued": requeued.rowcount,  # type: ignore[attr-defined]
        "unknown": unknown.rowcount,  # type: ignore[attr-defined]
        "failed_unknown": len(failed_ids),
    }


PRIORITIES = (TRANSACTIONAL, BULK)


async def queue_stats(session: AsyncSession, now: datetime) -> tuple[int, float]:
    """Messages due now and waiting, and how long the oldest of them has waited (seconds)."""
    row = (
        await session.execute(
            select(func.count(), func.min(Message.next_attempt_at)).where(
                Message.state == QUEUED, Message.next_attempt_at <= now
            )
        )
    ).one()
    depth, oldest = int(row[0]), row[1]  # min() keeps the column's type: an aware datetime
    return depth, max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


_RELEASE = {"lease_owner": None, "lease_expires_at": None, "in_flight_at": None}

# What came of a send (results.py plans them): each but the acceptance settles only a message
# still in flight (``state == sending``), one a reclaim or a webhook has not moved on.
_ACCEPTED = (
    update(Message)
    .where(Message.id == bindparam("mid"))
    .values(
        state=moved_to(Message.state, SENT),  # never backwards
        provider_message_id=func.coalesce(Message.provider_message_id, bindparam("wamid")),
        sent_at=func.coalesce(Message.sent_at, bindparam("at")),
        attempts=Message.attempts + 1,
        updated_at=bindparam("at"),
        **_RELEASE,
    )
)
_RETRY = (
    update(Message)
    .where(Message.id == bindparam("mid"), Message.state == SENDING)
    .values(
        state=QUEUED,
        next_attempt_at=bindparam("retry_at"),
        attempts=Message.attempts + bindparam("attempted"),
        pair_rate_hits=bindparam("hits"),
        updated_at=bindparam("at"),
        **_RELEASE,
    )
)
_FAIL = (
    update(Message)
    .where(Message.id == bindparam("mid"), Message.state == SENDING)
    .values(
        state=FAILED,
        failed_at=bindparam("at"),
        error_code=bindparam("code"),
        error_title=bindparam("title"),
        error_detail=bindparam("detail"),
        attempts=Message.attempts + bindparam("attempted"),
        updated_at=bindparam("at"),
        **_RELEASE,
    )
)
_UNKNOWN = (
    update(Message)
    .where(Message.id == bindparam("mid"), Message.state == SENDING)
    .values(
        outcome_unknown_since=bindparam("at"),
        attempts=Message.attempts + 1,
        updated_at=bindparam("at"),
        **_RELEASE,
    )
)


# The table's, not the entity's: an ORM insert takes the ORM's bulk path (its own CPU).
_INSERT_ATTEMPTS = insert(cast(Table, Attempt.__table__))


async def record_results(
    session: AsyncSession,
    accepted: list[dict[str, Any]],
    retry: list[dict[str, Any]],
    fail: list[dict[str, Any]],
    unknown: list[dict[str, Any]],
    attempts: list[dict[str, Any]],
) -> None:
    # Core executemany (one round trip a statement), not the ORM's bulk-by-primary-key. Rows
    # in id order, the order a status webhook's batch locks them in (message/statuses.py): in
    # the order of the chunks, the two deadlocked now and then.
    connection = await session.connection()
    for statement, rows in (
        (_ACCEPTED, accepted),
        (_RETRY, retry),
        (_FAIL, fail),
        (_UNKNOWN, unknown),
    ):
        if rows:
            await connection.execute(statement, sorted(rows, key=_message_id))
    if attempts:
        await connection.execute(_INSERT_ATTEMPTS, attempts)


def _message_id(row: Mapping[str, Any]) -> int:
    message_id: int = row["mid"]
    return message_id
