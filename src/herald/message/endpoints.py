"""Sending (v2, v1, bulk), history, cancelling and bulk-group counts (spec/api.md §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.convertors import register_url_convertor
from starlette.responses import Response, StreamingResponse

from herald.contact import service as contacts
from herald.deps import CurrentUser, ReadSessionDep, RuntimeDep, SessionDep, verified_user
from herald.errors import ValidationFailed
from herald.kit.jsend import JSendResponse, Success
from herald.kit.large_body import large_body_route
from herald.kit.metrics import MESSAGES
from herald.kit.pagination import MAX_ID, KeysetPage, PageParamsDep, keyset_page_json
from herald.kit.phone import digits_only
from herald.kit.routes import segment_except
from herald.kit.schemas import QueryMoment
from herald.message import accept, bulk, bulk_body, export, free_form, service, single
from herald.message.bulk_body import BulkBody
from herald.message.caller import Reader, ReaderDep, SenderDep, confirm_reader
from herald.message.free_form_schemas import SendFreeForm
from herald.message.output import message_json, message_out
from herald.message.schemas import (
    Accepted,
    BulkAccepted,
    MessageOut,
    MessageState,
    SendTemplateV1,
    SendV1,
    SendV2,
    StateCounts,
)
from herald.runtime import Runtime
from herald.template import service as templates

router = APIRouter(tags=["messages"])

# `/api/whatsapp/templates/` is the template list, not message "templates": DELETE there is 405.
register_url_convertor("message_id", segment_except("templates"))

ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
KeyHeader = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


@router.post(
    "/api/v2/whatsapp/templates/{template_id}/send",
    status_code=202,
    response_model=Success[Accepted],
)
async def send_v2(
    template_id: ObjectId,
    body: SendV2,
    request: Request,
    caller: SenderDep,
    session: SessionDep,
    runtime: RuntimeDep,
    idempotency_key: KeyHeader = None,
) -> Response:
    draft = single.draft_v2(runtime, session, caller.user_id, template_id, body)
    return await accept.accept_single(
        request, body, idempotency_key, caller, session, runtime, draft
    )


@router.post("/api/whatsapp/", status_code=202, response_model=Success[Accepted])
async def send_v1(
    body: SendV1,
    request: Request,
    caller: SenderDep,
    session: SessionDep,
    runtime: RuntimeDep,
    idempotency_key: KeyHeader = None,
) -> Response:
    by_contact = body.contact_id is not None
    by_number = body.phone_number is not None or body.country_code is not None
    if by_contact == by_number or (by_number and not (body.phone_number and body.country_code)):
        raise ValidationFailed.single(
            "contact_id", "give exactly one of contact_id, or phone_number with country_code"
        )

    async def draft(now: datetime, fresh: bool) -> service.Draft:
        template = await single.template_for(
            runtime, session, caller.user_id, body.template_id, fresh
        )
        if body.contact_id is not None:
            contact = await contacts.get(session, caller.user_id, body.contact_id)
            to, country, contact_id = contact.number, contact.country_code, contact.id
        else:
            to, country, contact_id = str(body.phone_number), str(body.country_code), None
        return service.draft_one(
            caller.user_id,
            template,
            body,
            body.otp_code,
            to,
            country,
            body.send_at,
            single.policy(runtime),
            now,
            contact_id,
            await single.channels_for(runtime, session, caller.user_id, fresh),
        )

    return await accept.accept_single(
        request, body, idempotency_key, caller, session, runtime, draft
    )


@router.post(
    "/api/whatsapp/templates/{template_id}/send/", status_code=202, response_model=Success[Accepted]
)
async def send_template_v1(
    template_id: ObjectId,
    body: SendTemplateV1,
    request: Request,
    caller: SenderDep,
    session: SessionDep,
    runtime: RuntimeDep,
    idempotency_key: KeyHeader = None,
) -> Response:
    async def draft(now: datetime, fresh: bool) -> service.Draft:
        template = await single.template_for(runtime, session, caller.user_id, template_id, fresh)
        contact = await contacts.get(session, caller.user_id, body.contact_id)
        return service.draft_one(
            caller.user_id,
            template,
            body,
            body.otp_code,
            contact.number,
            contact.country_code,
            body.send_at,
            single.policy(runtime),
            now,
            contact.id,
            await single.channels_for(runtime, session, caller.user_id, fresh),
        )

    return await accept.accept_single(
        request, body, idempotency_key, caller, session, runtime, draft
    )


async def send_bulk(
    template_id: ObjectId,
    body: BulkBody,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    idempotency_key: KeyHeader = None,
) -> JSendResponse:
    async def work(now: datetime) -> dict[str, Any]:
        template = await templates.get(session, user.id, template_id)
        done = await bulk.send_bulk(session, user.id, template, body, single.policy(runtime), now)
        data = BulkAccepted(
            whatsapp_bulk_group_id=done.group_id,
            queued=done.queued,
            rejected=done.rejected,
            held=done.held,
        )
        message = f"{done.queued} message(s) queued"
        return Success(message=message, data=data).model_dump(mode="json")

    return await accept.accept_keyed(request, body, idempotency_key, user, session, runtime, work)


# Its body is decoded and validated by ``bulk_body`` (no model per recipient), with the
# collector paused from the first byte read: the route's class says so, hence no decorator.
router.add_api_route(
    "/api/v2/whatsapp/templates/{template_id}/send-bulk",
    send_bulk,
    methods=["POST"],
    status_code=202,
    response_model=Success[BulkAccepted],
    route_class_override=large_body_route(bulk_body.decode),
)


@router.post("/api/v2/whatsapp/messages", status_code=202, response_model=Success[Accepted])
async def send_free_form(
    body: SendFreeForm,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    idempotency_key: KeyHeader = None,
) -> JSendResponse:
    """A text, a file or an interactive message inside the customer's 24-hour window."""

    async def work(now: datetime) -> dict[str, Any]:
        message = await free_form.send(session, user.id, body, single.policy(runtime), now)
        return single.accepted_body(message)

    return await accept.accept_keyed(request, body, idempotency_key, user, session, runtime, work)


