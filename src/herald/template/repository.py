"""SQL for templates; every user-facing query is scoped to one user."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.db import insert_unless_taken
from herald.models import Channel, Template


async def get(session: AsyncSession, user_id: int, template_id: int) -> Template | None:
    result = await session.execute(
        select(Template).where(Template.id == template_id, Template.user_id == user_id)
    )
    return result.scalar_one_or_none()


async def get_by_name(
    session: AsyncSession, user_id: int, waba_id: str | None, name: str, language: str
) -> Template | None:
    """The user's template of this name and language in that WABA (None: a draft made before
    the user had a channel)."""
    in_waba = Template.waba_id.is_(None) if waba_id is None else Template.waba_id == waba_id
    result = await session.execute(
        select(Template)
        .where(
            Template.user_id == user_id,
            in_waba,
            Template.name == name,
            Template.language == language,
        )
        .limit(1)
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
    channels: Sequence[Channel],
    provider_id: str | None,
    name: str | None,
    language: str | None,
) -> Sequence[Template]:
    """Templates a provider status event is about, in the WABA of ``channels`` (the WABA's
    channels, of any user): by the provider's id, else name and language. A template with no
    WABA recorded is in its channel's."""
    users = {c.user_id for c in channels}
    wabas = {c.waba_id for c in channels}
    in_waba = or_(
        Template.waba_id.in_(wabas),
        and_(Template.waba_id.is_(None), Template.channel_id.in_([c.id for c in channels])),
    )
    query = select(Template).where(Template.user_id.in_(users), in_waba)
    if provider_id:
        query = query.where(Template.provider_template_id == provider_id)
    elif name and language:
        query = query.where(Template.name == name, Template.language == language)
    else:
        return []
    return (await session.execute(query)).scalars().all()


async def of_waba(session: AsyncSession, user_id: int, waba_id: str) -> Sequence[Template]:
    """The user's templates of one WABA, and those of none (a sync compares them with the
    WABA's listing)."""
    result = await session.execute(
        select(Template)
        .where(
            Template.user_id == user_id,
            or_(Template.waba_id == waba_id, Template.waba_id.is_(None)),
        )
        .order_by(Template.id)
    )
    return result.scalars().all()


async def add_unless_taken(session: AsyncSession, template: Template) -> Template | None:
    """The stored template, or None when the user has one of this name and language in its
    WABA."""
    # Without a WABA the key is the partial unique index on (user_id, name, language): named by
    # no columns, which ON CONFLICT takes as any unique key of the table.
    key = ("user_id", "waba_id", "name", "language") if template.waba_id is not None else None
    return await insert_unless_taken(session, template, key)


async def delete(session: AsyncSession, template: Template) -> None:
    await session.delete(template)
    await session.flush()
