from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    Tag,
    TypeAdapter,
    model_serializer,
    with_config,
)
from typing_extensions import TypedDict

from herald.kit.pagination import MAX_ID
from herald.kit.schemas import ApiDateTime, ApiObject, BodyMoment, RequestBody
from herald.models.lifecycle import MessageState as MessageState  # the API names the states

Param = Annotated[str, StringConstraints(max_length=1024)]
HeaderParam = Annotated[str, StringConstraints(max_length=60)]
ParamName = Annotated[str, StringConstraints(min_length=1, max_length=60)]
# The branches' tags: in an error's location, never field names (error_handlers leaves them out).
UNION_TAGS = ("[list]", "[object]")


def _form(value: Any) -> str:
    """Which branch validates a parameters value: only that one's errors are reported."""
    return UNION_TAGS[1] if isinstance(value, dict) else UNION_TAGS[0]


# A list for a POSITIONAL template ({{1}}..{{n}} in order), an object by name for a NAMED one.
BodyParams = Annotated[
    Annotated[list[Param], Field(max_length=100), Tag(UNION_TAGS[0])]
    | Annotated[dict[ParamName, Param], Field(max_length=100), Tag(UNION_TAGS[1])],
    Discriminator(_form),
]
# A TEXT header's one variable: ["A-1"], or {"order_id": "A-1"} for a NAMED template.
HeaderParams = Annotated[
    Annotated[list[HeaderParam], Field(max_length=1), Tag(UNION_TAGS[0])]
    | Annotated[dict[ParamName, HeaderParam], Field(max_length=1), Tag(UNION_TAGS[1])],
    Discriminator(_form),
]
HeaderMediaUrl = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=255)]
# The sender a send names (``channel/senders.py``): one of the caller's channels by id, or by
# its display number (digits; spaces, "+", "-", "." and brackets are ignored).
SenderId = Annotated[int, Field(ge=1, le=MAX_ID)]
SenderNumber = Annotated[str, StringConstraints(min_length=1, max_length=32)]
SENDER_FIELDS = ("channel_id", "from_")


class ButtonParam(RequestBody):
    index: int = Field(ge=0, le=9)
    sub_type: Literal["url", "copy_code", "quick_reply"]
    value: str = Field(min_length=1, max_length=2000)


