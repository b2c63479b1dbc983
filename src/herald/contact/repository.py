"""SQL for contacts; every query is scoped to one user."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.db import insert_unless_taken, update_unless_taken
from herald.models import Contact, ContactTag


async def get(session: AsyncSession, user_id: int, contact_id: int) -> Contact | None:
    result = await session.execute(
        select(Contact).where(Contact.id == contact_id, Contact.user_id == user_id)
    )
    return result.scalar_one_or_none()


async def get_by_number(session: AsyncSession, user_id: int, number: str) -> Contact | None:
    result = await session.execute(
        select(Contact).where(Contact.user_id == user_id, Contact.number == number)
    )
    return result.scalar_one_or_none()


def _like_fragment(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_query(user_id: int, search: str | None, tag: str | None) -> Select[Any]:
    query = select(Contact).where(Contact.user_id == user_id)
    if search:
        pattern = _like_fragment(search)
        query = query.where(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (
                        Contact.firstname,
                        Contact.lastname,
                        Contact.email,
                        Contact.number,
                    )
                )
            )
        )
    if tag:
        query = query.where(
            exists().where(ContactTag.contact_id == Contact.id, ContactTag.tag == tag)
        )
    return query.order_by(Contact.id.desc())


async def add_unless_taken(
    session: AsyncSession, contact: Contact, tags: Sequence[str]
) -> Contact | None:
    """The stored contact with its tags, or None when the user has a contact of this number."""
    stored = await insert_unless_taken(session, contact, ("user_id", "number"))
    if stored is None:
        return None
    session.add_all(ContactTag(contact_id=stored.id, tag=tag) for tag in tags)
    await session.flush()
    await session.refresh(stored, ["tags"])
    return stored


async def renumber_unless_taken(
    session: AsyncSession, contact: Contact, number: str, country_code: str
) -> bool:
    """Give the contact this number; False (the contact unchanged) when the user has another
    contact of it, even one a concurrent request just gave it."""
    values = {"number": number, "country_code": country_code}
    return await update_unless_taken(session, contact, values)


async def delete(session: AsyncSession, contact: Contact) -> None:
    await session.delete(contact)
    await session.flush()
