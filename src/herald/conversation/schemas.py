"""Conversations as the API shows them (``GET /api/v2/whatsapp/conversations`` and its
messages), and what marking one read did."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from herald.kit.schemas import ApiDateTime, ApiObject
from herald.models.lifecycle import MessageState

T = TypeVar("T")
Direction = Literal["in", "out"]


class CursorPagination(BaseModel):
    """``next_cursor`` is the ``cursor`` of the next page; null on the last page."""

    limit: int
    total: int
    next_cursor: str | None


class CursorPage(BaseModel, Generic[T]):
    items: list[T]
    pagination: CursorPagination


class ConversationContact(ApiObject):
    id: int
    name: str | None


class LastMessage(ApiObject):
    """The conversation's latest message, whichever way it went."""

    direction: Direction
    id: int
    type: str = Field(description="`template`, or the free-form or inbound kind (`text`, ...)")
    text: str | None = Field(description="A preview: the text, a caption, a template's name")
    at: ApiDateTime


class ConversationOut(ApiObject):
    phone_number: str
    contact: ConversationContact | None
    unread_count: int
    last_inbound_at: ApiDateTime
    window_open: bool = Field(description="Whether free-form messages may be sent now")
    window_expires_at: ApiDateTime = Field(description="24 hours after the customer's last message")
    last_message: LastMessage | None


class MessageMedia(ApiObject):
    """A message's file: ``url`` is Herald's copy (null while it is fetched, or if that failed)."""

    id: int | None
    url: str | None
    status: Literal["stored", "pending", "failed"]


class ConversationMessage(ApiObject):
    """One message of a conversation: ``direction`` in (the customer's) or out (the user's)."""

    direction: Direction
    id: int
    type: str
    text: str | None
    payload: str | None = Field(description="A quick-reply tap's payload, a list or button id")
    details: dict[str, object] | None = Field(
        description="An inbound kind's own fields (location, contacts, reaction, ...)"
    )
    media: MessageMedia | None
    reply_to: int | None = Field(
        description="In: the outbound message it answers. Out: the inbound message it answers"
    )
    template_name: str | None
    status: MessageState | None = Field(description="Out only: the message's state")
    error_code: str | None
    at: ApiDateTime
    sent_at: ApiDateTime | None
    delivered_at: ApiDateTime | None
    read_at: ApiDateTime | None = Field(description="In: when the user read it; out: the customer")
    failed_at: ApiDateTime | None


class ReadResult(ApiObject):
    phone_number: str
    marked_read: int = Field(description="How many of the customer's messages were unread")
    read_receipt_for: int | None = Field(
        description="The inbound message Meta was sent a read receipt for (null: none needed)"
    )
