"""``/_emulator``: not Meta's; lets operators and tests drive review, faults and inspection."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from herald.emulator.messaging_limit import TIERS
from herald.emulator.records import EmulatedTemplate
from herald.emulator.seeding import check_seed
from herald.emulator.state import EmulatorState

router = APIRouter(prefix="/_emulator")


def state_of(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def _template(request: Request, template_id: str) -> EmulatedTemplate | JSONResponse:
    template = state_of(request).templates.get(template_id)
    if template is None:
        return JSONResponse({"error": "template not found"}, status_code=404)
    return template


async def json_object(request: Request) -> dict[str, Any]:
    """A control request's JSON object; {} for anything else (each route says what it lacks)."""
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@router.post("/templates/seed", response_model=None)
async def seed(request: Request) -> list[dict[str, Any]] | JSONResponse:
    """Templates an account already holds, of any kind, in Meta's listing shape (seeding.py):
    listed at once, no review and no webhook."""
    try:
        placed = state_of(request).seed(check_seed(await request.json()))
    except ValueError as exc:  # SeedError, or a body that is not JSON
        return JSONResponse({"error": str(exc)}, status_code=400)
    return [{**t.as_json(), "waba_id": t.waba_id} for t in placed]


@router.post("/templates/{template_id}/approve", response_model=None)
async def approve(template_id: str, request: Request) -> dict[str, Any] | JSONResponse:
    found = _template(request, template_id)
    if isinstance(found, JSONResponse):
        return found
    state_of(request).set_status(found, "APPROVED")
    return found.as_json()


@router.post("/templates/{template_id}/reject", response_model=None)
async def reject(template_id: str, request: Request) -> dict[str, Any] | JSONResponse:
    found = _template(request, template_id)
    if isinstance(found, JSONResponse):
        return found
    reason = str((await json_object(request)).get("reason") or "INVALID_FORMAT")
    state_of(request).set_status(found, "REJECTED", reason)
    return found.as_json()


@router.post("/templates/{template_id}/status", response_model=None)
async def set_status(template_id: str, request: Request) -> dict[str, Any] | JSONResponse:
    found = _template(request, template_id)
    if isinstance(found, JSONResponse):
        return found
    body = await json_object(request)
    state_of(request).set_status(
        found, str(body.get("status", "APPROVED")).upper(), body.get("reason")
    )
    return found.as_json()


# What Meta does to an approved template after its review, each with its webhook event
# (a status of None: the template's stays as it is).
LATER_DECISIONS: dict[str, tuple[str | None, str]] = {
    "pause": ("PAUSED", "PAUSED"),  # low quality: sends are refused with 132015 until reinstated
    "disable": ("DISABLED", "DISABLED"),  # for good: sends are refused with 132016
    "reinstate": ("APPROVED", "REINSTATED"),  # a paused template is active again
    "flag": (None, "FLAGGED"),  # negative feedback, at risk of a pause: still sent
    # Deleted in WhatsApp Manager: going away, sends are refused with 132001.
    "pending-deletion": ("PENDING_DELETION", "PENDING_DELETION"),
}
QUALITY_SCORES = ("GREEN", "YELLOW", "RED", "UNKNOWN")
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")


async def _template_and_choice(
    request: Request, template_id: str, field: str, allowed: tuple[str, ...]
) -> tuple[EmulatedTemplate, str] | JSONResponse:
    """The template and the ``field`` of the body, one of ``allowed`` (any case)."""
    found = _template(request, template_id)
    if isinstance(found, JSONResponse):
        return found
    choice = str((await json_object(request)).get(field, "")).upper()
    if choice not in allowed:
        return JSONResponse({"error": f"{field} is one of {allowed}"}, status_code=400)
    return found, choice


@router.post("/templates/{template_id}/quality", response_model=None)
async def set_quality(template_id: str, request: Request) -> dict[str, Any] | JSONResponse:
    """``{"quality": "RED"}``: Meta rates the template again, with its quality webhook."""
    chosen = await _template_and_choice(request, template_id, "quality", QUALITY_SCORES)
    if isinstance(chosen, JSONResponse):
        return chosen
    template, score = chosen
    state_of(request).set_quality(template, score)
    return {**template.as_json(), "quality": template.quality}


@router.post("/templates/{template_id}/category", response_model=None)
async def set_category(template_id: str, request: Request) -> dict[str, Any] | JSONResponse:
    """``{"category": "MARKETING"}``: Meta re-categorises the template, with its webhook."""
    chosen = await _template_and_choice(request, template_id, "category", CATEGORIES)
    if isinstance(chosen, JSONResponse):
        return chosen
    template, category = chosen
    state_of(request).set_category(template, category)
    return template.as_json()


