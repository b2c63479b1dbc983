"""``/api/v2/secret-keys``: plugin credentials, managed with a login token only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from herald.deps import RuntimeDep, SessionDep, TokenUser
from herald.kit.jsend import Success
from herald.kit.pagination import MAX_ID, Page, PageParamsDep, make_page
from herald.secret_key import service
from herald.secret_key.schemas import SecretKeyCreate, SecretKeyCreated, SecretKeyOut

router = APIRouter(tags=["secret keys"])

KeyId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("/api/v2/secret-keys", status_code=status.HTTP_201_CREATED)
async def create_secret_key(
    body: SecretKeyCreate, user: TokenUser, session: SessionDep, runtime: RuntimeDep
) -> Success[SecretKeyCreated]:
    """The secret is in ``data.secret_key`` of this answer only; store it in the plugin."""
    key, secret = await service.create(session, user.id, body, runtime.clock.now())
    await session.commit()
    shown = SecretKeyCreated(**SecretKeyOut.model_validate(key).model_dump(), secret_key=secret)
    return Success(message="Secret key created", data=shown)


@router.get("/api/v2/secret-keys")
async def list_secret_keys(
    user: TokenUser, session: SessionDep, params: PageParamsDep
) -> Success[Page[SecretKeyOut]]:
    keys, total = await service.list_page(session, user.id, params)
    items = [SecretKeyOut.model_validate(k) for k in keys]
    return Success(message="Secret keys", data=make_page(items, total, params))


@router.delete("/api/v2/secret-keys/{key_id}")
async def revoke_secret_key(
    key_id: KeyId, user: TokenUser, session: SessionDep, runtime: RuntimeDep
) -> Success[SecretKeyOut]:
    key = await service.revoke(session, user.id, key_id, runtime.clock.now())
    await session.commit()
    return Success(message="Secret key revoked", data=SecretKeyOut.model_validate(key))
