"""The vocabulary shared by both clients: a ``Call`` (one API operation, described without doing
any I/O), the ``RequestSpec`` built from it, and the effects a flow asks its driver to perform."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Generic, TypeAlias, TypeVar

import httpx

T = TypeVar("T")

FileSource: TypeAlias = str | os.PathLike[str] | bytes | IO[bytes]
FilePart: TypeAlias = tuple[str, bytes | IO[bytes]]
QueryValue: TypeAlias = str | int


@dataclass(frozen=True)
class Upload:
    """A file for the multipart field ``file``: a path (opened per call and streamed in chunks,
    never read whole), bytes, or a binary file object (rewound for each retry, so it must be
    seekable to be retried)."""

    source: FileSource
    filename: str | None = None

    @contextmanager
    def open(self) -> Iterator[FilePart]:
        if isinstance(self.source, bytes):
            yield (self.filename or "upload", self.source)
        elif isinstance(self.source, str | os.PathLike):
            path = Path(self.source)
            with path.open("rb") as stream:
                yield (self.filename or path.name, stream)
        else:
            name = getattr(self.source, "name", None)
            default = Path(name).name if isinstance(name, str) else "upload"
            yield (self.filename or default, self.source)


@dataclass(frozen=True)
class RequestSpec:
    """Everything ``httpx.Client.build_request`` / ``AsyncClient.build_request`` needs."""

    method: str
    path: str
    params: Mapping[str, QueryValue] | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    file: FilePart | None = None

    def build(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        return http.build_request(
            self.method,
            self.path,
            params=self.params,
            json=self.json,
            headers=dict(self.headers),
            files={"file": self.file} if self.file is not None else None,
        )


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API operation: what to send, and how to turn the answer's ``data`` into ``T``."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, QueryValue] | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    upload: Upload | None = None
    authenticated: bool = True
    # Set when the call changes the password: Herald then revokes every earlier token, so the
    # client must log in again with the new one.
    new_password: str | None = None
    # Doing it twice is harmless although it is neither a read nor keyed (a login).
    harmless_twice: bool = False

    @property
    def repeatable(self) -> bool:
        """Whether a request whose answer was lost may be sent again: a read, a call with an
        ``Idempotency-Key`` (Herald replays its first answer), or one that is harmless twice."""
        return self.method == "GET" or "Idempotency-Key" in self.headers or self.harmless_twice

    def request(self, auth: Mapping[str, str], file: FilePart | None) -> RequestSpec:
        return RequestSpec(
            self.method, self.path, self.params, self.json, {**self.headers, **auth}, file
        )


# --- effects: what a flow yields, and what its driver answers -----------------------------------


@dataclass(frozen=True)
class Send:
    """Send this request; answer with the ``httpx.Response``."""

    request: RequestSpec


@dataclass(frozen=True)
class Sleep:
    """Wait this many seconds; answer with None."""

    seconds: float


Effect: TypeAlias = Send | Sleep
Reply: TypeAlias = httpx.Response | None


# --- small helpers for building calls -----------------------------------------------------------


def without_none(**fields: Any) -> dict[str, Any]:
    """The fields that were given: Herald treats an absent field as "leave it as it is"."""
    return {name: value for name, value in fields.items() if value is not None}


def timestamp(value: datetime | str) -> str:
    """ISO 8601 with a time zone, as Herald requires (a naive datetime would be ambiguous)."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetimes sent to Herald need a time zone (e.g. datetime.now(UTC))")
    return value.isoformat()


def paging(page: int, limit: int, **filters: QueryValue | datetime | None) -> dict[str, QueryValue]:
    query: dict[str, QueryValue] = {"page": page, "limit": limit}
    for name, value in filters.items():
        if isinstance(value, datetime):
            query[name] = timestamp(value)
        elif value is not None:
            query[name] = value
    return query