@router.post("/templates/{template_id}/{decision}", response_model=None)
async def decide(
    template_id: str, decision: str, request: Request
) -> dict[str, Any] | JSONResponse:
    """``pause``, ``disable``, ``reinstate``, ``flag`` or ``pending-deletion`` a template,
    with the webhook Meta sends."""
    if decision not in LATER_DECISIONS:
        return JSONResponse({"error": f"unknown decision {decision}"}, status_code=404)
    found = _template(request, template_id)
    if isinstance(found, JSONResponse):
        return found
    status, event = LATER_DECISIONS[decision]
    reason = (await json_object(request)).get("reason")
    state_of(request).set_status(found, status or found.status, reason, event=event)
    return found.as_json()


@router.get("/templates")
async def templates(request: Request) -> list[dict[str, Any]]:
    return [{**t.as_json(), "waba_id": t.waba_id} for t in state_of(request).templates.values()]


@router.get("/config")
async def get_config(request: Request) -> dict[str, Any]:
    return state_of(request).config.public()


@router.patch("/config")
async def patch_config(request: Request) -> dict[str, Any]:
    config = state_of(request).config
    for key, value in (await json_object(request)).items():
        config.tune(key, value)
    return config.public()


@router.put("/phone-numbers/{phone_number_id}")
async def map_phone_number(phone_number_id: str, request: Request) -> dict[str, str]:
    """Say which WABA a phone number id sends for (as Meta's business manager would)."""
    waba_id = str((await json_object(request)).get("waba_id", ""))
    state_of(request).phone_wabas[phone_number_id] = waba_id
    return {"phone_number_id": phone_number_id, "waba_id": waba_id}


@router.put("/wabas/{waba_id}/messaging_limit", response_model=None)
async def set_messaging_limit(waba_id: str, request: Request) -> dict[str, Any] | JSONResponse:
    """Enforce a messaging limit tier on a WABA's template sends ({"tier": "TIER_250"}; null
    or TIER_UNLIMITED: no limit, the default)."""
    tier = (await json_object(request)).get("tier")
    if tier is not None and tier not in TIERS:
        return JSONResponse({"error": f"tier must be one of {sorted(TIERS)} or null"}, 400)
    limits = state_of(request).messaging_limits
    limits.set_tier(waba_id, tier)
    return {"waba_id": waba_id, "tier": tier, "usage": limits.usage(waba_id)}


@router.get("/media")
async def media(request: Request) -> list[dict[str, Any]]:
    """Every upload, so tests can count how often a file went up."""
    return [m.as_json() for m in state_of(request).media.values()]


@router.post("/media/{media_id}/expire", response_model=None)
async def expire_media(media_id: str, request: Request) -> dict[str, Any] | JSONResponse:
    """Make a media id unknown to sends, as Meta does after 30 days."""
    found = state_of(request).media.get(media_id)
    if found is None:
        return JSONResponse({"error": "media not found"}, status_code=404)
    found.expired = True
    return found.as_json()


@router.get("/webhooks")
async def webhooks(request: Request) -> list[dict[str, Any]]:
    return [delivery.as_json() for delivery in state_of(request).webhooks.log]


@router.get("/messages")
async def messages(request: Request, phone_number_id: str | None = None) -> list[dict[str, Any]]:
    state = state_of(request)
    return [
        {
            "wamid": m.wamid,
            "phone_number_id": m.phone_number_id,
            "to": m.to,
            "template": m.template,
            "language": m.language,
            "callback_data": m.callback_data,
            "payload": json.loads(m.body),
            "received_at": m.received_at,
        }
        for m in state.messages
        if phone_number_id is None or m.phone_number_id == phone_number_id
    ]


@router.get("/stats")
async def stats(request: Request) -> dict[str, Any]:
    state = state_of(request)
    return {
        "accepted": len(state.messages),
        "refused": state.refused,
        "throughput_refused_at": [
            {"phone_number_id": number, "at": at} for number, at in state.throughput_refused_at
        ],
        "webhooks": len(state.webhooks.log),
    }


@router.post("/reset")
async def reset(request: Request) -> dict[str, bool]:
    """Forget accepted sends, refusals and the webhooks sent (templates, media and settings
    stay): benchmarks measure one phase at a time, and a log kept across them made every full
    collection of the emulator's heap longer."""
    state = state_of(request)
    state.messages.clear()
    state.webhooks.log.clear()
    state.refused.clear()
    state.throughput_refused_at.clear()
    state.read_receipts.clear()
    return {"reset": True}


@router.post("/drain")
async def drain(request: Request) -> dict[str, bool]:
    """Wait until every queued webhook has been delivered (or given up) and, with a state file,
    until that is written there: a drained webhook is not sent again after a SIGKILL."""
    state = state_of(request)
    await state.webhooks.drained()
    await state.durable()
    return {"drained": True}