CSV_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "With `format=csv`: every matching message, one CSV row each",
    }
}


@router.get("/api/whatsapp/", response_model=Success[KeysetPage[MessageOut]], responses=CSV_ANSWER)
async def history(
    request: Request,
    runtime: RuntimeDep,
    session: ReadSessionDep,  # before the caller: authentication reads through it too
    caller: ReaderDep,
    params: PageParamsDep,
    before_id: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_ID,
            description="Herald's addition: the `limit` newest messages with a smaller id "
            "(follow `pagination.next_before_id`); not with a `page` other than 1.",
        ),
    ] = None,
    whatsapp_bulk_group_id: Annotated[str | None, Query(max_length=36)] = None,
    state: MessageState | None = None,
    template_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    contact_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    phone_number: Annotated[str | None, Query(max_length=32)] = None,
    created_from: Annotated[QueryMoment | None, Query(alias="from")] = None,
    created_to: Annotated[QueryMoment | None, Query(alias="to")] = None,
    output: Annotated[
        Literal["json", "csv"],
        Query(
            alias="format",
            description="Herald's addition: `csv` answers every matching message (not a page) "
            "as a CSV file, streamed; `page` and `limit` are then ignored.",
        ),
    ] = "json",
) -> Response:
    filters = {
        "whatsapp_bulk_group_id": whatsapp_bulk_group_id,
        "state": state,
        "template_id": template_id,
        "contact_id": contact_id,
        "phone_number": digits_only(phone_number) if phone_number else None,
        "from": service.history_bound(created_from, "from"),
        "to": service.history_bound(created_to, "to"),
    }
    if before_id is not None and params.page != 1:
        # An offset from a cursor is ambiguous: which of the two would the client mean?
        field = "page" if request.query_params.get("page") else "currentPage"
        raise ValidationFailed.single(field, "must be 1 (or absent) with before_id")
    if output == "csv":
        return await _export(request, runtime, session, caller, filters, before_id)
    remembered = caller.token_credentials is not None
    rows, total, found = await service.history(
        session, caller.user_id, params, filters, before_id, with_caller=remembered
    )
    if found is not None:
        await confirm_reader(request, runtime, session, found, caller)
    # Rendered once, straight to JSON: the response model documents the shape, and
    # ``message_json`` is held to it by the tests, instead of validating every page again.
    items = [message_json(row) for row in rows]
    page = keyset_page_json(items, total, params, by_id=before_id is not None)
    return JSendResponse({"status": "success", "message": "Messages", "data": page})


async def _export(
    request: Request,
    runtime: Runtime,
    session: AsyncSession,
    caller: Reader,
    filters: dict[str, Any],
    before_id: int | None,
) -> StreamingResponse:
    """The history as a CSV download (message/export.py). A caller this process remembered is
    read first, as the page's own statement would have confirmed them."""
    if caller.token_credentials is not None:
        await verified_user(request, runtime, session)
    name = export.filename(runtime.clock.now())
    return StreamingResponse(
        export.csv_chunks(runtime.sessions, caller.user_id, filters, before_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/api/whatsapp/{message_id:message_id}/")
async def get_message(
    message_id: ObjectId, user: CurrentUser, session: SessionDep
) -> Success[MessageOut]:
    return Success(
        message="Message", data=message_out(await service.get(session, user.id, message_id))
    )


@router.delete("/api/whatsapp/{message_id:message_id}/")
async def cancel_message(
    message_id: ObjectId, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Success[MessageOut]:
    message = await service.cancel(session, user.id, message_id, runtime.clock.now())
    await session.commit()
    MESSAGES.labels("cancelled").inc()
    return Success(message="Message cancelled", data=message_out(message))


@router.get("/api/v2/whatsapp/bulk-groups/{group_id}")
async def bulk_group(
    group_id: Annotated[str, Path(max_length=36)], user: CurrentUser, session: SessionDep
) -> Success[StateCounts]:
    counts = await service.group_counts(session, user.id, group_id)
    data = StateCounts(whatsapp_bulk_group_id=group_id, total=sum(counts.values()), counts=counts)
    return Success(message="Bulk group", data=data)
