"""Applying Meta's ``messages`` webhooks: delivery statuses and customers' replies.

Statuses arrive late, twice and out of order: each one only ever moves a message forward, and
its timestamp is kept even when it arrives after a later state.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

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

log = structlog.get_logger("herald.statuses")

STOP_WORDS = {
    "stop",
    "stop all",
    "stopall",
    "unsubscribe",
    "end",
    "quit",
    "cancel",
    "opt out",
    "optout",
    "arret",
    "arrêt",
    "stopp",
    "basta",
    "alto",
}
OPTED_OUT_CODE = 131050
PREFETCH_BATCH = 500  # wamids per query (one parameter each: under SQLite's limit)


async def apply_messages_change(
    session: AsyncSession, waba_id: str, value: dict[str, Any], now: datetime
) -> int:
    metadata = value.get("metadata") or {}
    channel = await _channel(session, str(metadata.get("phone_number_id")))
    if channel is None or channel.waba_id != waba_id:
        return 0
    changed = 0
    for status in value.get("statuses") or []:
        if isinstance(status, dict):
            changed += await apply_status(session, channel, status, now)
    for inbound in value.get("messages") or []:
        if isinstance(inbound, dict):
            await record_inbound(session, channel, inbound, now)
    return changed


async def _channel(session: AsyncSession, phone_number_id: str) -> Channel | None:
    """The channel of a number, looked up once per transaction (a delivery from Meta carries
    up to a hundred changes of the same number)."""
    known: dict[str, Channel | None] = session.info.setdefault("channels_by_number", {})
    if phone_number_id not in known:
        known[phone_number_id] = await channels.by_phone_number_id(session, phone_number_id)
    return known[phone_number_id]


async def record_changed_states(session: AsyncSession, now: datetime) -> None:
    """Queue the status callbacks of every message whose state this transaction changed, in
    one statement (see ``apply_status``)."""
    changed: list[int] = session.info.pop("changed_message_ids", [])
    if changed:
        await record_states(session, changed, now)


async def prefetch_messages(session: AsyncSession, values: list[dict[str, Any]]) -> None:
    """Load (and lock, on PostgreSQL) in one query the messages that these ``messages`` changes'
    statuses name by wamid, for ``_find``. Locked in id order, so that two workers' batches take
    the rows they share in the same order; a deadlock with the dispatcher fails the batch, whose
    events are then applied one by one (``process_pending``)."""
    wamids = {
        str(status.get("id"))
        for value in values
        for status in (value.get("statuses") or [])
        if isinstance(status, dict) and status.get("id")
    }
    known: dict[str, Message] = session.info.setdefault("messages_by_wamid", {})
    wanted = sorted(wamids - known.keys())
    for start in range(0, len(wanted), PREFETCH_BATCH):
        for message in await repository.by_wamids(session, wanted[start : start + PREFETCH_BATCH]):
            if message.provider_message_id is not None:
                known[message.provider_message_id] = message


async def _find(session: AsyncSession, channel: Channel, status: dict[str, Any]) -> Message | None:
    """The message a status is about, locked (PostgreSQL) so that the dispatcher's own update of
    the same row waits for this one instead of racing it."""
    wamid = str(status.get("id") or "")
    prefetched = session.info.get("messages_by_wamid", {}).get(wamid)
    if prefetched is not None and prefetched.channel_id == channel.id:
        return prefetched  # type: ignore[no-any-return]
    if wamid:
        message = await repository.by_wamid(session, channel.id, wamid)
        if message is not None:
            return message
    # Not known by its wamid (the send's answer was lost): our id rides in the callback data.
    callback = str(status.get("biz_opaque_callback_data") or "")
    if callback.isdigit() and len(callback) < 19:
        return await repository.by_id(session, channel.id, int(callback))
    return None


def _when(status: dict[str, Any], now: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(status["timestamp"]), UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return now


async def apply_status(
    session: AsyncSession, channel: Channel, status: dict[str, Any], now: datetime
) -> int:
    message = await _find(session, channel, status)
    if message is None:
        return 0
    kind = str(status.get("status", "")).lower()
    at = _when(status, now)
    before = _progress(message)
    if kind in REPORTED:
        # The provider has the message: whatever the dispatcher knew (an unknown outcome, an
        # answer not yet recorded), this settles it.
        message.provider_message_id = message.provider_message_id or str(status.get("id") or "")
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
        error = (status.get("errors") or [{}])[0]
        message.state = FAILED
        message.failed_at = at
        message.error_code = str(error.get("code", "failed"))
        message.error_title = error.get("title") or error.get("message")
        message.error_detail = (error.get("error_data") or {}).get("details")
        if error.get("code") == OPTED_OUT_CODE:
            await opt_outs.add(
                session, message.user_id, message.phone_number, message.country_code, "131050", now
            )
    after = _progress(message)
    if after == before:
        return 0
    message.updated_at = now
    if after[0] != before[0]:
        # Callbacks are queued once per transaction by record_changed_states.
        session.info.setdefault("changed_message_ids", []).append(message.id)
        MESSAGES.labels(message.state).inc()
    return 1


def _progress(message: Message) -> tuple[object, ...]:
    return (message.state, *(getattr(message, column) for column in TIMESTAMPS))


def _inbound_text(inbound: dict[str, Any]) -> str | None:
    kind = inbound.get("type")
    if kind == "text":
        return (inbound.get("text") or {}).get("body")
    if kind == "button":
        button = inbound.get("button") or {}
        return button.get("text") or button.get("payload")
    if kind == "interactive":
        reply = inbound.get("interactive") or {}
        chosen = reply.get("button_reply") or reply.get("list_reply") or {}
        return chosen.get("title") or chosen.get("id")
    return None


def is_stop(text: str | None) -> bool:
    if not text:
        return False
    return re.sub(r"[^\w\s]", "", text).strip().lower() in STOP_WORDS


async def record_inbound(
    session: AsyncSession, channel: Channel, inbound: dict[str, Any], now: datetime
) -> None:
    sender = re.sub(r"\D", "", str(inbound.get("from") or ""))
    wamid = str(inbound.get("id") or "")
    if not sender or not wamid:
        return
    text = _inbound_text(inbound)
    await repository.add_inbound(
        session,
        channel.id,
        wamid,
        sender,
        str(inbound.get("type") or "unknown")[:20],
        text,
        (inbound.get("context") or {}).get("id"),
        now,
    )
    if is_stop(text):
        await opt_outs.add(session, channel.user_id, sender, None, "inbound_stop", now)
