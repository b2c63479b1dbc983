"""The JSend envelope: the shape of every answer Herald gives."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from herald.responses import JSendResponse as JSendResponse  # rendered there
from herald.responses import error_response as error_response

T = TypeVar("T")


class Success(BaseModel, Generic[T]):
    status: Literal["success"] = "success"
    message: str
    data: T


class ErrorBody(BaseModel):
    """Every error answer's shape (``error_response`` writes it; the OpenAPI document shows it)."""

    status: Literal["error"]
    message: str = Field(description="For people; may change between versions.")
    code: str = Field(description="Stable snake_case identifier: decide on this.")
    data: dict[str, Any] | list[Any] = Field(description="Details of the error, or [].")
