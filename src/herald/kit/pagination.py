"""Page/limit paging for every list: ``page`` (alias ``currentPage``), ``limit`` 1..100."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class PageParams:
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


async def page_params(
    page: int | None = Query(default=None, ge=1, le=10_000_000),
    current_page: int | None = Query(default=None, alias="currentPage", ge=1, le=10_000_000),
    limit: int = Query(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> PageParams:
    return PageParams(page=page or current_page or 1, limit=limit)


PageParamsDep = Annotated[PageParams, Depends(page_params)]


class Pagination(BaseModel):
    page: int
    limit: int
    total: int
    pages: int


class Page(BaseModel, Generic[T]):
    items: list[T]
    pagination: Pagination


class KeysetPagination(BaseModel):
    """The history's pagination (Herald's addition, in the OpenAPI document as written): `page`
    is null on a page asked for by `before_id` (its number is not known without counting);
    `next_before_id` is the `before_id` of the next page, null on a page that is not full."""

    page: int | None
    limit: int
    total: int
    pages: int
    next_before_id: int | None


class KeysetPage(BaseModel, Generic[T]):
    items: list[T]
    pagination: KeysetPagination


async def fetch_page(
    session: AsyncSession, statement: Select[Any], params: PageParams
) -> tuple[Sequence[Any], int]:
    """The rows of one page of ``statement`` (already ordered) and the total count."""
    total_query = select(func.count()).select_from(statement.order_by(None).subquery())
    total = (await session.execute(total_query)).scalar_one()
    rows = await session.execute(statement.limit(params.limit).offset(params.offset))
    return rows.scalars().all(), total


def _pages(total: int, params: PageParams) -> int:
    return math.ceil(total / params.limit) if total else 0


def make_page(items: list[T], total: int, params: PageParams) -> Page[T]:
    return Page(
        items=items,
        pagination=Pagination(
            page=params.page, limit=params.limit, total=total, pages=_pages(total, params)
        ),
    )


def keyset_page_json(
    items: list[dict[str, Any]], total: int, params: PageParams, by_id: bool
) -> dict[str, Any]:
    """A ``KeysetPage`` for items already in their JSON form (each with its ``id``), as the
    model renders it; ``by_id``: the page was asked for by ``before_id``, not by number."""
    pagination = {
        "page": None if by_id else params.page,
        "limit": params.limit,
        "total": total,
        "pages": _pages(total, params),
        # A full page may have more after it; a short one is the end of the list.
        "next_before_id": items[-1]["id"] if len(items) == params.limit else None,
    }
    return {"items": items, "pagination": pagination}
