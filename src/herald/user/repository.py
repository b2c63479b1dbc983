"""SQL for users."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.db import insert_unless_taken
from herald.models import User


async def get(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(User.email == email.strip().lower()))
    return result.scalar_one_or_none()


async def list_all(session: AsyncSession) -> Sequence[User]:
    result = await session.execute(select(User).order_by(User.id))
    return result.scalars().all()


async def add_unless_taken(session: AsyncSession, user: User) -> User | None:
    """The stored user, or None when the email is taken."""
    return await insert_unless_taken(session, user, ("email",))
