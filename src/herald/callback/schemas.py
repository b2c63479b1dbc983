from __future__ import annotations

from typing import Literal

from pydantic import Field

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
