"""NUL characters never reach the handlers: PostgreSQL text cannot hold one (a 500 otherwise),
and no legitimate path, query or header needs one."""

from __future__ import annotations

from starlette.types import Scope

from herald.kit.jsend import JSendResponse, error_response


def has_nul(scope: Scope) -> str | None:
    """Where a NUL hides in the request line or headers, or None."""
    if "\x00" in scope.get("path", ""):
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"\x00" in query or b"%00" in query:
        return "query"
    for name, value in scope.get("headers", []):
        if b"\x00" in value:
            header: str = name.decode("latin-1")
            return header
    return None


def nul_rejected(where: str) -> JSendResponse:
    return error_response(
        400,
        "validation_failed",
        f"{where}: must not contain a NUL character",
        {"errors": [{"field": where, "message": "must not contain a NUL character"}]},
    )
