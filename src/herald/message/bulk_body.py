"""The bulk send's body: decoded by orjson and validated into plain dicts when it is an ordinary
body, else exactly as before (``json.loads``, then the ``SendBulk`` model).

The fast path only ever answers "valid", with the value ``SendBulk`` would have given: anything
it does not accept, or might read differently from ``json.loads``, goes the reference way, which
makes every refusal (its code, fields and messages) and every unusual body (a byte order mark,
UTF-16, NaN, lone surrogates, integers beyond 64 bits, NUL characters) what it was.
``tests/message/test_bulk_body.py`` holds the two to the same answers.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import orjson
from fastapi import Body
from pydantic import PlainSerializer, PlainValidator, TypeAdapter, ValidationError

from herald.message.schemas import BulkSend, SendBulk

_FAST = TypeAdapter(BulkSend)


def decode(body: bytes) -> Any:
    """The body, validated as a ``BulkSend`` when the fast path accepts it; else what
    ``json.loads`` makes of it (raising as it does), for ``SendBulk`` to validate."""
    # A NUL can only be written \u0000 in JSON: without one, no string holds a NUL, which
    # ``SendBulk`` refuses (the reference path names where).
    if b"\\u0000" not in body:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # json.loads decides (it accepts more, and raises what FastAPI expects)
        else:
            try:
                return _FAST.validate_python(data)
            except ValidationError:
                pass
    # What ``SendBulk`` accepts is all that ``BulkSend`` accepts (same fields and constraints),
    # whose values are read the same by orjson and json.loads: strings, booleans, null and
    # 64-bit integers (orjson reads a larger integer as a float, which no field takes as
    # valid; nesting deeper than the schema's is refused too).
    return json.loads(body)


def _validated(data: Any) -> BulkSend:
    if isinstance(data, BulkSend):
        return data  # decoded and validated by ``decode``
    # Raises ``SendBulk``'s own errors; FastAPI validates bodies with from_attributes.
    return BulkSend.of(SendBulk.model_validate(data, from_attributes=True))


def _unchanged(value: BulkSend) -> Any:
    return value


BulkBody = Annotated[
    BulkSend,
    PlainValidator(_validated, json_schema_input_type=SendBulk),
    # Never used (FastAPI does not serialize bodies): without a serializer of its own the
    # type's schema stays in the core schema, and the OpenAPI document would list it too.
    PlainSerializer(_unchanged, return_type=Any),
    Body(),
]
"""The endpoint's body parameter: documented as ``SendBulk``, received as a ``BulkSend``."""
