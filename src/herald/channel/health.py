"""A channel's health as Meta reports it in its account webhooks: quality rating, messaging limit
tier, throughput, and whether the number may send (restricted, banned), applied per channel.

Events come per business account (WABA) and name a number by its display number (quality) or
``phone_number`` (a restriction); a ban or a capability change is about every number of the
account. Each change is written on the channel, told to the user's callbacks
(``channel.updated``) and logged for the operator (channel id and WABA only, no number); the
gauges of /metrics read the channels at each scrape (kit/metrics.py).

A restricted or banned channel's messages stay queued: the dispatcher does not claim them
(``repository.may_send``) until the restriction lifts (an event, or its end passing) or the
ban is lifted; ``sending_hold`` says why, on the health route.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from herald.callback import channel_events
from herald.channel import repository
from herald.kit.clock import iso_utc
from herald.models import Channel
from herald.models.channel import BANNED, CONNECTED, FLAGGED, RESTRICTED
from herald.models.message import MESSAGING_LIMIT_WINDOW
from herald.provider.account_events import (
    SENDING_RESTRICTION,
    AccountEvent,
    AccountUpdate,
    CapabilityUpdate,
    NumberQualityUpdate,
)

log = structlog.get_logger("herald.channel")

# What a change is: any of these differs from before (told in ``previous``).
WATCHED = (
    "quality_rating",
    "messaging_limit_tier",
    "throughput_per_second",
    "account_status",
    "restrictions",
    "restricted_until",
    "status_reason",
)
# The customers a tier lets a number start conversations with in 24 h (None: unlimited).
# Meta's reference lists TIER_50 ... TIER_UNLIMITED; TIER_2K is the 2,000 step of its
# messaging-limits guide. A name not here limits nothing rather than everything: Herald must
# not stop a WABA on a guess.
TIER_CUSTOMERS: dict[str, int | None] = {
    "TIER_50": 50,
    "TIER_250": 250,
    "TIER_1K": 1000,
    "TIER_2K": 2000,
    "TIER_10K": 10_000,
    "TIER_100K": 100_000,
    "TIER_UNLIMITED": None,
}
_NOT_DIGITS = re.compile(r"\D")


def digits(number: str | None) -> str:
    return _NOT_DIGITS.sub("", number or "")


def effective_status(channel: Channel, now: datetime) -> str:
    """The status as it is now: a restriction whose end has passed no longer holds."""
    if channel.account_status == RESTRICTED and _expired(channel, now):
        return CONNECTED
    return channel.account_status


def sending_hold(channel: Channel, now: datetime) -> str | None:
    """Why the channel's messages wait in the queue, or None when they go out."""
    status = effective_status(channel, now)
    if status == BANNED:
        return (
            "Meta disabled this WhatsApp Business Account; its messages wait until Meta lifts it."
        )
    if status == RESTRICTED:
        until = (
            f"until {iso_utc(channel.restricted_until)}"
            if channel.restricted_until is not None
            else "until Meta lifts it"
        )
        return f"Meta restricted business-initiated messaging {until}; messages wait meanwhile."
    return None


async def view(session: AsyncSession, channel: Channel, now: datetime) -> dict[str, Any]:
    """The channel's health as the API, the console and ``channel.updated`` show it, with the
    customers its WABA reached in the last 24 h (the messaging limit's usage)."""
    reached = await repository.customers_reached(
        session, channel.user_id, channel.waba_id, now - MESSAGING_LIMIT_WINDOW, now
    )
    status = effective_status(channel, now)
    restrictions = channel.restrictions or []
    return {
        "channel_id": channel.id,
        "waba_id": channel.waba_id,
        "quality_rating": channel.quality_rating,
        "messaging_limit_tier": channel.messaging_limit_tier,
        "messaging_limit": TIER_CUSTOMERS.get(channel.messaging_limit_tier or ""),
        "customers_reached_24h": reached,
        "throughput_per_second": channel.throughput_per_second,
        "status": status,
        "sending": sending_hold(channel, now) is None,
        "hold_reason": sending_hold(channel, now),
        "restrictions": restrictions,
        "restricted_until": iso_utc(channel.restricted_until)
        if status == RESTRICTED and channel.restricted_until
        else None,
        "status_reason": channel.status_reason,
        "updated_at": iso_utc(channel.health_updated_at) if channel.health_updated_at else None,
    }


def set_tier(channel: Channel, tier: str | None) -> None:
    """The one place a channel's messaging limit tier changes (``apply_account_event`` then
    tells the messaging-limit hold, once per WABA)."""
    if tier is not None:
        channel.messaging_limit_tier = tier


TierChanged = Callable[[AsyncSession, str, datetime], Awaitable[object]]
"""Told once per WABA whose channels' messaging limit tier changed (the messaging-limit hold
releases what the new tier has room for): passed in, as ``message`` imports ``channel``."""


async def apply_account_event(
    session: AsyncSession,
    event: AccountEvent,
    now: datetime,
    tier_changed: TierChanged | None = None,
) -> int:
    """Apply one health event to the channels it is about; how many changed."""
    changed = 0
    tiers_changed: set[str] = set()
    for channel in await _channels_of(session, event):
        before = {name: getattr(channel, name) for name in WATCHED}
        reason = _apply(channel, event, now)
        previous = {k: v for k, v in before.items() if getattr(channel, k) != v}
        if not previous:
            continue
        changed += 1
        channel.health_updated_at = channel.updated_at = now
        await _announce(session, channel, previous, reason, now)
        if "messaging_limit_tier" in previous:
            tiers_changed.add(channel.waba_id)
    if tier_changed is not None:
        await session.flush()  # the new tier is what the release reads
        for waba_id in sorted(tiers_changed):
            await tier_changed(session, waba_id, now)
    return changed


