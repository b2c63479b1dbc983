"""Pydantic building blocks shared by every feature's schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer, model_validator

from herald.kit.clock import iso_utc

ApiDateTime = Annotated[datetime, PlainSerializer(iso_utc, return_type=str, when_used="json")]


class RequestBody(BaseModel):
    """A JSON body: unknown fields are refused so that a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        """PostgreSQL text cannot hold NUL; no field of Herald's needs one."""
        where = _nul_path(data, "")
        if where is not None:
            raise ValueError(f"{where or 'the body'} must not contain a NUL character")
        return data


def _nul_path(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return f"{path}.{key!r}".lstrip(".")
        found = _nul_path(item, f"{path}.{key}".lstrip("."))
        if found is not None:
            return found
    return None


class ApiObject(BaseModel):
    """An object Herald answers with, read from ORM attributes."""

    model_config = ConfigDict(from_attributes=True)
