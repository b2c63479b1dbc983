from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from herald.kit.pagination import MAX_ID
from herald.kit.schemas import ApiDateTime, ApiObject, RequestBody

Param = Annotated[str, StringConstraints(max_length=1024)]
IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=255)]
MessageState = Literal["queued", "sending", "sent", "delivered", "read", "failed", "cancelled"]


class ButtonParam(RequestBody):
    index: int = Field(ge=0, le=9)
    sub_type: Literal["url", "copy_code", "quick_reply"]
    value: str = Field(min_length=1, max_length=2000)


class RecipientFields(RequestBody):
    """What one recipient of a template needs, in single and bulk sends alike."""

    body_params: list[Param] | None = Field(default=None, max_length=100)
    buttons: list[ButtonParam] | None = Field(default=None, max_length=10)
    header_media_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class SendV2(RecipientFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "to": "21696816277",
                    "country_code": "TN",
                    "body_params": ["Sam", "ORD-2026-00041"],
                },
                {
                    "to": "21696816277",
                    "country_code": "TN",
                    "body_params": ["Sam", "INV-2026-04"],
                    "header_media_id": 12,
                    "buttons": [{"index": 0, "sub_type": "url", "value": "INV-2026-04"}],
                    "idempotency_key": "order-41-confirmation",
                },
            ]
        }
    )

    to: str = Field(min_length=1, max_length=32)
    country_code: str = Field(min_length=2, max_length=2)
    otp_code: str | None = Field(default=None, min_length=1, max_length=15)
    idempotency_key: IdempotencyKey | None = None
    send_at: datetime | None = None


class SendV1(RecipientFields):
    template_id: int = Field(ge=1, le=MAX_ID)
    contact_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    phone_number: str | None = Field(default=None, min_length=1, max_length=32)
    country_code: str | None = Field(default=None, min_length=2, max_length=2)
    otp_code: str | None = Field(default=None, min_length=1, max_length=15)
    idempotency_key: IdempotencyKey | None = None
    send_at: datetime | None = None


class SendTemplateV1(RecipientFields):
    contact_id: int = Field(ge=1, le=MAX_ID)
    otp_code: str | None = Field(default=None, min_length=1, max_length=15)
    idempotency_key: IdempotencyKey | None = None
    send_at: datetime | None = None


class BulkRecipient(RecipientFields):
    to: str = Field(min_length=1, max_length=32)
    country_code: str = Field(min_length=2, max_length=2)


class SendBulk(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "recipients": [
                        {"to": "21696816277", "country_code": "TN", "body_params": ["Sam", "A1"]},
                        {"to": "4915112345678", "country_code": "DE", "body_params": ["Lea", "A2"]},
                    ],
                    "send_at": "2026-12-01T09:00:00Z",
                    "skip_invalid": True,
                }
            ]
        }
    )

    recipients: list[BulkRecipient] = Field(min_length=1, max_length=10_000)
    send_at: datetime | None = None
    skip_invalid: bool = False
    idempotency_key: IdempotencyKey | None = None


class MessageError(BaseModel):
    code: str
    title: str | None
    detail: str | None


class MessageOut(ApiObject):
    id: int
    whatsapp_bulk_group_id: str
    template_id: int | None
    template_name: str
    contact_id: int | None
    phone_number: str
    country_code: str
    state: MessageState
    error: MessageError | None
    provider_message_id: str | None
    created_at: ApiDateTime
    scheduled_at: ApiDateTime | None
    sent_date: ApiDateTime | None
    delivered_at: ApiDateTime | None
    read_at: ApiDateTime | None
    failed_at: ApiDateTime | None


class Accepted(BaseModel):
    message: MessageOut
    whatsapp_bulk_group_id: str


class Rejected(BaseModel):
    index: int
    code: str
    message: str


class BulkAccepted(BaseModel):
    whatsapp_bulk_group_id: str
    queued: int
    rejected: list[Rejected]


class StateCounts(BaseModel):
    whatsapp_bulk_group_id: str
    total: int
    counts: dict[str, int]
