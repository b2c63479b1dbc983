"""NUL characters never reach the handlers: PostgreSQL text cannot hold one (a 500 otherwise),
and no legitimate path, query or header needs one."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from herald.kit.jsend import error_response


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


class RejectNulMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (where := has_nul(scope)) is not None:
            response = error_response(
                400,
                "validation_failed",
                f"{where}: must not contain a NUL character",
                {"errors": [{"field": where, "message": "must not contain a NUL character"}]},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
