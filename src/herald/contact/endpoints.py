from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from herald.contact import service
from herald.contact.schemas import ContactCreate, ContactOut, ContactUpdate
from herald.deps import CurrentUser, RuntimeDep, SessionDep
from herald.kit.jsend import Success
from herald.kit.pagination import MAX_ID, Page, PageParamsDep, make_page

router = APIRouter(tags=["contacts"])

ContactId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("/api/contacts/", status_code=status.HTTP_201_CREATED)
async def create_contact(
    body: ContactCreate, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Success[ContactOut]:
    contact = await service.create(session, user.id, body, runtime.clock.now())
    await session.commit()
    return Success(message="Contact created", data=ContactOut.model_validate(contact))


@router.get("/api/contacts/")
async def list_contacts(
    user: CurrentUser,
    session: SessionDep,
    params: PageParamsDep,
    search: Annotated[str | None, Query(max_length=100)] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
) -> Success[Page[ContactOut]]:
    contacts, total = await service.list_page(session, user.id, params, search, tag)
    items = [ContactOut.model_validate(c) for c in contacts]
    return Success(message="Contacts", data=make_page(items, total, params))


@router.get("/api/contacts/{contact_id}/")
async def get_contact(
    contact_id: ContactId, user: CurrentUser, session: SessionDep
) -> Success[ContactOut]:
    contact = await service.get(session, user.id, contact_id)
    return Success(message="Contact", data=ContactOut.model_validate(contact))


@router.put("/api/contacts/{contact_id}/")
async def update_contact(
    contact_id: ContactId,
    body: ContactUpdate,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Success[ContactOut]:
    contact = await service.update(session, user.id, contact_id, body, runtime.clock.now())
    await session.commit()
    return Success(message="Contact updated", data=ContactOut.model_validate(contact))


@router.delete("/api/contacts/{contact_id}/")
async def delete_contact(
    contact_id: ContactId, user: CurrentUser, session: SessionDep
) -> Success[dict[str, int]]:
    await service.delete(session, user.id, contact_id)
    await session.commit()
    return Success(message="Contact deleted", data={"id": contact_id})
