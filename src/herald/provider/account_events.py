"""A number's and an account's health in Meta's account webhooks, as typed events: part of the
Meta boundary (events.py reads the envelope and hands each such change here).

Meta's OpenAPI (reference/meta) does not describe these webhooks; the shapes are Meta's
"Webhooks reference" pages (developers.facebook.com/documentation/business-messaging/whatsapp/
webhooks/reference/<field>), as copied in public integrations' docs:

- ``phone_number_quality_update``: ``{"display_phone_number", "event", "current_limit",
  "old_limit"?, "max_daily_conversations_per_business"?}``; events FLAGGED, UNFLAGGED,
  UPGRADE, DOWNGRADE, ONBOARDING and THROUGHPUT_UPGRADE (the number may send 1,000/s; its
  ``current_limit`` then says TIER_UNLIMITED for the throughput, not the messaging limit).
- ``account_update``: ``{"event", "phone_number"?, "restriction_info"?: [{"restriction_type",
  "expiration"}], "ban_info"?: {"waba_ban_state", "waba_ban_date"}, "violation_info"?:
  {"violation_type"}}``; events ACCOUNT_RESTRICTION, ACCOUNT_VIOLATION, DISABLED_UPDATE (with
  ``waba_ban_state`` DISABLE, SCHEDULE_FOR_DISABLE or REINSTATE), ACCOUNT_DELETED, others.
- ``business_capability_update``: ``{"max_daily_conversation_per_phone"?,
  "max_daily_conversations_per_business"?, "max_phone_numbers_per_business"?,
  "max_phone_numbers_per_waba"?}``: the messaging limit of every number of the account.

Whatever is unknown (an event, a field, a value) is skipped, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from herald.provider.inbound import optional_text as _text
from herald.provider.inbound import unix_time

# Meta's messaging limit tiers (reference ~5650), TIER_2K (the tier after 250 since Meta raised
# 1,000 to 2,000 in 2025, so a number reports either), and the numbers of conversations that
# name the same.
TIERS = (
    "TIER_50",
    "TIER_250",
    "TIER_1K",
    "TIER_2K",
    "TIER_10K",
    "TIER_100K",
    "TIER_UNLIMITED",
)
_TIER_ALIASES = {
    "50": "TIER_50",
    "250": "TIER_250",
    "1000": "TIER_1K",
    "2000": "TIER_2K",
    "10000": "TIER_10K",
    "100000": "TIER_100K",
    "-1": "TIER_UNLIMITED",
}
QUALITY_RATINGS = ("GREEN", "YELLOW", "RED", "UNKNOWN")
# The restriction that stops a number starting conversations (templates): what holds sends.
SENDING_RESTRICTION = "RESTRICTED_BIZ_INITIATED_MESSAGING"
THROUGHPUT_UPGRADE = "THROUGHPUT_UPGRADE"
UPGRADED_THROUGHPUT = 1000  # messages a second after Meta's upgrade
# Quality events and the rating they tell (None: the event says nothing of it).
_QUALITY_EVENTS: dict[str, str | None] = {
    "FLAGGED": "RED",  # low quality: the number may be moved down a tier
    "UNFLAGGED": "GREEN",
    "UPGRADE": None,
    "DOWNGRADE": None,
    "ONBOARDING": None,
    THROUGHPUT_UPGRADE: None,
}


def tier_of(value: Any) -> str | None:
    """One of ``TIERS`` for Meta's value (a tier name or a number of conversations), or None
    (TIER_NOT_SET, unknown)."""
    text = _text(value) if not isinstance(value, int) else str(value)
    if text is None:
        return None
    text = text.strip().upper()
    return text if text in TIERS else _TIER_ALIASES.get(text)


@dataclass(frozen=True)
class NumberQualityUpdate:
    """``phone_number_quality_update``: one number's quality, messaging limit or throughput."""

    waba_id: str
    display_phone_number: str  # as Meta shows it; matched to a channel digits only
    event: str  # FLAGGED, UNFLAGGED, UPGRADE, DOWNGRADE, ONBOARDING, THROUGHPUT_UPGRADE ...
    quality_rating: str | None  # what the event tells of it (FLAGGED: RED), else None
    tier: str | None  # the messaging limit now (None: not told, or a throughput event)
    old_tier: str | None
    throughput_per_second: int | None  # THROUGHPUT_UPGRADE: 1,000


