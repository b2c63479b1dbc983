"""Pydantic building blocks shared by every feature's schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer

from herald.kit.clock import iso_utc

ApiDateTime = Annotated[datetime, PlainSerializer(iso_utc, return_type=str, when_used="json")]


class RequestBody(BaseModel):
    """A JSON body: unknown fields are refused so that a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ApiObject(BaseModel):
    """An object Herald answers with, read from ORM attributes."""

    model_config = ConfigDict(from_attributes=True)
