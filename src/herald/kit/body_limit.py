"""Reject oversized request bodies while they stream in, before anything reads them whole (the
counting itself is in ``kit.edge.EdgeMiddleware``)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import Scope

from herald.kit.jsend import JSendResponse, error_response


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")
        self.limit = limit


def too_large(limit: int) -> JSendResponse:
    return error_response(
        413, "payload_too_large", f"The request body is larger than {limit} bytes."
    )


def content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