class RecipientFields(RequestBody):
    """What one recipient of a template needs, in single and bulk sends alike."""

    body_params: BodyParams | None = None
    # A TEXT header's variable.
    header_params: HeaderParams | None = None
    buttons: list[ButtonParam] | None = Field(default=None, max_length=10)
    header_media_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    # A media header's file by its public https URL (the provider fetches it), instead of
    # header_media_id.
    header_media_url: HeaderMediaUrl | None = None

    def fingerprint_fields(self) -> dict[str, Any]:
        """What an idempotency key's fingerprint is computed from: the send as JSON."""
        return self.model_dump(mode="json")

    @model_serializer(mode="wrap")
    def _without_absent_url(self, dump: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Without ``header_media_url`` (or a sender) when it is not given: a fingerprint
        computed before the field existed still matches the same send."""
        dumped: dict[str, Any] = dump(self)
        for name in ("header_media_url", *SENDER_FIELDS):
            if dumped.get(name) is None:
                dumped.pop(name, None)
        return dumped


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
    send_at: BodyMoment | None = None
    channel_id: SenderId | None = None
    from_: SenderNumber | None = Field(default=None, alias="from")


class SendV1(RecipientFields):
    template_id: int = Field(ge=1, le=MAX_ID)
    contact_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    phone_number: str | None = Field(default=None, min_length=1, max_length=32)
    country_code: str | None = Field(default=None, min_length=2, max_length=2)
    otp_code: str | None = Field(default=None, min_length=1, max_length=15)
    idempotency_key: IdempotencyKey | None = None
    send_at: BodyMoment | None = None


class SendTemplateV1(RecipientFields):
    contact_id: int = Field(ge=1, le=MAX_ID)
    otp_code: str | None = Field(default=None, min_length=1, max_length=15)
    idempotency_key: IdempotencyKey | None = None
    send_at: BodyMoment | None = None


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
    send_at: BodyMoment | None = None
    skip_invalid: bool = False
    idempotency_key: IdempotencyKey | None = None
    channel_id: SenderId | None = None
    from_: SenderNumber | None = Field(default=None, alias="from")

    @model_serializer(mode="wrap")
    def _without_absent_sender(self, dump: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Without a sender when none is named: the idempotency fingerprint of a send made
        before senders existed still matches the same send."""
        dumped: dict[str, Any] = dump(self)
        for name in SENDER_FIELDS:
            if dumped.get(name) is None:
                dumped.pop(name, None)
        return dumped


# What the bulk route's fast path validates into (``message/bulk_body.py``): the same fields and
# constraints as ``SendBulk``, but each recipient a plain dict, not a model instance (building
# 10,000 of them was most of the body's validation). ``SendBulk`` stays the documented body and
# the reference: whatever the fast path does not accept is validated by it, as before.
_BULK_CONFIG = ConfigDict(extra="forbid", str_strip_whitespace=True)


@with_config(_BULK_CONFIG)
class BulkRecipientFields(TypedDict):
    """A ``BulkRecipient`` as a dict: the keys given, with ``BulkRecipient``'s constraints."""

    to: Annotated[str, Field(min_length=1, max_length=32)]
    country_code: Annotated[str, Field(min_length=2, max_length=2)]
    body_params: NotRequired[BodyParams | None]
    header_params: NotRequired[HeaderParams | None]
    buttons: NotRequired[Annotated[list[ButtonParam] | None, Field(max_length=10)]]
    header_media_id: NotRequired[Annotated[int | None, Field(ge=1, le=MAX_ID)]]
    header_media_url: NotRequired[HeaderMediaUrl | None]


RECIPIENT_DEFAULTS: dict[str, Any] = {
    "body_params": None,
    "header_params": None,
    "buttons": None,
    "header_media_id": None,
}


@with_config(_BULK_CONFIG)
@dataclass
class BulkSend:
    """A validated bulk send, as the endpoint receives it (from the fast path or ``SendBulk``).

    A dataclass rather than a model: FastAPI documents every model it finds in a body's type,
    and the body is documented as ``SendBulk``.
    """

    recipients: Annotated[list[BulkRecipientFields], Field(min_length=1, max_length=10_000)]
    send_at: BodyMoment | None = None
    skip_invalid: bool = False
    idempotency_key: IdempotencyKey | None = None
    channel_id: SenderId | None = None
    from_: Annotated[SenderNumber | None, Field(alias="from")] = None

    @classmethod
    def of(cls, checked: SendBulk) -> BulkSend:
        """The same send, validated by the reference model."""
        recipients: list[Any] = [
            {name: getattr(recipient, name) for name in recipient.model_fields_set}
            for recipient in checked.recipients
        ]
        return cls(
            recipients,
            checked.send_at,
            checked.skip_invalid,
            checked.idempotency_key,
            checked.channel_id,
            checked.from_,
        )

    def fingerprint_fields(self) -> dict[str, Any]:
        """``SendBulk.model_dump(mode="json")`` of the same send: what the idempotency key's
        fingerprint was always computed from, so a retry across an upgrade still matches (a
        sender only when one is named)."""
        dumped: dict[str, Any] = _BULK_SEND.dump_python(self, mode="json")
        dumped["recipients"] = [_fingerprinted(r) for r in dumped["recipients"]]
        for name in SENDER_FIELDS:
            if dumped.get(name) is None:
                dumped.pop(name, None)
        return dumped


def _fingerprinted(recipient: dict[str, Any]) -> dict[str, Any]:
    """A recipient as ``RecipientFields``' dump has it (defaults given, no absent URL)."""
    if recipient.get("header_media_url", 0) is None:
        recipient = {k: v for k, v in recipient.items() if k != "header_media_url"}
    return {**RECIPIENT_DEFAULTS, **recipient}


_BULK_SEND = TypeAdapter(BulkSend)


MessageType = Literal["template", "text", "image", "video", "audio", "document", "interactive"]


class MessageError(BaseModel):
    code: str
    title: str | None
    detail: str | None


class MessagePricing(BaseModel):
    """Meta's pricing of a message, as its latest status webhook carrying one gave it."""

    billable: bool | None = Field(description="Whether Meta charges for it.")
    category: str | None = Field(
        description="Meta's pricing category: marketing, utility, authentication, service ...",
        examples=["utility"],
    )
    model: str | None = Field(
        description="Meta's pricing model: PMP (per message) or CBP (per conversation).",
        examples=["PMP"],
    )


class MessageOut(ApiObject):
    id: int
    whatsapp_bulk_group_id: str
    # A free-form message (any type but "template") has no template_id and an empty
    # template_name.
    type: MessageType
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
    # Why Herald holds it past when it was asked for ("messaging_limit": the WABA reached its
    # messaging limit; ``scheduled_at`` is when the window frees), or null.
    held_reason: str | None = None
    # null until a status webhook carries Meta's pricing (sent, delivered or read).
    pricing: MessagePricing | None = None


class Accepted(BaseModel):
    message: MessageOut
    whatsapp_bulk_group_id: str
    # Past the WABA's messaging limit: the time the message waits until; null: not held.
    held: ApiDateTime | None = None


class Rejected(BaseModel):
    index: int
    code: str
    message: str


class BulkHeld(BaseModel):
    """The recipients held past the WABA's messaging limit: how many, and until when the last
    of them waits."""

    count: int
    until: ApiDateTime


class BulkAccepted(BaseModel):
    whatsapp_bulk_group_id: str
    queued: int
    rejected: list[Rejected]
    # null: none held (each held message shows its own time as ``scheduled_at``).
    held: BulkHeld | None = None


class StateCounts(BaseModel):
    whatsapp_bulk_group_id: str
    total: int
    counts: dict[str, int]
