"""Secret keys for shop plugins: created with the secret shown once, revoked at once, and
checked on every request that carries the three plugin headers."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from herald.errors import HeraldError, NotFound, Unauthenticated
from herald.kit.crypto import sha256_hex
from herald.kit.pagination import PageParams, fetch_page
from herald.models import SecretKey
from herald.secret_key import repository
from herald.secret_key.schemas import SecretKeyCreate
from herald.secret_key.uri import normalise_base_uri

KEY_PREFIX = "hk_"
# last_used_at is written at most this often: a write per request would cost every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class SecretKeyNotFound(NotFound):
    code = "secret_key_not_found"
    message = "Secret key not found."


class ApiKeyInvalid(Unauthenticated):
    code = "api_key_invalid"
    message = "The x-api-key, x-platform-type and x-base-uri headers do not match a live key."


class ApiKeyHeadersIncomplete(HeraldError):
    code = "api_key_headers_incomplete"
    message = "Plugin authentication needs all of x-api-key, x-platform-type and x-base-uri."


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def create(
    session: AsyncSession, user_id: int, body: SecretKeyCreate, now: datetime
) -> tuple[SecretKey, str]:
    secret = new_secret()
    key = SecretKey(
        user_id=user_id,
        name=body.name,
        platform_type=body.platform_type.value,
        base_uri=body.base_uri,
        key_prefix=secret[:10],
        key_hash=sha256_hex(secret),
        created_at=now,
    )
    return await repository.add(session, key), secret


async def list_page(
    session: AsyncSession, user_id: int, params: PageParams
) -> tuple[Sequence[SecretKey], int]:
    return await fetch_page(session, repository.list_query(user_id), params)


async def revoke(session: AsyncSession, user_id: int, key_id: int, now: datetime) -> SecretKey:
    key = await repository.get(session, user_id, key_id)
    if key is None:
        raise SecretKeyNotFound()
    if key.revoked_at is None:
        key.revoked_at = now
        await session.flush()
    return key


async def authenticate(
    session: AsyncSession, api_key: str, platform_type: str, base_uri: str
) -> SecretKey:
    """The live key matching all three headers; ApiKeyInvalid otherwise.

    The key is found by its hash, so no comparison ever runs on the secret itself.
    """
    key = await repository.by_hash(session, sha256_hex(api_key.strip()))
    try:
        uri = normalise_base_uri(base_uri)
    except ValueError:
        raise ApiKeyInvalid() from None
    if (
        key is None
        or key.revoked_at is not None
        or key.platform_type != platform_type.strip().lower()
        or key.base_uri != uri
    ):
        raise ApiKeyInvalid()
    return key


def note_use(key: SecretKey, now: datetime) -> bool:
    """Record the use when the last one is older than the resolution; True when it changed
    (the caller commits)."""
    if key.last_used_at is not None and now - key.last_used_at <= LAST_USED_RESOLUTION:
        return False
    key.last_used_at = now
    return True
