"""SQL for callback endpoints (scoped to one user) and the delivery outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    cast,
    exists,
    false,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from herald.db import insert_unless_taken
from herald.models import CallbackDelivery, CallbackEndpoint, Message
from herald.models.message import CANCELLED, DELIVERED, FAILED, READ, SENT


async def add_unless_taken(
    session: AsyncSession, endpoint: CallbackEndpoint
) -> CallbackEndpoint | None:
    """The stored endpoint, or None when the user has a callback on this URL."""
    return await insert_unless_taken(session, endpoint, ("user_id", "url"))


async def get_by_url(session: AsyncSession, user_id: int, url: str) -> CallbackEndpoint | None:
    result = await session.execute(
        select(CallbackEndpoint).where(
            CallbackEndpoint.user_id == user_id, CallbackEndpoint.url == url
        )
    )
    return result.scalar_one_or_none()


async def get(session: AsyncSession, user_id: int, endpoint_id: int) -> CallbackEndpoint | None:
    result = await session.execute(
        select(CallbackEndpoint).where(
            CallbackEndpoint.id == endpoint_id, CallbackEndpoint.user_id == user_id
        )
    )
    return result.scalar_one_or_none()


def list_query(user_id: int) -> Select[Any]:
    return (
        select(CallbackEndpoint)
        .where(CallbackEndpoint.user_id == user_id)
        .order_by(CallbackEndpoint.id.desc())
    )


# What ``GET /api/v2/webhooks/{id}/deliveries?outcome=`` lists.
_OUTCOMES = {
    "pending": CallbackDelivery.done_at.is_(None),
    "delivered": CallbackDelivery.delivered.is_(True),
    "dead": CallbackDelivery.delivered == false(),
}


def deliveries_query(endpoint_id: int, outcome: str | None) -> Select[Any]:
    """An endpoint's deliveries, newest first (the caller has checked the endpoint is theirs)."""
    query = select(CallbackDelivery).where(CallbackDelivery.endpoint_id == endpoint_id)
    if outcome is not None:
        query = query.where(_OUTCOMES[outcome])
    return query.order_by(CallbackDelivery.id.desc())


async def set_aside_by_endpoint(
    session: AsyncSession, endpoint_ids: Sequence[int]
) -> dict[int, tuple[int, str | None]]:
    """For each of these endpoints with deliveries set aside: how many, and the last error."""
    if not endpoint_ids:
        return {}
    dead = and_(CallbackDelivery.endpoint_id.in_(list(endpoint_ids)), _OUTCOMES["dead"])
    counts = await session.execute(
        select(CallbackDelivery.endpoint_id, func.count(), func.max(CallbackDelivery.id))
        .where(dead)
        .group_by(CallbackDelivery.endpoint_id)
    )
    found = {endpoint_id: (int(count), int(last)) for endpoint_id, count, last in counts}
    last_errors = await session.execute(
        select(CallbackDelivery.id, CallbackDelivery.last_error).where(
            CallbackDelivery.id.in_([last for _, last in found.values()])
        )
    )
    # Rows, not the Result: a Result has keys() (its columns), so dict() would take it for a
    # mapping.
    errors: dict[int, str | None] = dict(last_errors.all())
    return {eid: (count, errors.get(last)) for eid, (count, last) in found.items()}


async def count_set_aside(session: AsyncSession) -> int:
    query = select(func.count()).select_from(CallbackDelivery).where(_OUTCOMES["dead"])
    return int((await session.execute(query)).scalar_one())


async def remove(session: AsyncSession, endpoint: CallbackEndpoint) -> None:
    await session.delete(endpoint)
    await session.flush()


