"""``POST /api/v2/whatsapp/templates/{template_id}/send`` as plain ASGI, for the common send.

Single sends are the API's busiest route, and through FastAPI a send cost 1.3-1.4 ms of CPU
against 0.27 ms for a route with nothing to do: FastAPI's dependency solving alone was 28.5% of
a send's samples (py-spy, docs/benchmarks.md, "Intake"). This route serves the sends the
framework's route would store from what the process remembers, with no database read: a bearer
token whose signature this process verified, a remembered user who still authorises it and a
remembered template, a valid body with no idempotency key and no header file. The send then
goes through the same drafting (its sender chosen among the user's remembered channels), rate
limit, batcher and answer as the framework's route.

Everything else is handed to the framework, body included, before anything was spent or
stored: a refusal of any kind, a first request, a secret key, an idempotency key, a header file.
So every error keeps the framework's order and wording; this route only answers 202s, and the
429 or 503 the same steps give there. ``HERALD_FAST_ROUTES=false`` turns it off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import orjson
from pydantic import TypeAdapter
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from herald.deps import PLUGIN_HEADERS
from herald.errors import HeraldError
from herald.kit.edge import FastRoute
from herald.kit.pagination import MAX_ID
from herald.kit.plain_asgi import read_body, replaying, send_json
from herald.kit.ratelimit import spend_user_budget
from herald.message import accept, service, single
from herald.message.caller import Sender, remembered_bearer
from herald.message.schemas import SendV2
from herald.message.state import intake_state
from herald.responses import error_answer
from herald.runtime import Runtime

SEND_V2_PATH = "/api/v2/whatsapp/templates/{template_id}/send"
_SEND_V2_PATHS = re.compile(r"/api/v2/whatsapp/templates/([1-9][0-9]{0,18})/send")
_SEND_V2 = TypeAdapter(SendV2)
_PLUGIN_HEADERS = tuple(name.encode() for name in PLUGIN_HEADERS)
_HEADERS = {b"authorization", b"content-type", b"idempotency-key", *_PLUGIN_HEADERS}


@dataclass(frozen=True)
class _Send:
    caller: Sender
    template_id: int
    body: SendV2
    drafted: service.Draft
    now: datetime


async def fast_send_v2(scope: Scope, receive: Receive, send: Send, framework: ASGIApp) -> None:
    raw = await read_body(receive)
    if raw is None:
        return  # nobody is left to answer; nothing was stored
    receive = replaying(raw, receive)
    runtime: Runtime = scope["app"].state.runtime
    prepared = _prepare(scope, raw, runtime)
    if prepared is None:
        await framework(scope, receive, send)
        return
    try:
        answer = await _store(scope, receive, runtime, prepared)
    except Exception as failure:
        await error_answer(failure, scope["method"], scope["path"])(scope, receive, send)
        return
    accept.accepted(runtime)
    await send_json(send, 202, answer)


def _prepare(scope: Scope, raw: bytes, runtime: Runtime) -> _Send | None:
    """The send drafted from the process's memory, or None: the framework decides it."""
    match = _SEND_V2_PATHS.fullmatch(scope["path"])
    if match is None or (template_id := int(match[1])) > MAX_ID:
        return None
    headers: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _HEADERS:
            headers.setdefault(name, value)  # the first of repeated headers, as Starlette reads
    if b"idempotency-key" in headers or any(headers.get(name) for name in _PLUGIN_HEADERS):
        return None
    authorization = headers.get(b"authorization")
    content_type = headers.get(b"content-type", b"application/json")
    if not authorization or content_type.split(b";")[0].strip().lower() != b"application/json":
        return None
    try:
        claims, remembered = remembered_bearer(authorization.decode("latin-1"), runtime)
        body = _SEND_V2.validate_python(orjson.loads(raw))
    except (HeraldError, ValueError):  # ValueError: orjson's and pydantic's errors
        return None
    if body.idempotency_key is not None or not remembered:
        return None
    cache = intake_state(runtime).cache
    template = cache.template(claims.user_id, template_id)
    channels = cache.user_channels(claims.user_id)
    if template is None or channels is None:
        return None
    now = runtime.clock.now()
    try:
        drafted = single.draft_v2_from(runtime, claims.user_id, template, channels, body, now)
    except HeraldError:
        return None  # refused by what this process remembers: decided on a fresh read
    if drafted.needs_media:
        return None
    caller = Sender(claims.user_id, claims.credentials_version, remembered=True)
    return _Send(caller, template_id, body, drafted, now)


async def _store(scope: Scope, receive: Receive, runtime: Runtime, prepared: _Send) -> bytes:
    """The 202's body of the send stored, by the pipeline's steps (``accept``)."""
    caller = prepared.caller
    await spend_user_budget(scope, runtime.limiter, runtime.user_rate_limit, caller.user_id)
    answer = await accept.store_remembered(runtime, caller, prepared.drafted)
    if answer is not None:
        return answer
    # The user or template changed since the process remembered them: what the framework's
    # route does next, with what it would have there (the budget is spent once either way).
    session = runtime.sessions()
    try:
        draft = single.draft_v2(
            runtime, session, caller.user_id, prepared.template_id, prepared.body
        )
        return await accept.store_fresh(
            Request(scope, receive), caller, session, runtime, draft, prepared.now, True
        )
    finally:
        await session.close()


FAST_SEND_V2 = FastRoute("POST", SEND_V2_PATH, fast_send_v2, _SEND_V2_PATHS)
