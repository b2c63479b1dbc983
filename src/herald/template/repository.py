"""SQL for templates; every user-facing query is scoped to one user."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.db import insert_unless_taken
from herald.models import Template


async def get(session: AsyncSession, user_id: int, template_id: int) -> Template | None:
    result = await session.execute(
        select(Template).where(Template.id == template_id, Template.user_id == user_id)
    )
    return result.scalar_one_or_none()


async def get_by_name(
    session: AsyncSession, user_id: int, name: str, language: str
) -> Template | None:
    result = await session.execute(
        select(Template).where(
            Template.user_id == user_id, Template.name == name, Template.language == language
        )
    )
    return result.scalar_one_or_none()


def list_query(
    user_id: int, state: str | None, category: str | None, name: str | None
) -> Select[Any]:
    query = select(Template).where(Template.user_id == user_id)
    if state:
        query = query.where(Template.state == state)
    if category:
        query = query.where(Template.category == category)
    if name:
        query = query.where(Template.name == name)
    return query.order_by(Template.id.desc())


async def for_provider_event(
    session: AsyncSession,
    channel_ids: Sequence[int],
    provider_id: str | None,
    name: str | None,
    language: str | None,
) -> Sequence[Template]:
    """Templates a provider status event is about: by the provider's id, else name and language."""
    query = select(Template).where(Template.channel_id.in_(channel_ids))
    if provider_id:
        query = query.where(Template.provider_template_id == provider_id)
    elif name and language:
        query = query.where(Template.name == name, Template.language == language)
    else:
        return []
    return (await session.execute(query)).scalars().all()


async def of_user(session: AsyncSession, user_id: int) -> Sequence[Template]:
    """Every template of one user (a sync compares them all with the provider's listing)."""
    result = await session.execute(
        select(Template).where(Template.user_id == user_id).order_by(Template.id)
    )
    return result.scalars().all()


async def add_unless_taken(session: AsyncSession, template: Template) -> Template | None:
    """The stored template, or None when the user has one of this name and language."""
    return await insert_unless_taken(session, template, ("user_id", "name", "language"))


async def delete(session: AsyncSession, template: Template) -> None:
    await session.delete(template)
    await session.flush()
