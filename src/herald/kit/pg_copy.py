"""Rows in PostgreSQL's binary COPY format, for rows that share most of their values.

asyncpg's ``copy_records_to_table`` encodes every value of every row, and sends the rows in
512 KiB buffers. A bulk send's 10,000 rows share 16 of their 20 columns: here the shared ones
are encoded once, each row adds its own few, and the rows go out every ~64 KiB, so that the
database starts on them (its foreign-key checks and indexes cost more than the encoding)
while the next ones are being made. The format is PostgreSQL's ("COPY ... FORMAT binary": a
signature, then per row a field count and each field's length and bytes), each value in its
type's binary form (what its ``*recv`` function reads). ``tests/message/test_bulk_rows.py``
holds the rows to what the ORM writes.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, SmallInteger, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # then no flags, no header extension
TRAILER = b"\xff\xff"  # a field count of -1
CHUNK = 65_536
NULL = b"\xff\xff\xff\xff"  # a field length of -1
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_LENGTH = struct.Struct(">i")

Encode = Callable[[Any], bytes]
"""A value (after its column's bind processor) as one field: its length, then its bytes."""


def _fixed(layout: str) -> Encode:
    packed = struct.Struct(">i" + layout)
    size = packed.size - 4
    return lambda value: packed.pack(size, value)


def _text(value: str) -> bytes:
    data = value.encode()
    return _LENGTH.pack(len(data)) + data


_TIMESTAMP = _fixed("q")


def _timestamptz(value: datetime) -> bytes:
    if value.tzinfo is None:
        raise ValueError("naive datetime for a timestamptz column")
    elapsed = value - _EPOCH
    microseconds = (elapsed.days * 86_400 + elapsed.seconds) * 1_000_000 + elapsed.microseconds
    return _TIMESTAMP(microseconds)


def field_encoder(column: Column[Any], dialect: Dialect) -> Encode:
    """How to write ``column``'s values; NULL for None."""
    kind: TypeEngine[Any] = column.type.dialect_impl(dialect)
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance.dialect_impl(dialect)
    encode: Encode
    if isinstance(kind, SmallInteger):  # before Integer: both are its subclasses
        encode = _fixed("h")
    elif isinstance(kind, BigInteger):
        encode = _fixed("q")
    elif isinstance(kind, Integer):
        encode = _fixed("i")
    elif isinstance(kind, String | JSON):  # json's binary form is its text (not jsonb's)
        encode = _text
    elif isinstance(kind, DateTime) and kind.timezone:
        encode = _timestamptz
    else:
        raise TypeError(f"no binary COPY encoding for {column} ({kind!r})")
    return lambda value: NULL if value is None else encode(value)


class BinaryRows:
    """The COPY stream of rows that start with the same ``shared`` fields (already encoded),
    then have their own values, written by ``encoders``."""

    def __init__(self, shared: Sequence[bytes], encoders: Sequence[Encode]) -> None:
        self.prefix = struct.pack(">h", len(shared) + len(encoders)) + b"".join(shared)
        self.encoders = encoders
        self.written = 0

    async def stream(self, rows: Iterable[Sequence[Any]]) -> AsyncIterator[bytes]:
        prefix, encoders = self.prefix, self.encoders
        chunk = bytearray(SIGNATURE)
        for row in rows:
            self.written += 1
            chunk += prefix
            for encode, value in zip(encoders, row, strict=True):
                chunk += encode(value)
            if len(chunk) >= CHUNK:
                yield bytes(chunk)
                chunk.clear()
        chunk += TRAILER
        yield bytes(chunk)
