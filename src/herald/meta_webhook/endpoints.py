"""``/webhooks/whatsapp``: Meta's subscription handshake and event deliveries."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from herald.deps import RuntimeDep, SessionDep
from herald.kit.edge import FastRoute
from herald.kit.jsend import Success
from herald.kit.metrics import WEBHOOKS_RECEIVED
from herald.kit.plain_asgi import read_body, send_json
from herald.meta_webhook import service
from herald.meta_webhook.state import webhook_state
from herald.responses import error_answer
from herald.runtime import Runtime

WEBHOOK_PATH = "/webhooks/whatsapp"

router = APIRouter(tags=["meta webhooks"])


@router.get(WEBHOOK_PATH, response_class=PlainTextResponse)
async def verify_subscription(
    session: SessionDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=256)] = None,
) -> PlainTextResponse:
    return PlainTextResponse(await service.verify_subscription(session, mode, token, challenge))


# Documents the route and answers it when it is reached through the framework; the deliveries
# themselves are served by ``fast_receive`` below.
@router.post(WEBHOOK_PATH)
async def receive(request: Request, runtime: RuntimeDep) -> Success[dict[str, bool]]:
    raw = await request.body()
    new = await _ingest(runtime, raw, request.headers.get("x-hub-signature-256"))
    return Success(message="Received", data={"duplicate": not new})


async def _ingest(runtime: Runtime, raw: bytes, signature: str | None) -> bool:
    state = webhook_state(runtime)
    new = await service.ingest(state.secrets, state.inbox, raw, signature, runtime.clock.now())
    if new:
        WEBHOOKS_RECEIVED.inc()
        state.pending.set()
    return new


_ANSWERS = {
    new: orjson.dumps({"status": "success", "message": "Received", "data": {"duplicate": not new}})
    for new in (True, False)
}


async def fast_receive(scope: Scope, receive: Receive, send: Send, framework: ASGIApp) -> None:
    """``POST /webhooks/whatsapp`` as plain ASGI: Meta's deliveries are the busiest route, and
    FastAPI's routing, dependency solving and response model cost more than the delivery itself
    (py-spy). Same checks, same storage, same JSend answers as ``receive``; the body size limit,
    NUL rejection and access log are applied around it by ``kit.edge.EdgeMiddleware``."""
    raw = await read_body(receive)
    if raw is None:
        return  # nobody is left to answer; nothing was stored
    signature = next(
        (v.decode("latin-1") for k, v in scope["headers"] if k == b"x-hub-signature-256"), None
    )
    try:
        new = await _ingest(scope["app"].state.runtime, raw, signature)
    except Exception as failure:
        await error_answer(failure, scope["method"], scope["path"])(scope, receive, send)
        return
    await send_json(send, 200, _ANSWERS[new])


FAST_RECEIVE = FastRoute("POST", WEBHOOK_PATH, fast_receive)
