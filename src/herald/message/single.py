"""Drafting one message and rendering its 202, for every single-send route (the framework's and
the pure-ASGI ``fast_send``); storing it is ``accept``'s."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from herald.channel import senders
from herald.channel.senders import Named, UserChannels
from herald.kit.jsend import Success
from herald.message import service
from herald.message.output import message_out, queued_json
from herald.message.schemas import Accepted, SendV2
from herald.message.state import intake_state
from herald.models import Template
from herald.runtime import Runtime
from herald.template import service as templates

DraftFn = Callable[[datetime, bool], Awaitable[service.Draft]]
"""Drafts the send at ``now``; ``fresh``: from the database, not from the process's memory."""


def policy(runtime: Runtime) -> service.SendPolicy:
    return service.SendPolicy(deadline=runtime.settings.send_deadline)


def accepted_body(message: Any) -> dict[str, Any]:
    data = Accepted(
        message=message_out(message),
        whatsapp_bulk_group_id=message.whatsapp_bulk_group_id,
        held=message.scheduled_at if getattr(message, "held_reason", None) else None,
    )
    return Success(message="Message queued", data=data).model_dump(mode="json")


def accepted_json(message_id: int, row: Mapping[str, Any]) -> bytes:
    """``accepted_body`` of the message just stored from ``row``, rendered (a single send's
    202), without building the message or the models."""
    message = queued_json(message_id, row)
    data = {
        "message": message,
        "whatsapp_bulk_group_id": row["whatsapp_bulk_group_id"],
        "held": message["scheduled_at"] if row.get("held_reason") else None,
    }
    return orjson.dumps({"status": "success", "message": "Message queued", "data": data})


async def template_for(
    runtime: Runtime, session: AsyncSession, user_id: int, template_id: int, fresh: bool
) -> Template:
    if (
        not fresh
        and (known := intake_state(runtime).cache.template(user_id, template_id)) is not None
    ):
        return known
    return await templates.get(session, user_id, template_id)


async def channels_for(
    runtime: Runtime, session: AsyncSession, user_id: int, fresh: bool
) -> UserChannels:
    """The user's channels (the senders a send chooses among): from what the process remembers
    unless ``fresh``; a read is remembered for the next sends (the batch checks it again)."""
    cache = intake_state(runtime).cache
    if not fresh and (known := cache.user_channels(user_id)) is not None:
        return known
    channels = await senders.of_user(session, user_id)
    cache.remember_channels(user_id, channels)
    return channels


def draft_v2(
    runtime: Runtime, session: AsyncSession, user_id: int, template_id: int, body: SendV2
) -> DraftFn:
    async def draft(now: datetime, fresh: bool) -> service.Draft:
        template = await template_for(runtime, session, user_id, template_id, fresh)
        channels = await channels_for(runtime, session, user_id, fresh)
        return draft_v2_from(runtime, user_id, template, channels, body, now)

    return draft


def draft_v2_from(
    runtime: Runtime,
    user_id: int,
    template: Template,
    channels: UserChannels,
    body: SendV2,
    now: datetime,
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
        channels=channels,
        named=Named(body.channel_id, body.from_),
    )
