"""Read receipts: ``POST /{phone_number_id}/messages {"messaging_product": "whatsapp",
"status": "read", "message_id": wamid}`` (Meta's MarkMessageRequestPayload), answered
``{"success": true}``.

As at Meta, only a message a customer sent to that number can be marked read (not one the
business sent, nor a wamid Meta never issued): 100, Invalid parameter, otherwise. A typing
indicator may ride along (``{"type": "text"}``). Receipts are kept for tests
(``GET /_emulator/read-receipts``)."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from herald.emulator.errors import MetaError
from herald.emulator.send_shape import INVALID_PARAMETER, PARAMETER_MISSING
from herald.emulator.state import EmulatorState

ALLOWED = {"messaging_product", "status", "message_id", "typing_indicator"}

router = APIRouter(prefix="/_emulator")


def is_receipt(payload: Any) -> bool:
    """A ``messages`` request that sets a status rather than sending a message."""
    return isinstance(payload, dict) and "status" in payload


def answer_receipt(state: EmulatorState, phone_number_id: str, payload: dict[str, Any]) -> Response:
    if payload.get("messaging_product") != "whatsapp":
        raise MetaError(INVALID_PARAMETER, "messaging_product must be whatsapp")
    if payload.get("status") != "read":
        raise MetaError(INVALID_PARAMETER, "status must be read")
    unknown = sorted(set(payload) - ALLOWED)
    if unknown:
        raise MetaError(INVALID_PARAMETER, f"unexpected parameter {unknown[0]}")
    wamid = payload.get("message_id")
    if wamid is None:
        raise MetaError(PARAMETER_MISSING, "message_id is required")
    if not isinstance(wamid, str) or not wamid:
        raise MetaError(INVALID_PARAMETER, "message_id must be a message id")
    typing = payload.get("typing_indicator")
    if typing is not None and typing != {"type": "text"}:
        raise MetaError(INVALID_PARAMETER, 'typing_indicator must be {"type": "text"}')
    if state.inbound_to.get(wamid) != phone_number_id:
        raise MetaError(INVALID_PARAMETER, f"message_id {wamid} is not a message to this number")
    state.read_receipts.append(
        {
            "phone_number_id": phone_number_id,
            "message_id": wamid,
            "typing_indicator": typing is not None,
            "at": time.time(),
        }
    )
    return Response(json.dumps({"success": True}), media_type="application/json")


@router.get("/read-receipts")
async def read_receipts(request: Request) -> list[dict[str, Any]]:
    state: EmulatorState = request.app.state.emulator
    return list(state.read_receipts)
