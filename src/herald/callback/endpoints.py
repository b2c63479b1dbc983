"""``/api/v2/webhooks``: status callbacks (spec/api.md §7)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from herald.callback import service
from herald.callback.schemas import (
    CallbackCreate,
    CallbackCreated,
    CallbackDeliveryOut,
    CallbackOut,
    CallbackSecretRotate,
    DeliveryOutcome,
)
from herald.deps import CurrentUser, RuntimeDep, SessionDep
from herald.kit.jsend import Success
from herald.kit.pagination import MAX_ID, Page, PageParamsDep, make_page

router = APIRouter(tags=["callbacks"])

CALLBACKS = "/api/v2/webhooks"
CallbackId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post(CALLBACKS, status_code=status.HTTP_201_CREATED)
async def create_callback(
    body: CallbackCreate, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Success[CallbackCreated]:
    """Every state change of the caller's messages is POSTed to ``url``, signed."""
    endpoint, secret = await service.create(
        session,
        user.id,
        body,
        runtime.cipher,
        runtime.settings.callbacks_allow_loopback,
        runtime.clock.now(),
    )
    await session.commit()
    shown = CallbackCreated(**CallbackOut.model_validate(endpoint).model_dump(), secret=secret)
    return Success(message="Callback registered", data=shown)


@router.get(CALLBACKS)
async def list_callbacks(
    user: CurrentUser, session: SessionDep, params: PageParamsDep
) -> Success[Page[CallbackOut]]:
    endpoints, total = await service.list_page(session, user.id, params)
    items = [CallbackOut.model_validate(e) for e in endpoints]
    return Success(message="Callbacks", data=make_page(items, total, params))


@router.get(CALLBACKS + "/{callback_id}")
async def get_callback(
    callback_id: CallbackId, user: CurrentUser, session: SessionDep
) -> Success[CallbackOut]:
    endpoint = await service.get(session, user.id, callback_id)
    return Success(message="Callback", data=CallbackOut.model_validate(endpoint))


@router.post(CALLBACKS + "/{callback_id}/rotate-secret")
async def rotate_callback_secret(
    callback_id: CallbackId,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    body: CallbackSecretRotate | None = None,
) -> Success[CallbackCreated]:
    """A new signing secret (shown once); the replaced one keeps signing, as a second
    signature, for ``previous_secret_valid_for_seconds`` (a day unless told)."""
    endpoint, secret = await service.rotate_secret(
        session,
        user.id,
        callback_id,
        body or CallbackSecretRotate(),
        runtime.cipher,
        runtime.clock.now(),
    )
    await session.commit()
    shown = CallbackCreated(**CallbackOut.model_validate(endpoint).model_dump(), secret=secret)
    return Success(message="Callback secret rotated", data=shown)


@router.get(CALLBACKS + "/{callback_id}/deliveries")
async def list_deliveries(
    callback_id: CallbackId,
    user: CurrentUser,
    session: SessionDep,
    params: PageParamsDep,
    outcome: Annotated[DeliveryOutcome | None, Query()] = None,
) -> Success[Page[CallbackDeliveryOut]]:
    """The events queued for this callback, newest first; ``outcome=dead`` lists those set
    aside (given up after 24 h of failures, or after attempts Herald itself could not make)."""
    rows, total = await service.deliveries_page(session, user.id, callback_id, outcome, params)
    items = [CallbackDeliveryOut.model_validate(r) for r in rows]
    return Success(message="Callback deliveries", data=make_page(items, total, params))


@router.delete(CALLBACKS + "/{callback_id}")
async def delete_callback(
    callback_id: CallbackId, user: CurrentUser, session: SessionDep
) -> Success[dict[str, int]]:
    await service.delete(session, user.id, callback_id)
    await session.commit()
    return Success(message="Callback deleted", data={"id": callback_id})
