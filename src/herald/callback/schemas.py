from __future__ import annotations

from typing import Literal

from pydantic import Field, computed_field

from herald.kit.schemas import ApiDateTime, ApiObject, RequestBody

EventType = Literal["message.status"]


def _every_event() -> list[EventType]:
    return ["message.status"]


class CallbackCreate(RequestBody):
    url: str = Field(min_length=1, max_length=2000, examples=["https://shop.example.com/herald"])
    events: list[EventType] = Field(default_factory=_every_event, min_length=1)
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="Signs every delivery; generated (and shown once) when not given.",
    )


class CallbackOut(ApiObject):
    id: int
    url: str
    events: list[str]
    created_at: ApiDateTime


class CallbackCreated(CallbackOut):
    secret: str = Field(description="Shown once; verify X-Herald-Signature with it.")


DeliveryOutcome = Literal["pending", "delivered", "dead"]


class CallbackDeliveryOut(ApiObject):
    """One event queued for an endpoint: waiting (``pending``), taken by the receiver
    (``delivered``) or set aside after Herald gave up (``dead``), with the last attempt's
    answer or error."""

    id: int
    message_id: int
    state: str = Field(description="The message state the event announces.")
    attempts: int
    last_status: int | None = Field(description="The receiver's last HTTP status, if any.")
    last_error: str | None
    created_at: ApiDateTime
    next_attempt_at: ApiDateTime | None = Field(description="When a pending one is tried next.")
    done_at: ApiDateTime | None
    delivered: bool | None = Field(exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def outcome(self) -> DeliveryOutcome:
        if self.delivered is None:
            return "pending"
        return "delivered" if self.delivered else "dead"

    def model_post_init(self, context: object) -> None:
        if self.done_at is not None:
            self.next_attempt_at = None
