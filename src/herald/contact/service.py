"""Contacts: one user's address book, numbers validated and stored as E.164 digits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from herald.contact import repository
from herald.contact.schemas import ContactCreate, ContactUpdate
from herald.errors import ContactExists, NotFound
from herald.kit.pagination import PageParams, fetch_page
from herald.kit.phone import normalise
from herald.models import Contact, ContactTag


class ContactNotFound(NotFound):
    code = "contact_not_found"
    message = "Contact not found."


async def create(
    session: AsyncSession, user_id: int, body: ContactCreate, now: datetime
) -> Contact:
    phone = normalise(body.number, body.country_code)
    contact = Contact(
        user_id=user_id,
        number=phone.digits,
        country_code=phone.country_code,
        firstname=body.firstname or None,
        lastname=body.lastname or None,
        email=body.email,
        created_at=now,
        updated_at=now,
    )
    stored = await repository.add_unless_taken(session, contact, list(dict.fromkeys(body.tags)))
    if stored is None:
        await _ensure_number_free(session, user_id, phone.digits)
        raise ContactExists()  # the other contact was deleted since: the number was taken
    return stored


async def get(session: AsyncSession, user_id: int, contact_id: int) -> Contact:
    contact = await repository.get(session, user_id, contact_id)
    if contact is None:
        raise ContactNotFound()
    return contact


async def list_page(
    session: AsyncSession, user_id: int, params: PageParams, search: str | None, tag: str | None
) -> tuple[Sequence[Contact], int]:
    return await fetch_page(session, repository.list_query(user_id, search, tag), params)


async def update(
    session: AsyncSession, user_id: int, contact_id: int, body: ContactUpdate, now: datetime
) -> Contact:
    contact = await get(session, user_id, contact_id)
    fields = body.model_fields_set
    if body.number is not None or body.country_code is not None:
        phone = normalise(body.number or contact.number, body.country_code or contact.country_code)
        if not await repository.renumber_unless_taken(
            session, contact, phone.digits, phone.country_code
        ):
            await _ensure_number_free(session, user_id, phone.digits)
            raise ContactExists()  # the other contact was deleted since: the number was taken
    for name in ("firstname", "lastname", "email"):
        if name in fields:
            setattr(contact, name, getattr(body, name) or None)
    if body.tags is not None:
        contact.tags = _tags(body.tags)
    contact.updated_at = now
    await session.flush()
    return contact


async def delete(session: AsyncSession, user_id: int, contact_id: int) -> None:
    await repository.delete(session, await get(session, user_id, contact_id))


async def _ensure_number_free(session: AsyncSession, user_id: int, number: str) -> None:
    existing = await repository.get_by_number(session, user_id, number)
    if existing is not None:
        raise ContactExists(data={"id": existing.id})


def _tags(names: Sequence[str]) -> list[ContactTag]:
    return [ContactTag(tag=name) for name in dict.fromkeys(names)]
