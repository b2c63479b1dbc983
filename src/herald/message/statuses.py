"""Applying Meta's ``messages`` webhooks' delivery statuses (customers' messages: conversation/).

Statuses arrive late, twice and out of order: each one only ever moves a message forward, and
its timestamp is kept even when it arrives after a later state. A status's pricing is kept
whatever its state: the last one applied that carries pricing wins, one without leaves it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from herald.callback.repository import record_states
from herald.channel import repository as channels
from herald.kit.metrics import MESSAGES
from herald.message import status_repository as repository
from herald.models import Channel, Message
from herald.models.lifecycle import (
    FAILED,
    REPORTED,
    SENDING,
    TIMESTAMPS,
    is_step,
    reported_moves,
    timestamp,
)
from herald.opt_out import repository as opt_outs
from herald.provider.base import ErrorKind
from herald.provider.events import MessageStatus, Pricing

log = structlog.get_logger("herald.statuses")


@dataclass
class StatusBatch:
    """What the events applied in one transaction share, passed along explicitly."""

    # The channel of each number, looked up once (a delivery from Meta carries up to a
    # hundred changes of the same number).
    channels: dict[str, Channel | None] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)  # prefetched, by wamid
    by_id: dict[int, Message] = field(default_factory=dict)  # prefetched, by id
    changed_ids: list[int] = field(default_factory=list)  # messages whose state changed


async def channel_of(
    session: AsyncSession, batch: StatusBatch, waba_id: str, phone_number_id: str
) -> Channel | None:
    """The channel an event of this account and number is for; None when the number is not a
    channel of that account (an event for someone else's number is ignored)."""
    known = batch.channels
    if phone_number_id not in known:
        known[phone_number_id] = await channels.by_phone_number_id(session, phone_number_id)
    channel = known[phone_number_id]
    return channel if channel is not None and channel.waba_id == waba_id else None


async def record_changed_states(session: AsyncSession, batch: StatusBatch, now: datetime) -> None:
    """Queue the status callbacks of every message whose state this transaction changed, in
    one statement (see ``apply_status``)."""
    changed, batch.changed_ids = batch.changed_ids, []
    if changed:
        await record_states(session, changed, now)


async def prefetch_messages(
    session: AsyncSession, batch: StatusBatch, statuses: Iterable[MessageStatus]
) -> None:
    """Load (and lock, on PostgreSQL) in one query the messages that these statuses name, for
    ``_find``: by wamid, and on PostgreSQL by callback data too, so that every row the batch
    changes is locked at once in id order (``status_repository.by_wamids_or_ids``). A deadlock all
    the same fails the batch, which is then tried again (``process_pending``)."""
    statuses = list(statuses)
    wamids = {status.provider_message_id for status in statuses if status.provider_message_id}
    ids = {message_id for message_id in map(_callback_id, statuses) if message_id is not None}
    known = batch.messages
    wanted = sorted(wamids - known.keys())
    if not wanted and not ids:
        return  # no status names a message (a batch of replies or template news)
    for message in await repository.by_wamids_or_ids(session, wanted, sorted(ids)):
        if message.provider_message_id in wamids:
            known[message.provider_message_id] = message
        batch.by_id[message.id] = message


def _callback_id(status: MessageStatus) -> int | None:
    """Our message id, which each send carries as its callback data (None: not ours)."""
    callback = status.callback_data
    return int(callback) if callback.isdigit() and len(callback) < 19 else None


async def _find(
    session: AsyncSession, batch: StatusBatch, channel: Channel, status: MessageStatus
) -> Message | None:
    """The message a status is about, locked (PostgreSQL) so that the dispatcher's own update of
    the same row waits for this one instead of racing it."""
    wamid = status.provider_message_id
    prefetched = batch.messages.get(wamid)
    if prefetched is not None and prefetched.channel_id == channel.id:
        return prefetched
    if wamid:
        message = await repository.by_wamid(session, channel.id, wamid)
        if message is not None:
            return message
    # Not known by its wamid (the send's answer was lost): our id rides in the callback data.
    message_id = _callback_id(status)
    if message_id is None:
        return None
    prefetched = batch.by_id.get(message_id)
    if prefetched is not None:
        return prefetched if prefetched.channel_id == channel.id else None
    return await repository.by_id(session, channel.id, message_id)


async def apply_status(
    session: AsyncSession,
    batch: StatusBatch,
    channel: Channel,
    status: MessageStatus,
    now: datetime,
) -> int:
    message = await _find(session, batch, channel, status)
    if message is None:
        return 0
    kind: str = status.status
    at = status.at or now
    before = _progress(message)
    if kind in REPORTED:
        # The provider has the message: whatever the dispatcher knew (an unknown outcome, an
        # answer not yet recorded), this settles it.
        message.provider_message_id = message.provider_message_id or status.provider_message_id
        message.outcome_unknown_since = None
        if message.state == SENDING:
            message.lease_owner = message.lease_expires_at = message.in_flight_at = None
    if is_step(kind):
        # A step of the delivery path: its time is kept even when it comes after a later one.
        column = timestamp(kind)
        if column is not None and getattr(message, column) is None:
            setattr(message, column, at)
        if reported_moves(message.state, kind):
            message.state = kind
    elif kind == FAILED and reported_moves(message.state, FAILED):
        error = status.error
        message.state = FAILED
        message.failed_at = at
        message.error_code = error.stored_code if error and error.code is not None else "failed"
        message.error_title = (error.title or None) if error else None
        message.error_detail = error.details if error else None
        if error is not None and error.kind is ErrorKind.OPTED_OUT:
            # The opt-out's source is the provider's code, as a refused send's is (effects.py).
            await opt_outs.add(
                session,
                message.user_id,
                message.phone_number,
                message.country_code,
                str(error.code),
                now,
            )
    priced = status.pricing is not None and _set_pricing(message, status.pricing)
    after = _progress(message)
    if after == before:
        if priced:
            message.updated_at = now
        return 0
    message.updated_at = now
    if after[0] != before[0]:
        # Callbacks are queued once per transaction by record_changed_states.
        batch.changed_ids.append(message.id)
        MESSAGES.labels(message.state).inc()
    return 1


def _set_pricing(message: Message, pricing: Pricing) -> bool:
    """Whether this changed the message's pricing. Set on the loaded row, so that it goes out
    in the same UPDATE as the state (no statement of its own); a part Meta left out is kept."""
    changed = False
    for column, value in (
        ("billable", pricing.billable),
        ("pricing_category", pricing.category),
        ("pricing_model", pricing.model),
    ):
        if value is not None and getattr(message, column) != value:
            setattr(message, column, value)
            changed = True
    return changed


def _progress(message: Message) -> tuple[object, ...]:
    return (message.state, *(getattr(message, column) for column in TIMESTAMPS))