@dataclass(frozen=True)
class Restriction:
    type: str  # RESTRICTED_BIZ_INITIATED_MESSAGING, RESTRICTED_ADD_PHONE_NUMBER_ACTION ...
    expires_at: datetime | None  # None: no end given


@dataclass(frozen=True)
class AccountUpdate:
    """``account_update``: a restriction, violation or ban of the account (or of one number
    of it, ``phone_number``), or a ban lifted."""

    waba_id: str
    event: str  # ACCOUNT_RESTRICTION, ACCOUNT_VIOLATION, DISABLED_UPDATE, ACCOUNT_DELETED
    phone_number: str | None  # the number it is about; None: every number of the account
    restrictions: tuple[Restriction, ...] = ()
    ban_state: str | None = None  # DISABLE, SCHEDULE_FOR_DISABLE, REINSTATE
    violation_type: str | None = None


@dataclass(frozen=True)
class CapabilityUpdate:
    """``business_capability_update``: the messaging limit of every number of the account."""

    waba_id: str
    tier: str | None


ACCOUNT_EVENTS = ("ACCOUNT_RESTRICTION", "ACCOUNT_VIOLATION", "DISABLED_UPDATE", "ACCOUNT_DELETED")

AccountEvent = NumberQualityUpdate | AccountUpdate | CapabilityUpdate


def quality_update(waba_id: str, value: dict[str, Any]) -> NumberQualityUpdate | None:
    number = _text(value.get("display_phone_number"))
    event = str(value.get("event") or "").upper()
    if number is None or event not in _QUALITY_EVENTS:
        return None
    throughput = event == THROUGHPUT_UPGRADE
    # The portfolio-wide limit replaces current_limit from 2026; either says the tier.
    tier = tier_of(value.get("max_daily_conversations_per_business")) or tier_of(
        value.get("current_limit")
    )
    return NumberQualityUpdate(
        waba_id=waba_id,
        display_phone_number=number,
        event=event,
        quality_rating=_QUALITY_EVENTS[event],
        tier=None if throughput else tier,
        old_tier=None if throughput else tier_of(value.get("old_limit")),
        throughput_per_second=UPGRADED_THROUGHPUT if throughput else None,
    )


def account_update(waba_id: str, value: dict[str, Any]) -> AccountUpdate | None:
    event = str(value.get("event") or "").upper()
    if event not in ACCOUNT_EVENTS:
        return None
    given = value.get("restriction_info")
    if event == "ACCOUNT_RESTRICTION" and not isinstance(given, list | dict):
        # Without its restrictions it says nothing (an empty list: none left, lifted).
        return None
    ban = value.get("ban_info")
    violation = value.get("violation_info")
    return AccountUpdate(
        waba_id=waba_id,
        event=event,
        phone_number=_text(value.get("phone_number")),
        restrictions=tuple(_restrictions(given)),
        ban_state=_upper(ban.get("waba_ban_state")) if isinstance(ban, dict) else None,
        violation_type=_upper(violation.get("violation_type"))
        if isinstance(violation, dict)
        else None,
    )


def capability_update(waba_id: str, value: dict[str, Any]) -> CapabilityUpdate | None:
    tier = tier_of(value.get("max_daily_conversations_per_business")) or tier_of(
        value.get("max_daily_conversation_per_phone")
    )
    return CapabilityUpdate(waba_id, tier) if tier is not None else None


def _upper(value: Any) -> str | None:
    text = _text(value)
    return text.upper() if text else None


def _restrictions(given: Any) -> list[Restriction]:
    # A list in Meta's reference; one object in some older deliveries.
    items = given if isinstance(given, list) else [given] if isinstance(given, dict) else []
    out = []
    for item in items:
        if isinstance(item, dict) and (kind := _upper(item.get("restriction_type"))):
            out.append(Restriction(kind, _expiration(item.get("expiration"))))
    return out


def _expiration(value: Any) -> datetime | None:
    """Unix seconds (Meta's reference) or an ISO-8601 time (older deliveries); None: none."""
    if isinstance(value, bool):
        return None
    text = _text(value)
    if text is None:
        return None
    if isinstance(value, int | float) or text.isdigit():
        return unix_time(value)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
