"""``/_emulator/phone-numbers/{id}/...``: Meta's decisions about a business number (quality,
messaging limit tier, throughput upgrade, restriction, ban), each sent to Herald as the account
webhook Meta sends, signed and retried as every other (webhooks.py); and what they do to the
number's sends here: the throughput follows the upgrade, a restricted number's templates
(business-initiated messages) are refused with 368, a banned account's every send with 131031.

Payload shapes: Meta's webhook reference pages for ``phone_number_quality_update``,
``account_update`` and ``business_capability_update`` (provider/account_events.py says where).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from herald.emulator.control import json_object, state_of
from herald.emulator.messaging_limit import TIERS
from herald.emulator.records import NumberHealth
from herald.emulator.state import EmulatorState

router = APIRouter(prefix="/_emulator")

QUALITY_EVENTS = ("FLAGGED", "UNFLAGGED", "UPGRADE", "DOWNGRADE", "ONBOARDING")
# The quality a quality event leaves the number with (as GET /{phone-number-id} would show).
_QUALITY_AFTER = {"FLAGGED": "RED", "UNFLAGGED": "GREEN"}
ACCOUNT_EVENTS = ("ACCOUNT_RESTRICTION", "ACCOUNT_VIOLATION", "DISABLED_UPDATE")
BAN_STATES = ("DISABLE", "REINSTATE", "SCHEDULE_FOR_DISABLE")
RESTRICTION_TYPES = (
    "RESTRICTED_BIZ_INITIATED_MESSAGING",
    "RESTRICTED_CUSTOMER_INITIATED_MESSAGING",
    "RESTRICTED_ADD_PHONE_NUMBER_ACTION",
)
UPGRADED_THROUGHPUT = 1000.0
# Meta's integrity errors (its error codes page): a temporary block for a policy violation,
# and a locked (disabled) account. Both answered with HTTP 403.
RESTRICTED_CODE, BANNED_CODE = 368, 131031
REFUSALS = {
    RESTRICTED_CODE: "business-initiated messaging of this number is restricted",
    BANNED_CODE: "this WhatsApp Business Account is disabled",
}
DEFAULT_DISPLAY_NUMBER = "15550000000"  # what the emulator's other webhooks show


def health_of(state: EmulatorState, phone_number_id: str) -> NumberHealth:
    found = state.numbers.get(phone_number_id)
    if found is None:
        found = state.numbers[phone_number_id] = NumberHealth(phone_number_id)
    return found


def refusal(state: EmulatorState, phone_number_id: str, business_initiated: bool) -> int | None:
    """The code a send from this number is refused with now, or None."""
    health = state.numbers.get(phone_number_id)
    if health is None:
        return None
    if health.banned:
        return BANNED_CODE
    if business_initiated and health.restricted_now():
        return RESTRICTED_CODE
    return None


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


def _account(state: EmulatorState, phone_number_id: str) -> str:
    return state.waba_of(phone_number_id) or phone_number_id


def _display(health: NumberHealth, body: dict[str, Any]) -> str:
    given = body.get("display_phone_number")
    if isinstance(given, str) and given:
        health.display_phone_number = given
    return health.display_phone_number or DEFAULT_DISPLAY_NUMBER


async def _send(
    state: EmulatorState, phone_number_id: str, field: str, value: dict[str, Any]
) -> None:
    """Queue the webhook; answered once the change and the webhook are in the state file."""
    state.remember()
    state.webhooks.enqueue(_account(state, phone_number_id), {"field": field, "value": value})
    await state.durable()


@router.post("/phone-numbers/{phone_number_id}/quality", response_model=None)
async def quality(phone_number_id: str, request: Request) -> dict[str, Any] | JSONResponse:
    """``{"event": "FLAGGED"|"UNFLAGGED"|"UPGRADE"|"DOWNGRADE"|"ONBOARDING", "tier"?,
    "display_phone_number"?}``: ``phone_number_quality_update``; a tier given is also the
    messaging limit enforced on the number's WABA from then on (as ``PUT
    /_emulator/wabas/{id}/messaging_limit``)."""
    state = state_of(request)
    body = await json_object(request)
    event = str(body.get("event", "")).upper()
    if event not in QUALITY_EVENTS:
        return _bad(f"event is one of {QUALITY_EVENTS}")
    tier = body.get("tier")
    if tier is not None and (not isinstance(tier, str) or tier.upper() not in TIERS):
        return _bad(f"tier is one of {tuple(TIERS)}")
    health = health_of(state, phone_number_id)
    value: dict[str, Any] = {"display_phone_number": _display(health, body), "event": event}
    if tier is not None:
        if health.tier is not None:
            value["old_limit"] = health.tier
        health.tier = tier.upper()
        # What Meta tells is what it enforces: the number's account is limited from now on.
        state.messaging_limits.set_tier(_account(state, phone_number_id), health.tier)
    if health.tier is not None:
        value["current_limit"] = health.tier
    health.quality = _QUALITY_AFTER.get(event, health.quality)
    await _send(state, phone_number_id, "phone_number_quality_update", value)
    return _shown(health)


@router.post("/phone-numbers/{phone_number_id}/throughput", response_model=None)
async def throughput(phone_number_id: str, request: Request) -> dict[str, Any] | JSONResponse:
    """``{"per_second": 1000}``: Meta's throughput upgrade (``THROUGHPUT_UPGRADE``); the
    number is paced at the new rate here from now on."""
    state = state_of(request)
    body = await json_object(request)
    per_second = body.get("per_second", UPGRADED_THROUGHPUT)
    if not isinstance(per_second, int | float) or isinstance(per_second, bool) or per_second <= 0:
        return _bad("per_second is a positive number")
    health = health_of(state, phone_number_id)
    health.throughput_per_second = float(per_second)
    value = {
        "display_phone_number": _display(health, body),
        "event": "THROUGHPUT_UPGRADE",
        "current_limit": "TIER_UNLIMITED",  # Meta's name for the higher throughput here
    }
    await _send(state, phone_number_id, "phone_number_quality_update", value)
    return _shown(health)


@router.post("/phone-numbers/{phone_number_id}/account_update", response_model=None)
async def account_update(phone_number_id: str, request: Request) -> dict[str, Any] | JSONResponse:
    """``{"event": "ACCOUNT_RESTRICTION", "restriction_info": [{"restriction_type",
    "expiration"?}]}`` (an empty list lifts the restrictions), ``{"event":
    "DISABLED_UPDATE", "ban_state": "DISABLE"|"REINSTATE"|"SCHEDULE_FOR_DISABLE"}`` or
    ``{"event": "ACCOUNT_VIOLATION", "violation_type"}``: ``account_update``."""
    state = state_of(request)
    body = await json_object(request)
    event = str(body.get("event", "")).upper()
    if event not in ACCOUNT_EVENTS:
        return _bad(f"event is one of {ACCOUNT_EVENTS}")
    health = health_of(state, phone_number_id)
    value: dict[str, Any] = {"event": event}
    if event == "ACCOUNT_RESTRICTION":
        restrictions = _restrictions(body.get("restriction_info", []))
        if restrictions is None:
            return _bad(
                "restriction_info is a list of {restriction_type, expiration?: unix seconds}"
                f", restriction_type one of {RESTRICTION_TYPES}"
            )
        value["phone_number"] = _display(health, body)
        value["restriction_info"] = restrictions
        sending = [r for r in restrictions if r["restriction_type"] == RESTRICTION_TYPES[0]]
        health.restricted = bool(sending)
        ends = [r.get("expiration") for r in sending]
        known = [float(e) for e in ends if e is not None]
        health.restricted_until = max(known) if known and len(known) == len(ends) else None
    elif event == "DISABLED_UPDATE":
        ban_state = str(body.get("ban_state", "")).upper()
        if ban_state not in BAN_STATES:
            return _bad(f"ban_state is one of {BAN_STATES}")
        value["ban_info"] = {
            "waba_ban_state": ban_state,
            "waba_ban_date": time.strftime("%B %d, %Y"),
        }
        if ban_state != "SCHEDULE_FOR_DISABLE":
            # A ban is the whole account's: every number of it.
            waba = _account(state, phone_number_id)
            for number in {
                phone_number_id,
                *(n for n, w in state.phone_wabas.items() if w == waba),
            }:
                health_of(state, number).banned = ban_state == "DISABLE"
    else:
        value["phone_number"] = _display(health, body)
        value["violation_info"] = {"violation_type": str(body.get("violation_type") or "SCAM")}
    await _send(state, phone_number_id, "account_update", value)
    return _shown(health)


@router.get("/phone-numbers/{phone_number_id}/health")
async def shown(phone_number_id: str, request: Request) -> dict[str, Any]:
    return _shown(health_of(state_of(request), phone_number_id))


def _restrictions(given: Any) -> list[dict[str, Any]] | None:
    if not isinstance(given, list):
        return None
    out = []
    for item in given:
        if not isinstance(item, dict) or item.get("restriction_type") not in RESTRICTION_TYPES:
            return None
        expiration = item.get("expiration")
        if expiration is not None and (
            not isinstance(expiration, int) or isinstance(expiration, bool) or expiration <= 0
        ):
            return None
        out.append(
            {"restriction_type": item["restriction_type"]}
            | ({"expiration": expiration} if expiration is not None else {})
        )
    return out


def _shown(health: NumberHealth) -> dict[str, Any]:
    return {
        "phone_number_id": health.phone_number_id,
        "display_phone_number": health.display_phone_number,
        "quality_rating": health.quality,
        "messaging_limit_tier": health.tier,
        "throughput_per_second": health.throughput_per_second,
        "restricted": health.restricted_now(),
        "restricted_until": health.restricted_until,
        "banned": health.banned,
    }