# Each state a message can be in, with the states it announces: a message seen ``read`` first
# (Meta's statuses arrive out of order, and concurrently) has also been sent and delivered, and
# a receiver is told so, in that order, rather than missing the steps it skipped.
_ANNOUNCES = (
    (SENT, 1, SENT),
    (DELIVERED, 1, SENT),
    (DELIVERED, 2, DELIVERED),
    (READ, 1, SENT),
    (READ, 2, DELIVERED),
    (READ, 3, READ),
    (FAILED, 4, FAILED),
    (CANCELLED, 5, CANCELLED),
)


# A UNION ALL rather than VALUES: SQLite cannot name the columns of a VALUES list. Built once:
# it is the same on every call.
_ANNOUNCED = union_all(
    *(
        select(
            literal(current).label("current"),
            literal(step).label("step"),
            literal(announced).label("announced"),
        )
        for current, step, announced in _ANNOUNCES
    )
).subquery("announces")


async def record_states(session: AsyncSession, message_ids: Sequence[int], now: datetime) -> None:
    """Queue the current state of these messages, and any state they skipped on the way, for
    every endpoint of their users that takes ``message.status`` events.

    One INSERT … SELECT, in the transaction that changed the state; each (endpoint, message,
    state) is queued once whichever path (dispatcher, webhook, cancel) got there, in the order
    of the states, and users without endpoints cost a join that finds nothing.
    """
    if not message_ids:
        return
    statement = _RECORD_STATES[session.get_bind().dialect.name]
    await session.execute(statement, {"ids": list(message_ids), "now": now})


def _record_states(insert: Any) -> Any:
    """Built once per dialect, its values bound: building it on every call (its cache key,
    the ORM's compile) was a tenth of a dispatching worker's CPU."""
    now = bindparam("now", type_=CallbackDelivery.__table__.c.created_at.type)
    chosen = (
        select(CallbackEndpoint.id, Message.id, _ANNOUNCED.c.announced, now, now, literal(0))
        .join(CallbackEndpoint, CallbackEndpoint.user_id == Message.user_id)
        .join(_ANNOUNCED, _ANNOUNCED.c.current == Message.state)
        .where(Message.id.in_(bindparam("ids", expanding=True)), subscribed(MESSAGE_STATUS))
        # Ids are handed out in this order, and delivery follows ids (``due_heads``).
        .order_by(CallbackEndpoint.id, Message.id, _ANNOUNCED.c.step)
    )
    return (
        insert(CallbackDelivery.__table__)
        .from_select(
            ["endpoint_id", "message_id", "state", "created_at", "next_attempt_at", "attempts"],
            chosen,
        )
        .on_conflict_do_nothing(index_elements=["endpoint_id", "message_id", "state"])
    )


MESSAGE_STATUS = "message.status"
TEMPLATE_UPDATED = "template.updated"
MESSAGE_RECEIVED = "message.received"
CHANNEL_UPDATED = "channel.updated"


def subscribed(event_type: str) -> ColumnElement[bool]:
    """The endpoint takes events of this type. Its ``events`` is a short JSON list of names
    without quotes or wildcards in them, read as text alike on both databases."""
    return cast(CallbackEndpoint.events, String).like(f'%"{event_type}"%')


async def queue_template_event(
    session: AsyncSession,
    user_id: int,
    template_id: int,
    state: str,
    event: dict[str, Any],
    now: datetime,
) -> None:
    """Queue one template.updated event, as it is now, for every endpoint of the user that
    takes them; delivered in order per (endpoint, template) after those queued before."""
    await queue_event(
        session, user_id, TEMPLATE_UPDATED, {"template_id": template_id}, state, event, now
    )


async def queue_event(
    session: AsyncSession,
    user_id: int,
    event_type: str,
    subject: dict[str, int],
    state: str,
    event: dict[str, Any],
    now: datetime,
) -> None:
    """Queue one event written down now (``subject``: the column naming what it is about) for
    every endpoint of the user that takes events of its type."""
    endpoint_ids = (
        await session.execute(
            select(CallbackEndpoint.id)
            .where(CallbackEndpoint.user_id == user_id, subscribed(event_type))
            .order_by(CallbackEndpoint.id)
        )
    ).scalars()
    rows = [
        {
            "endpoint_id": endpoint_id,
            **subject,
            "event": event,
            "state": state,
            "created_at": now,
            "next_attempt_at": now,
            "attempts": 0,
        }
        for endpoint_id in endpoint_ids
    ]
    if rows:
        await session.execute(insert(CallbackDelivery), rows)


