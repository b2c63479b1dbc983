"""The one place where any failure becomes a JSend answer: the response class (orjson) and the
error envelope, for the framework's handlers (``error_handlers.py``), the plain-ASGI routes and
kit's middlewares (``kit/jsend.py`` re-exports them).

Apart from ``errors.py`` so that the error tree imports neither Starlette nor orjson: the CLI's
commands raise and catch these errors, and ``herald --help`` and its kin start in under half a
second (bench/cli.py)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse

from herald.errors import HeraldError, InternalError, ServiceUnavailable, database_unavailable


class JSendResponse(JSONResponse):
    """JSON rendered with orjson: several times faster than the standard library on hot paths."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(
    status: int,
    code: str,
    message: str,
    data: dict[str, Any] | list[Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSendResponse:
    body = {"status": "error", "message": message, "code": code, "data": data or []}
    return JSendResponse(body, status_code=status, headers=headers)


def error_answer(exc: BaseException, method: str, path: str) -> Any:
    """The JSend answer for a HeraldError or a crash: shared by the framework's handlers and the
    pure-ASGI routes that run outside them (``POST /webhooks/whatsapp``)."""
    import structlog

    if isinstance(exc, HeraldError):
        return error_response(exc.status, exc.code, exc.message, exc.data, exc.headers)
    log = structlog.get_logger("herald.errors")
    if database_unavailable(exc):
        log.warning("http.database_unavailable", error=type(exc).__name__)
        unavailable = ServiceUnavailable("The database is unavailable; retry shortly.")
        return error_response(503, unavailable.code, unavailable.message, None, unavailable.headers)
    log.exception("http.unhandled_error", method=method, path=path, exc_info=exc)
    return error_response(500, InternalError.code, InternalError.message)
