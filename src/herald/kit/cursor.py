"""Opaque keyset cursors: a list of positions a page stopped at, as one URL-safe token.

The client only hands back what it was given; a token it made up, edited or took from another
list is a 400 (``cursor`` field), never a 500."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from herald.errors import ValidationFailed

MAX_CURSOR_LENGTH = 200
MAX_POSITION = 2**63 - 1  # a database's BIGINT: a larger number would fail the query


def refused() -> ValidationFailed:
    """The answer to a cursor this list did not give."""
    return ValidationFailed.single("cursor", "is not a cursor this list gave")


def encode_cursor(kind: str, *positions: int | str) -> str:
    raw = json.dumps([kind, *positions], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, kind: str, shape: tuple[type, ...]) -> list[Any]:
    """The positions of a cursor made by ``encode_cursor(kind, ...)`` with these types."""
    if len(token) > MAX_CURSOR_LENGTH:
        raise refused()
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        raise refused() from None
    if not isinstance(decoded, list) or len(decoded) != len(shape) + 1 or decoded[0] != kind:
        raise refused()
    positions = decoded[1:]
    # bool is an int to Python; a position never is one.
    if not all(type(p) is t for p, t in zip(positions, shape, strict=True)):
        raise refused()
    if any(type(p) is int and not 0 <= p <= MAX_POSITION for p in positions):
        raise refused()
    return positions
