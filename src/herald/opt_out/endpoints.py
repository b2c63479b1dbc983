"""``/api/v2/opt-outs``: numbers a user's messages never go to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import Field

from herald.deps import CurrentUser, RuntimeDep, SessionDep
from herald.errors import Conflict, NotFound
from herald.kit.jsend import Success
from herald.kit.pagination import Page, PageParamsDep, fetch_page, make_page
from herald.kit.phone import digits_only, normalise
from herald.kit.schemas import ApiDateTime, ApiObject, RequestBody
from herald.opt_out import repository

router = APIRouter(tags=["opt-outs"])


class OptOutCreate(RequestBody):
    number: str = Field(min_length=1, max_length=32)
    country_code: str = Field(min_length=2, max_length=2)


class OptOutOut(ApiObject):
    number: str = Field(validation_alias="phone_number")
    country_code: str | None
    source: str
    created_at: ApiDateTime


class OptOutNotFound(NotFound):
    code = "opt_out_not_found"
    message = "This number is not on the opt-out list."


class AlreadyOptedOut(Conflict):
    code = "opt_out_exists"
    message = "This number is already on the opt-out list."


@router.get("/api/v2/opt-outs")
async def list_opt_outs(
    user: CurrentUser, session: SessionDep, params: PageParamsDep
) -> Success[Page[OptOutOut]]:
    rows, total = await fetch_page(session, repository.list_query(user.id), params)
    items = [OptOutOut.model_validate(row) for row in rows]
    return Success(message="Opt-outs", data=make_page(items, total, params))


@router.post("/api/v2/opt-outs", status_code=201)
async def add_opt_out(
    body: OptOutCreate, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Success[OptOutOut]:
    phone = normalise(body.number, body.country_code)
    now = runtime.clock.now()
    if not await repository.add(session, user.id, phone.digits, phone.country_code, "api", now):
        raise AlreadyOptedOut(data={"number": phone.digits})
    await session.commit()
    row = await repository.get(session, user.id, phone.digits)
    return Success(message="Number opted out", data=OptOutOut.model_validate(row))


@router.delete("/api/v2/opt-outs/{number}")
async def remove_opt_out(
    number: Annotated[str, Path(max_length=32)], user: CurrentUser, session: SessionDep
) -> Success[dict[str, str]]:
    digits = digits_only(number)
    if not await repository.remove(session, user.id, digits):
        raise OptOutNotFound()
    await session.commit()
    return Success(message="Number removed from the opt-out list", data={"number": digits})
