"""Registering callback URLs: checked against internal targets, secret generated when none is
given (and shown once), stored encrypted because every delivery is signed with it; rotating
that secret with the replaced one still signing for a while."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from herald.callback import repository, signing, urls
from herald.callback.schemas import CallbackCreate, CallbackSecretRotate, DeliveryOutcome
from herald.errors import Conflict, NotFound
from herald.kit.crypto import Cipher
from herald.kit.pagination import PageParams, fetch_page
from herald.models import CallbackDelivery, CallbackEndpoint


class CallbackNotFound(NotFound):
    code = "callback_not_found"
    message = "Callback not found."


class CallbackExists(Conflict):
    code = "callback_exists"
    message = "A callback with this URL already exists (rotate its secret to change it)."


async def create(
    session: AsyncSession,
    user_id: int,
    body: CallbackCreate,
    cipher: Cipher,
    allow_loopback: bool,
    now: datetime,
) -> tuple[CallbackEndpoint, str]:
    target = await urls.check(body.url, allow_loopback)
    secret = body.secret or signing.generate_secret()
    endpoint = CallbackEndpoint(
        user_id=user_id,
        url=target.url,
        events=list(dict.fromkeys(body.events)),
        secret_encrypted=cipher.encrypt(secret),
        created_at=now,
    )
    stored = await repository.add_unless_taken(session, endpoint)
    if stored is None:
        existing = await repository.get_by_url(session, user_id, target.url)
        raise CallbackExists(data={"id": existing.id} if existing else None)
    return stored, secret


async def get(session: AsyncSession, user_id: int, endpoint_id: int) -> CallbackEndpoint:
    endpoint = await repository.get(session, user_id, endpoint_id)
    if endpoint is None:
        raise CallbackNotFound()
    return endpoint


async def rotate_secret(
    session: AsyncSession,
    user_id: int,
    endpoint_id: int,
    body: CallbackSecretRotate,
    cipher: Cipher,
    now: datetime,
) -> tuple[CallbackEndpoint, str]:
    """A new secret signs from now on; the one it replaces keeps signing too (a second
    signature) for ``previous_secret_valid_for_seconds``, so a receiver can switch in between.
    A secret replaced earlier, still in its overlap, stops at once: two are valid at most."""
    endpoint = await get(session, user_id, endpoint_id)
    secret = body.secret or signing.generate_secret()
    overlap = body.previous_secret_valid_for_seconds
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted if overlap else None
    endpoint.previous_secret_expires_at = now + timedelta(seconds=overlap) if overlap else None
    endpoint.secret_encrypted = cipher.encrypt(secret)
    await session.flush()
    return endpoint, secret


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
