from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, computed_field

from herald.kit.schemas import ApiDateTime, ApiObject, RequestBody

EventType = Literal["message.status", "template.updated", "message.received", "channel.updated"]
DAY_SECONDS = 86_400
MAX_OVERLAP_SECONDS = 7 * DAY_SECONDS


def _every_event() -> list[EventType]:
    return ["message.status", "template.updated", "message.received", "channel.updated"]


def _secret_field() -> Any:
    return Field(
        default=None,
        min_length=16,
        max_length=200,
        description=(
            "Signs every delivery; generated (whsec_ and base64, shown once) when not given."
        ),
    )


class CallbackCreate(RequestBody):
    url: str = Field(min_length=1, max_length=2000, examples=["https://shop.example.com/herald"])
    events: list[EventType] = Field(default_factory=_every_event, min_length=1)
    secret: str | None = _secret_field()


class CallbackSecretRotate(RequestBody):
    secret: str | None = _secret_field()
    previous_secret_valid_for_seconds: int = Field(
        default=DAY_SECONDS,
        ge=0,
        le=MAX_OVERLAP_SECONDS,
        description="How long deliveries stay signed with the replaced secret too (0: not at all).",
    )


class CallbackOut(ApiObject):
    id: int
    url: str
    events: list[str]
    created_at: ApiDateTime
    previous_secret_expires_at: ApiDateTime | None = Field(
        description="Until then deliveries also carry a signature made with the replaced secret."
    )


class CallbackCreated(CallbackOut):
    secret: str = Field(description="Shown once; verify webhook-signature with it.")


DeliveryOutcome = Literal["pending", "delivered", "dead"]


class CallbackDeliveryOut(ApiObject):
    """One event queued for an endpoint: waiting (``pending``), taken by the receiver
    (``delivered``) or set aside after Herald gave up (``dead``), with the last attempt's
    answer or error."""

    id: int
    message_id: int | None = Field(description="A message.status event's message.")
    template_id: int | None = Field(
        default=None, description="A template.updated event's template."
    )
    inbound_message_id: int | None = Field(
        default=None, description="A message.received event's inbound message."
    )
    channel_id: int | None = Field(
        default=None, description="A channel.updated event's channel (sender)."
    )
    state: str = Field(
        description="The state the event announces: the message's, the template's after "
        "the change, received (a customer's message), or a channel's sending status."
    )
    attempts: int
    last_status: int | None = Field(description="The receiver's last HTTP status, if any.")
    last_error: str | None
    created_at: ApiDateTime
    next_attempt_at: ApiDateTime | None = Field(description="When a pending one is tried next.")
    done_at: ApiDateTime | None
    delivered: bool | None = Field(exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def type(self) -> EventType:
        if self.template_id is not None:
            return "template.updated"
        if self.inbound_message_id is not None:
            return "message.received"
        if self.channel_id is not None:
            return "channel.updated"
        return "message.status"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def outcome(self) -> DeliveryOutcome:
        if self.delivered is None:
            return "pending"
        return "delivered" if self.delivered else "dead"

    def model_post_init(self, context: object) -> None:
        if self.done_at is not None:
            self.next_attempt_at = None
