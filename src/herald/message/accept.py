"""The intake pipeline: how a send is accepted, whichever route it came by.

Every send route is an adapter over this module: the framework's v2, v1 and template-v1 single
sends (``endpoints``), the bulk send (``endpoints.send_bulk``) and the plain-ASGI v2 send
(``fast_send``). The caller was authenticated and charged one unit of the rate limit by
``caller`` (or by ``fast_send`` from the same memory); the send is drafted by ``single`` /
``service.draft_one`` (every check that needs no database) or ``bulk``; here it is stored:

- ``accept_single``: one message through the group-commit batcher (``intake.SendBatcher``), or
  in the request's own transaction when it carries an idempotency key or a header file;
- ``accept_keyed``: at most once per idempotency key (keyed single sends and bulk sends);
- ``accepted``: what follows every acceptance (the dispatcher's wake-up, the metric): the one
  place to hook anything that must happen after a send was committed.

A send drafted from what this process remembers (``intake_cache``) is stored only if that still
holds in its batch's transaction; otherwise (``Stale``) it is drafted again from the database,
which decides every refusal: an error is never decided from memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from herald.deps import verified_user
from herald.errors import HeraldError, ServiceUnavailable
from herald.kit.jsend import JSendResponse
from herald.kit.metrics import MESSAGES
from herald.message import idempotency, service, single
from herald.message.caller import Sender
from herald.message.intake_cache import Checks, Stale, template_fields
from herald.message.state import intake_state
from herald.models import User
from herald.runtime import Runtime

STALE_RETRIES = 3  # fresh drafts of a send whose user or template changed before its batch

Work = Callable[[datetime], Awaitable[dict[str, Any]]]
"""Stores the send in the request's transaction at ``now``; returns the 202's JSend body."""


def accepted(runtime: Runtime, count: int = 1) -> None:
    """``count`` messages were committed: wake the dispatcher, count them."""
    runtime.wakeup.accepted()
    MESSAGES.labels("queued").inc(count)


async def accept_single(
    request: Request,
    body: Any,
    key: str | None,
    caller: Sender,
    session: AsyncSession,
    runtime: Runtime,
    draft: single.DraftFn,
) -> Response:
    """One message: through the intake batcher (group commit) unless it carries an
    idempotency key or a header file, which are stored in this request's transaction."""
    if key or getattr(body, "idempotency_key", None):
        user = await verified_user(request, runtime, session)

        async def work(now: datetime) -> dict[str, Any]:
            return single.accepted_body(
                await service.send_one(session, user.id, await draft(now, True))
            )

        return await accept_keyed(request, body, key, user, session, runtime, work)
    answer = await store_single(request, caller, session, runtime, draft, runtime.clock.now())
    accepted(runtime)
    return Response(answer, status_code=202, media_type="application/json")


async def accept_keyed(
    request: Request,
    body: Any,
    key: str | None,
    user: User,
    session: AsyncSession,
    runtime: Runtime,
    work: Work,
) -> JSendResponse:
    """Run ``work`` at most once per idempotency key (the header's, else the body's)."""
    key = key or getattr(body, "idempotency_key", None)
    if not key:
        return await _accept_once(request, body, None, user, session, runtime, work)
    async with intake_state(runtime).locks.hold(user.id, key):
        return await _accept_once(request, body, key, user, session, runtime, work)


async def _accept_once(
    request: Request,
    body: Any,
    key: str | None,
    user: User,
    session: AsyncSession,
    runtime: Runtime,
    work: Work,
) -> JSendResponse:
    now = runtime.clock.now()
    user_id = user.id  # read now: a rollback below expires the user's attributes
    # Only a keyed send needs its fingerprint: dumping and hashing a 10,000-recipient body
    # costs ~16 ms of CPU, for nothing without a key.
    fingerprint = (
        idempotency.request_hash(request.url.path, body.fingerprint_fields()) if key else ""
    )
    if key:
        stored = await idempotency.replay(session, user_id, key, fingerprint, now)
        if stored is not None:
            return JSendResponse(stored.body, status_code=stored.status)
    answer = await work(now)
    try:
        if key:
            await idempotency.remember(
                session, user_id, key, fingerprint, idempotency.StoredAnswer(202, answer), now
            )
        await session.commit()
    except IntegrityError:
        # Another process stored the same key first (PostgreSQL raises when the key is flushed,
        # once that process commits): drop this attempt's message and answer as it did.
        await session.rollback()
        if key and (stored := await idempotency.replay(session, user_id, key, fingerprint, now)):
            return JSendResponse(stored.body, status_code=stored.status)
        raise
    accepted(runtime, _queued_count(answer))
    return JSendResponse(answer, status_code=202)


def _queued_count(answer: dict[str, Any]) -> int:
    data = answer.get("data") or {}
    return int(data.get("queued", 1)) if isinstance(data, dict) else 1


async def store_single(
    request: Request,
    caller: Sender,
    session: AsyncSession,
    runtime: Runtime,
    draft: single.DraftFn,
    now: datetime,
) -> bytes:
    """The 202's body of one send without an idempotency key, stored: from memory when the
    caller was authorised from it, else (or when that changed meanwhile) from the database."""
    if caller.remembered:
        try:
            drafted: service.Draft | None = await draft(now, False)
        except HeraldError:
            drafted = None  # refused by what this process remembers: decided on a fresh read
        if drafted is not None and not drafted.needs_media:
            # The batch writes on a connection of its own: give this one back before waiting.
            if session.in_transaction():
                await session.close()
            answer = await store_remembered(runtime, caller, drafted)
            if answer is not None:
                return answer
    return await store_fresh(request, caller, session, runtime, draft, now, caller.remembered)


async def store_remembered(
    runtime: Runtime, caller: Sender, drafted: service.Draft
) -> bytes | None:
    """The 202's body of a send drafted from memory, once its batch committed it; None when
    what it was drafted under changed (``Stale``): it must be drafted again from the database."""
    with suppress(Stale):
        return single.accepted_json(await _batched_id(runtime, caller, drafted), drafted.row)
    return None


async def store_fresh(
    request: Request,
    caller: Sender,
    session: AsyncSession,
    runtime: Runtime,
    draft: single.DraftFn,
    now: datetime,
    must_read_user: bool,
) -> bytes:
    """Drafted from the database; ``must_read_user``: the caller was authorised from memory."""
    for _ in range(STALE_RETRIES):
        if must_read_user:
            await verified_user(request, runtime, session)  # raises for a revoked caller
        drafted = await draft(now, True)
        if drafted.needs_media:
            message = await service.send_one(session, caller.user_id, drafted)
            await session.commit()
            return orjson.dumps(single.accepted_body(message))
        if session.in_transaction():
            await session.close()
        answer = await store_remembered(runtime, caller, drafted)
        if answer is not None:
            return answer
        must_read_user = True
    raise ServiceUnavailable("The user or template kept changing; retry.", retry_after=1)


async def _batched_id(runtime: Runtime, caller: Sender, drafted: service.Draft) -> int:
    """The id of the message stored by the batcher; raises Stale when the state it was drafted
    under changed."""
    template = drafted.template  # detached now, and never changed: requests may share it
    intake_state(runtime).cache.remember_template(template)
    checks = Checks(
        caller.user_id,
        caller.token_credentials,
        template.id,
        template_fields(template),
        drafted.channels,
    )
    return await intake_state(runtime).batcher.store(drafted.row, checks)
