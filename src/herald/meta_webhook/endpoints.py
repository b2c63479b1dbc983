"""``/webhooks/whatsapp``: Meta's subscription handshake and event deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from herald.deps import RuntimeDep, SessionDep
from herald.kit.jsend import Success
from herald.kit.metrics import WEBHOOKS_RECEIVED
from herald.meta_webhook import service

router = APIRouter(tags=["webhooks"])


@router.get("/webhooks/whatsapp", response_class=PlainTextResponse)
async def verify_subscription(
    session: SessionDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=256)] = None,
) -> PlainTextResponse:
    return PlainTextResponse(await service.verify_subscription(session, mode, token, challenge))


@router.post("/webhooks/whatsapp")
async def receive(request: Request, runtime: RuntimeDep) -> Success[dict[str, bool]]:
    raw = await request.body()
    signature = request.headers.get("x-hub-signature-256")
    new = await service.ingest(
        runtime.webhook_secrets, runtime.webhook_inbox, raw, signature, runtime.clock.now()
    )
    if new:
        WEBHOOKS_RECEIVED.inc()
        runtime.webhooks_pending.set()
    return Success(message="Received", data={"duplicate": not new})
