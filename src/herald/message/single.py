"""Storing one message through the intake batcher: shared by the framework's send routes and
the pure-ASGI ``POST /api/v2/whatsapp/templates/{id}/send`` (``fast_send``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from herald.deps import Sender, verified_user
from herald.errors import HeraldError, ServiceUnavailable
from herald.kit.jsend import Success
from herald.message import service
from herald.message.intake_cache import Checks, Stale, template_fields
from herald.message.output import message_out, queued_json
from herald.message.schemas import Accepted, SendV2
from herald.models import Message, Template
from herald.runtime import Runtime
from herald.template import service as templates

STALE_RETRIES = 3  # fresh drafts of a send whose user or template changed before its batch

DraftFn = Callable[[datetime, bool], Awaitable[service.Draft]]
"""Drafts the send at ``now``; ``fresh``: from the database, not from the process's memory."""


def policy(runtime: Runtime) -> service.SendPolicy:
    return service.SendPolicy(deadline=runtime.settings.send_deadline)


def accepted_body(message: Any) -> dict[str, Any]:
    data = Accepted(
        message=message_out(message), whatsapp_bulk_group_id=message.whatsapp_bulk_group_id
    )
    return Success(message="Message queued", data=data).model_dump(mode="json")


def accepted_json(message_id: int, row: Mapping[str, Any]) -> bytes:
    """``accepted_body`` of the message just stored from ``row``, rendered (a single send's
    202), without building the message or the models."""
    data = {
        "message": queued_json(message_id, row),
        "whatsapp_bulk_group_id": row["whatsapp_bulk_group_id"],
    }
    return orjson.dumps({"status": "success", "message": "Message queued", "data": data})


async def template_for(
    runtime: Runtime, session: AsyncSession, user_id: int, template_id: int, fresh: bool
) -> Template:
    if not fresh and (known := runtime.intake_cache.template(user_id, template_id)) is not None:
        return known
    return await templates.get(session, user_id, template_id)


def draft_v2(
    runtime: Runtime, session: AsyncSession, user_id: int, template_id: int, body: SendV2
) -> DraftFn:
    async def draft(now: datetime, fresh: bool) -> service.Draft:
        template = await template_for(runtime, session, user_id, template_id, fresh)
        return draft_v2_from(runtime, user_id, template, body, now)

    return draft


def draft_v2_from(
    runtime: Runtime, user_id: int, template: Template, body: SendV2, now: datetime
) -> service.Draft:
    return service.draft_one(
        user_id,
        template,
        body,
        body.otp_code,
        body.to,
        body.country_code,
        body.send_at,
        policy(runtime),
        now,
    )


async def store_single(
    request: Request, caller: Sender, session: AsyncSession, runtime: Runtime, draft: DraftFn
) -> Message:
    now = runtime.clock.now()
    if caller.remembered:
        try:
            drafted: service.Draft | None = await draft(now, False)
        except HeraldError:
            drafted = None  # refused by what this process remembers: decided on a fresh read
        if drafted is not None and not drafted.needs_media:
            with suppress(Stale):
                return await batched(runtime, caller, drafted, session)
    return await store_fresh(request, caller, session, runtime, draft, now, caller.remembered)


async def store_fresh(
    request: Request,
    caller: Sender,
    session: AsyncSession,
    runtime: Runtime,
    draft: DraftFn,
    now: datetime,
    must_read_user: bool,
) -> Message:
    """Drafted from the database; ``must_read_user``: the caller was authorised from memory."""
    for _ in range(STALE_RETRIES):
        if must_read_user:
            await verified_user(request, runtime, session)  # raises for a revoked caller
        drafted = await draft(now, True)
        if drafted.needs_media:
            message = await service.send_one(session, caller.user_id, drafted)
            await session.commit()
            return message
        with suppress(Stale):
            return await batched(runtime, caller, drafted, session)
        must_read_user = True
    raise ServiceUnavailable("The user or template kept changing; retry.", retry_after=1)


async def batched(
    runtime: Runtime, caller: Sender, drafted: service.Draft, session: AsyncSession
) -> Message:
    # The batch writes on a connection of its own: give this one back before waiting.
    if session.in_transaction():
        await session.close()
    return Message(id=await batched_id(runtime, caller, drafted), **drafted.row)


async def batched_id(runtime: Runtime, caller: Sender, drafted: service.Draft) -> int:
    """The id of the message stored by the batcher; raises Stale when the state it was drafted
    under changed."""
    template = drafted.template  # detached now, and never changed: requests may share it
    runtime.intake_cache.remember_template(template)
    checks = Checks(
        caller.user_id, caller.token_credentials, template.id, template_fields(template)
    )
    return await runtime.send_batcher.store(drafted.row, checks)
