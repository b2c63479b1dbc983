"""Pydantic building blocks shared by every feature's schemas."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import to_json

from herald.kit.clock import iso_utc

ApiDateTime = Annotated[datetime, PlainSerializer(iso_utc, return_type=str, when_used="json")]

# What a time given in a query string may look like: a date, or a date and time with or without
# seconds, fraction and offset (without one it is UTC). The parser alone would also take a
# number of seconds since 1970 (`?to=0.5`), which no caller means.
ISO_8601_MOMENT = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$"
_ISO_8601_MOMENT = re.compile(ISO_8601_MOMENT)


def _iso_8601_only(value: Any) -> Any:
    if not isinstance(value, str) or not _ISO_8601_MOMENT.match(value):
        raise ValueError("must be an ISO 8601 date or date-time, such as 2026-12-01T09:00:00Z")
    return value


def _not_a_number(value: Any) -> Any:
    if isinstance(value, int | float):  # bool included
        raise ValueError("must be an ISO 8601 date-time string, such as 2026-12-01T09:00:00Z")
    return value


# A time in a JSON body: a string, as documented (`format: date-time`); the parser alone would
# also take a number as seconds since 1970.
BodyMoment = Annotated[datetime, BeforeValidator(_not_a_number)]

QueryMoment = Annotated[
    datetime,
    BeforeValidator(_iso_8601_only),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": ISO_8601_MOMENT,
            "description": "ISO 8601 date or date-time; without an offset, UTC.",
            "examples": ["2026-12-01T09:00:00Z"],
        }
    ),
]


class RequestBody(BaseModel):
    """A JSON body: unknown fields are refused so that a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        """PostgreSQL text cannot hold NUL; no field of Herald's needs one."""
        where = _nul_path(data, "") if _may_hold_nul(data) else None
        if where is not None:
            raise ValueError(f"{where or 'the body'} must not contain a NUL character")
        return data


def _may_hold_nul(data: Any) -> bool:
    """False only when no string in ``data`` holds a NUL, at C speed: JSON writes a NUL as
    ``\\u0000`` and every string the walk below would look at is in the JSON. A match (even a
    literal backslash-u0000) or data that cannot be written sends the caller to the walk,
    which decides. The walk alone cost a 10,000-recipient bulk send ~70 ms (its body, then
    each recipient again)."""
    try:
        return b"\\u0000" in to_json(data, serialize_unknown=True)
    except (ValueError, TypeError, RecursionError):
        return True


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