def _literal(value: Any) -> Any:
    if isinstance(value, datetime):
        return literal(value, CallbackDelivery.__table__.c.created_at.type)
    return literal(value)


def due_heads(now: datetime, limit: int) -> Select[Any]:
    """Due deliveries that are first in line for their (endpoint, message), (endpoint,
    template) or (endpoint, channel): a later state or change is never delivered before an
    earlier one is taken or given up."""
    earlier = aliased(CallbackDelivery)

    def blocked(same_subject: ColumnElement[bool]) -> ColumnElement[bool]:
        # One EXISTS per subject, each on its own index (a NULL subject finds nothing).
        return exists().where(
            and_(
                earlier.endpoint_id == CallbackDelivery.endpoint_id,
                same_subject,
                earlier.id < CallbackDelivery.id,
                earlier.done_at.is_(None),
            )
        )

    return (
        select(CallbackDelivery)
        .where(
            CallbackDelivery.done_at.is_(None),
            CallbackDelivery.next_attempt_at <= now,
            ~blocked(earlier.message_id == CallbackDelivery.message_id),
            ~blocked(earlier.template_id == CallbackDelivery.template_id),
            ~blocked(earlier.channel_id == CallbackDelivery.channel_id),
        )
        .order_by(CallbackDelivery.next_attempt_at, CallbackDelivery.id)
        .limit(limit)
    )


async def claim(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int
) -> list[CallbackDelivery]:
    """Take due deliveries for a while (their next attempt moves to ``lease_until``), so other
    processes leave them alone; a process that dies mid-delivery only delays them."""
    query = due_heads(now, limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=CallbackDelivery)
    rows = list((await session.execute(query)).scalars())
    if rows:
        await session.execute(
            update(CallbackDelivery)
            .where(CallbackDelivery.id.in_([r.id for r in rows]))
            .values(next_attempt_at=lease_until)
            .execution_options(synchronize_session=False)
        )
    return rows


async def endpoints_by_id(session: AsyncSession, ids: set[int]) -> dict[int, CallbackEndpoint]:
    rows = await session.execute(select(CallbackEndpoint).where(CallbackEndpoint.id.in_(ids)))
    return {e.id: e for e in rows.scalars()}


async def messages_by_id(session: AsyncSession, ids: set[int | None]) -> dict[int, Message]:
    """The messages of these deliveries (a template's delivery has none: None is skipped)."""
    known = [i for i in ids if i is not None]
    if not known:
        return {}
    rows = await session.execute(select(Message).where(Message.id.in_(known)))
    return {m.id: m for m in rows.scalars()}


async def finish(
    session: AsyncSession,
    delivery_id: int,
    *,
    now: datetime,
    delivered: bool | None,
    next_attempt_at: datetime,
    status: int | None,
    error: str | None,
) -> None:
    """Record one attempt: taken (delivered), given up (delivered False) or to retry (None)."""
    await session.execute(
        update(CallbackDelivery)
        .where(CallbackDelivery.id == delivery_id)
        .values(
            attempts=CallbackDelivery.attempts + 1,
            last_status=status,
            last_error=error[:300] if error else None,
            next_attempt_at=next_attempt_at,
            done_at=now if delivered is not None else None,
            delivered=delivered,
        )
        .execution_options(synchronize_session=False)
    )


_RECORD_STATES = {
    "postgresql": _record_states(postgresql.insert),
    "sqlite": _record_states(sqlite.insert),
}