async def _channels_of(session: AsyncSession, event: AccountEvent) -> Sequence[Channel]:
    channels = await repository.in_waba(session, event.waba_id)
    number = None
    if isinstance(event, NumberQualityUpdate):
        number = event.display_phone_number
    elif isinstance(event, AccountUpdate) and event.event != "DISABLED_UPDATE":
        number = event.phone_number  # a ban is the whole account's
    if number is None:
        return channels
    wanted = digits(number)
    named = [c for c in channels if digits(c.display_number) == wanted]
    if named:
        return named
    # A channel added without its display number: the account's only such channel is the one.
    unnamed = [c for c in channels if not c.display_number]
    return unnamed if len(unnamed) == 1 else []


def _apply(channel: Channel, event: AccountEvent, now: datetime) -> str:
    """Change the channel as the event says; the reason told with the change."""
    if isinstance(event, NumberQualityUpdate):
        if event.quality_rating is not None:
            channel.quality_rating = event.quality_rating
            if event.event == "FLAGGED" and channel.account_status == CONNECTED:
                channel.account_status = FLAGGED
            elif event.event == "UNFLAGGED" and channel.account_status == FLAGGED:
                channel.account_status = CONNECTED
        if event.throughput_per_second is not None:
            # The dispatcher's pacer reads it at its next claim: no restart.
            channel.throughput_per_second = max(
                channel.throughput_per_second, event.throughput_per_second
            )
        set_tier(channel, event.tier)
        return event.event
    if isinstance(event, CapabilityUpdate):
        set_tier(channel, event.tier)
        return "BUSINESS_CAPABILITY_UPDATE"
    return _apply_account(channel, event, now)


def _apply_account(channel: Channel, event: AccountUpdate, now: datetime) -> str:
    if event.event == "ACCOUNT_RESTRICTION":
        _restrict(channel, event, now)
        return event.event
    if event.event == "ACCOUNT_VIOLATION":
        channel.status_reason = f"ACCOUNT_VIOLATION: {event.violation_type or 'unspecified'}"
        return event.event
    if event.event == "ACCOUNT_DELETED" or event.ban_state == "DISABLE":
        channel.account_status = BANNED
        channel.status_reason = (
            event.event if event.ban_state is None else "DISABLED_UPDATE: DISABLE"
        )
    elif event.ban_state == "REINSTATE":
        if channel.account_status == BANNED:
            # Back to what it was under the ban: restricted if a sending restriction holds.
            sending = any(r.get("type") == SENDING_RESTRICTION for r in channel.restrictions or [])
            held = sending and not _expired(channel, now)
            channel.account_status = RESTRICTED if held else CONNECTED
        channel.status_reason = "DISABLED_UPDATE: REINSTATE"
    elif event.ban_state == "SCHEDULE_FOR_DISABLE":
        channel.status_reason = "DISABLED_UPDATE: SCHEDULE_FOR_DISABLE"
    return event.event


def _restrict(channel: Channel, event: AccountUpdate, now: datetime) -> None:
    """The restrictions in force are the event's (none: lifted); only a restriction of
    business-initiated messaging holds sends."""
    live = [r for r in event.restrictions if r.expires_at is None or r.expires_at > now]
    channel.restrictions = [
        {"type": r.type, "expires_at": iso_utc(r.expires_at) if r.expires_at else None}
        for r in live
    ] or None
    sending = [r for r in live if r.type == SENDING_RESTRICTION]
    if sending:
        ends = [r.expires_at for r in sending]
        channel.restricted_until = None if None in ends else max(e for e in ends if e)
        if channel.account_status != BANNED:
            channel.account_status = RESTRICTED
        channel.status_reason = f"ACCOUNT_RESTRICTION: {SENDING_RESTRICTION}"
        return
    channel.restricted_until = None
    if channel.account_status == RESTRICTED:
        channel.account_status = CONNECTED
    channel.status_reason = (
        f"ACCOUNT_RESTRICTION: {', '.join(r.type for r in live)}" if live else None
    )


def _expired(channel: Channel, now: datetime) -> bool:
    return channel.restricted_until is not None and channel.restricted_until <= now


def _shown(value: Any) -> Any:
    return iso_utc(value) if isinstance(value, datetime) else value


async def _announce(
    session: AsyncSession,
    channel: Channel,
    previous: dict[str, Any],
    reason: str,
    now: datetime,
) -> None:
    data = {
        **await view(session, channel, now),
        "previous": {name: _shown(value) for name, value in previous.items()},
        "reason": reason,
    }
    await channel_events.announce(session, channel.user_id, channel.id, data["status"], data, now)
    # For the operator: ids only (the display number is not logged).
    log.warning(
        "channel.health_changed",
        channel_id=channel.id,
        waba_id=channel.waba_id,
        reason=reason,
        status=data["status"],
        quality_rating=channel.quality_rating,
        messaging_limit_tier=channel.messaging_limit_tier,
        throughput_per_second=channel.throughput_per_second,
        changed=sorted(previous),
    )
