"""SQL of the rate card (``models/rate.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.models import Rate


async def every_rate(session: AsyncSession) -> Sequence[Rate]:
    query = select(Rate).order_by(Rate.pricing_category, Rate.country_calling_code)
    return (await session.execute(query)).scalars().all()


async def currencies(session: AsyncSession) -> set[str]:
    return set((await session.execute(select(Rate.currency).distinct())).scalars())


async def find(session: AsyncSession, category: str, calling_code: str) -> Rate | None:
    query = select(Rate).where(
        Rate.pricing_category == category, Rate.country_calling_code == calling_code
    )
    return (await session.execute(query)).scalars().first()


async def put(
    session: AsyncSession,
    currency: str,
    category: str,
    calling_code: str,
    price: Decimal,
    now: datetime,
) -> Rate:
    rate = await find(session, category, calling_code)
    if rate is None:
        rate = Rate(
            currency=currency,
            pricing_category=category,
            country_calling_code=calling_code,
            price=price,
            updated_at=now,
        )
        session.add(rate)
    else:
        rate.currency, rate.price, rate.updated_at = currency, price, now
    await session.flush()
    return rate


async def remove(session: AsyncSession, category: str, calling_code: str) -> bool:
    result = await session.execute(
        delete(Rate).where(
            Rate.pricing_category == category, Rate.country_calling_code == calling_code
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
