"""``/api/v2/whatsapp/conversations``: customers who wrote, one conversation's messages in
and out, and marking one read (docs/api.md, "Conversations")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from herald.conversation import service
from herald.conversation.schemas import (
    ConversationMessage,
    ConversationOut,
    CursorPage,
    ReadResult,
)
from herald.deps import CurrentUser, RuntimeDep, SessionDep
from herald.kit.jsend import Success
from herald.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from herald.provider.base import ProviderError, as_api_error

router = APIRouter(tags=["conversations"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[
    str | None,
    Query(max_length=200, description="`pagination.next_cursor` of the previous page"),
]
CustomerNumber = Annotated[
    str, Path(max_length=32, description="The customer's number: E.164 digits, no `+`")
]


def _page(
    items: list[dict[str, object]], limit: int, total: int, next_cursor: str | None
) -> dict[str, object]:
    return {
        "items": items,
        "pagination": {"limit": limit, "total": total, "next_cursor": next_cursor},
    }


@router.get("/api/v2/whatsapp/conversations")
async def list_conversations(
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    unread: Annotated[bool, Query(description="Only conversations with unread messages")] = False,
) -> Success[CursorPage[ConversationOut]]:
    listed = await service.list_conversations(
        session, user.id, limit, cursor, unread, runtime.clock.now()
    )
    data = CursorPage[ConversationOut].model_validate(
        _page(listed.items, limit, listed.total, listed.next_cursor)
    )
    return Success(message="Conversations", data=data)


@router.get("/api/v2/whatsapp/conversations/{phone_number}/messages")
async def conversation_messages(
    phone_number: CustomerNumber,
    user: CurrentUser,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Success[CursorPage[ConversationMessage]]:
    number = service.customer_number(phone_number)
    found = await service.conversation_messages(session, user.id, number, limit, cursor)
    data = CursorPage[ConversationMessage].model_validate(
        _page(found.items, limit, found.total, found.next_cursor)
    )
    return Success(message="Messages", data=data)


@router.post("/api/v2/whatsapp/conversations/{phone_number}/read")
async def read_conversation(
    phone_number: CustomerNumber, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Success[ReadResult]:
    number = service.customer_number(phone_number)
    try:
        outcome = await service.mark_read(
            session, user.id, number, runtime.provider, runtime.cipher, runtime.clock.now()
        )
    except ProviderError as exc:
        raise as_api_error(exc) from None  # nothing marked: a retry sends the receipt again
    await session.commit()
    return Success(
        message="Conversation read",
        data=ReadResult(
            phone_number=number,
            marked_read=outcome.marked_read,
            read_receipt_for=outcome.read_receipt_for,
        ),
    )
