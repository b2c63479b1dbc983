"""``client.messages.export_csv``: the history as CSV (``GET /api/whatsapp/?format=csv``),
streamed to a file as it arrives, never held whole in memory. A download, not a JSend call: the
engine's ``Call`` reads one JSON answer, so this reads the body itself and only a refusal as
JSend (raised as the matching ``HeraldApiError``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import httpx

from herald_client._call import QueryValue, timestamp
from herald_client._envelope import read_envelope

HISTORY = "/api/whatsapp/"
Target = str | os.PathLike[str] | IO[bytes]
FILTERS = ("whatsapp_bulk_group_id", "state", "template_id", "contact_id", "phone_number")


def export_params(filters: dict[str, Any]) -> dict[str, QueryValue]:
    """The history's filters (``created_from``/``created_to`` are its ``from``/``to``)."""
    unknown = set(filters) - {*FILTERS, "created_from", "created_to"}
    if unknown:
        raise TypeError(f"unknown filters: {', '.join(sorted(unknown))}")
    params: dict[str, QueryValue] = {"format": "csv"}
    for name, value in filters.items():
        if value is None:
            continue
        query_name = {"created_from": "from", "created_to": "to"}.get(name, name)
        params[query_name] = timestamp(value) if isinstance(value, datetime) else value
    return params


@contextmanager
def opened(target: Target) -> Iterator[IO[bytes]]:
    """A path is written (and closed) here; a binary file object is written as it is."""
    if isinstance(target, str | os.PathLike):
        with Path(target).open("wb") as stream:
            yield stream
    else:
        yield target


def refused(response: httpx.Response) -> None:
    """Raise the answer's error when it is not the file."""
    if response.status_code != 200 or not response.headers.get("content-type", "").startswith(
        "text/csv"
    ):
        read_envelope(response)  # raises for an error (the body was read by the caller)
