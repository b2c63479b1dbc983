"""The framework's error handlers: every failure FastAPI or Starlette meets, rendered as JSend
by ``responses.error_answer`` and ``responses.error_response``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from herald.errors import (
    HeraldError,
    MalformedJson,
    MethodNotAllowed,
    PayloadTooLarge,
    RouteNotFound,
    UnsupportedContentType,
    ValidationFailed,
)
from herald.kit.routes import allowed_methods, alternative_path
from herald.responses import error_answer, error_response


def _field_name(loc: Sequence[int | str]) -> str:
    # A tagged union's branch ("[list]", "[object]": message.schemas) is not a field.
    parts = [
        str(p)
        for p in loc
        if p not in ("body", "query", "path", "header") and not str(p).startswith("[")
    ]
    return ".".join(parts) or "body"


def _validation_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    rendered = []
    for err in errors:
        field = _field_name(err.get("loc", ()))
        kind = err.get("type", "")
        if kind == "missing":
            message = "This field is required."
        elif kind == "extra_forbidden":
            message = "Unknown field."
        else:
            message = str(err.get("msg", "Invalid value.")).removeprefix("Value error, ")
        rendered.append({"field": field, "message": message})
    return rendered


def _body_not_json(request: Any, errors: Sequence[Any]) -> bool:
    """A body sent as a form or text where JSON was expected (curl -d without -H, typically)."""
    content_type = request.headers.get("content-type", "")
    whole_body = any(tuple(e.get("loc", ())) == ("body",) for e in errors)
    return whole_body and bool(content_type) and "json" not in content_type.lower()


def install_error_handlers(app: Any) -> None:
    """Register the handlers that render HeraldError, framework errors and crashes as JSend."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.requests import Request

    async def herald_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, HeraldError)
        return error_answer(exc, request.method, request.url.path)

    async def request_validation(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, RequestValidationError)
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, MalformedJson.code, MalformedJson.message)
        if _body_not_json(request, errors):
            return error_response(415, UnsupportedContentType.code, UnsupportedContentType.message)
        failure = ValidationFailed(_validation_errors(errors))
        return error_response(400, failure.code, failure.message, failure.data)

    async def http_exception(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 404:
            other = alternative_path(request.app, request.scope)
            if other:
                return error_response(
                    404,
                    RouteNotFound.code,
                    f"No route {request.url.path}; did you mean {other}? "
                    "Trailing slashes are part of Herald's routes.",
                    {"path": other},
                )
            return error_response(404, RouteNotFound.code, f"No route {request.url.path}.")
        if exc.status_code == 413:
            return error_response(413, PayloadTooLarge.code, str(exc.detail))
        if exc.status_code == 400:  # the body could not be parsed at all (bad UTF-8, too deep)
            return error_response(400, MalformedJson.code, MalformedJson.message)
        if exc.status_code == 405:
            allowed = allowed_methods(request.app, request.scope)
            return error_response(
                405,
                MethodNotAllowed.code,
                f"Method {request.method} is not allowed on {request.url.path}.",
                {"allowed": allowed},
                {**headers, "Allow": ", ".join(allowed)},
            )
        return error_response(exc.status_code, "http_error", str(exc.detail), None, headers)

    async def unexpected(request: Request, exc: Exception) -> Any:
        return error_answer(exc, request.method, request.url.path)

    app.add_exception_handler(HeraldError, herald_error)
    app.add_exception_handler(RequestValidationError, request_validation)
    app.add_exception_handler(StarletteHTTPException, http_exception)
    app.add_exception_handler(Exception, unexpected)
