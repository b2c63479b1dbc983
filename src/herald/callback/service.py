"""Registering callback URLs: checked against internal targets, secret generated when none is
given (and shown once), stored encrypted because every delivery is signed with it."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from herald.callback import repository, urls
from herald.callback.schemas import CallbackCreate, DeliveryOutcome
from herald.errors import NotFound
from herald.kit.crypto import Cipher
from herald.kit.pagination import PageParams, fetch_page
from herald.models import CallbackDelivery, CallbackEndpoint


class CallbackNotFound(NotFound):
    code = "callback_not_found"
    message = "Callback not found."


async def create(
    session: AsyncSession,
    user_id: int,
    body: CallbackCreate,
    cipher: Cipher,
    allow_loopback: bool,
    now: datetime,
) -> tuple[CallbackEndpoint, str]:
    await urls.check(body.url, allow_loopback)
    secret = body.secret or "whsec_" + secrets.token_urlsafe(32)
    endpoint = CallbackEndpoint(
        user_id=user_id,
        url=body.url,
        events=list(dict.fromkeys(body.events)),
        secret_encrypted=cipher.encrypt(secret),
        created_at=now,
    )
    return await repository.add(session, endpoint), secret


async def get(session: AsyncSession, user_id: int, endpoint_id: int) -> CallbackEndpoint:
    endpoint = await repository.get(session, user_id, endpoint_id)
    if endpoint is None:
        raise CallbackNotFound()
    return endpoint


async def list_page(
    session: AsyncSession, user_id: int, params: PageParams
) -> tuple[Sequence[CallbackEndpoint], int]:
    return await fetch_page(session, repository.list_query(user_id), params)


async def delete(session: AsyncSession, user_id: int, endpoint_id: int) -> None:
    """Remove it and everything still waiting to be delivered to it."""
    await repository.remove(session, await get(session, user_id, endpoint_id))


async def deliveries_page(
    session: AsyncSession,
    user_id: int,
    endpoint_id: int,
    outcome: DeliveryOutcome | None,
    params: PageParams,
) -> tuple[Sequence[CallbackDelivery], int]:
    """An endpoint's deliveries (another user's endpoint is not found), newest first."""
    endpoint = await get(session, user_id, endpoint_id)
    return await fetch_page(session, repository.deliveries_query(endpoint.id, outcome), params)


async def set_aside_by_endpoint(
    session: AsyncSession, user_id: int, endpoints: Sequence[CallbackEndpoint]
) -> dict[int, tuple[int, str | None]]:
    """How many deliveries of each of the user's endpoints were set aside, and the last error."""
    return await repository.set_aside_by_endpoint(
        session, [e.id for e in endpoints if e.user_id == user_id]
    )
