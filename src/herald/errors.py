"""One error tree. ``responses.py`` renders any failure as a JSend error, and
``error_handlers.install_error_handlers`` installs the framework's handlers that use it."""

from __future__ import annotations

import errno
import socket
from collections.abc import Sequence
from typing import Any


class HeraldError(Exception):
    """An expected failure with an HTTP status and a stable snake_case ``code``."""

    status: int = 400
    code: str = "bad_request"
    message: str = "Bad request."

    def __init__(
        self,
        message: str | None = None,
        *,
        data: dict[str, Any] | list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or type(self).message
        self.data: dict[str, Any] | list[Any] = data if data is not None else []
        self.headers = headers or {}
        super().__init__(self.message)


# 400
class ValidationFailed(HeraldError):
    code = "validation_failed"
    message = "The request is not valid."

    def __init__(self, errors: Sequence[dict[str, str]], message: str | None = None) -> None:
        fields = ", ".join(sorted({e["field"] for e in errors}))
        super().__init__(message or f"Invalid fields: {fields}.", data={"errors": list(errors)})

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        return cls([{"field": field, "message": message}], message=f"{field}: {message}")


class MalformedJson(HeraldError):
    code = "malformed_json"
    message = "The request body is not valid JSON."


class InvalidPhoneNumber(HeraldError):
    code = "invalid_phone_number"
    message = "The phone number is not valid for the given country."


class InvalidCurrentPassword(HeraldError):
    code = "invalid_current_password"
    message = "current_password does not match."


# 401
class Unauthenticated(HeraldError):
    status = 401
    code = "unauthenticated"


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    message = "Invalid credentials."


class TokenMissing(Unauthenticated):
    code = "token_missing"
    message = "Authorization header with a Bearer token is required."


class TokenInvalid(Unauthenticated):
    code = "token_invalid"
    message = "The token is invalid."


class TokenExpired(Unauthenticated):
    code = "token_expired"
    message = "The token has expired; log in again."


# 403
class Forbidden(HeraldError):
    status = 403
    code = "forbidden"
    message = "Not allowed."


class ApiAccessDisabled(Forbidden):
    code = "api_access_disabled"
    message = "API access is disabled for this user."


class FieldNotEditable(Forbidden):
    code = "field_not_editable"


# 404
class NotFound(HeraldError):
    status = 404
    code = "not_found"
    message = "Not found."


class RouteNotFound(NotFound):
    code = "route_not_found"
    message = "No such route."


# 405
class MethodNotAllowed(HeraldError):
    status = 405
    code = "method_not_allowed"
    message = "Method not allowed."


# 409
class Conflict(HeraldError):
    status = 409
    code = "conflict"
    message = "Conflict."


class ContactExists(Conflict):
    code = "contact_exists"
    message = "A contact with this number already exists."


# provider failures, as the caller sees them
class ProviderRejected(HeraldError):
    code = "provider_rejected"
    message = "The WhatsApp provider refused the request."


class ProviderAuthFailed(HeraldError):
    status = 502
    code = "provider_auth_failed"
    message = "The WhatsApp provider refused the channel's credentials; the operator must fix them."


class ProviderUnavailable(HeraldError):
    status = 503
    code = "provider_unavailable"
    message = "The WhatsApp provider is unavailable; retry later."

    def __init__(
        self,
        message: str | None = None,
        *,
        data: dict[str, Any] | None = None,
        retry_after: int = 30,
    ) -> None:
        super().__init__(message, data=data, headers={"Retry-After": str(retry_after)})


# 413
class PayloadTooLarge(HeraldError):
    status = 413
    code = "payload_too_large"
    message = "The request body is too large."


# 415
class UnsupportedContentType(HeraldError):
    status = 415
    code = "unsupported_content_type"
    message = "The request body must be JSON (Content-Type: application/json)."


# 429
class RateLimited(HeraldError):
    status = 429
    code = "rate_limited"
    message = "Too many requests; retry later."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(
            message, data={"retry_after": retry_after}, headers={"Retry-After": str(retry_after)}
        )


# 500
class InternalError(HeraldError):
    status = 500
    code = "internal_error"
    message = "Internal server error."


# 503
class ServiceUnavailable(HeraldError):
    status = 503
    code = "service_unavailable"
    message = "A dependency is unavailable; retry later."

    def __init__(self, message: str | None = None, retry_after: int = 5) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


def database_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached, is restarting or dropped the connection: a 503 the
    client should retry, never a 500 (the pool's pre-ping reconnects once it is back)."""
    import asyncpg
    from sqlalchemy import exc as sa

    if isinstance(exc, ConnectionError | TimeoutError | sa.TimeoutError):
        return True
    if isinstance(exc, asyncpg.PostgresConnectionError):
        return True
    if isinstance(exc, asyncpg.InterfaceError):  # also misuse (too many arguments): not down
        return "connection" in str(exc).lower()
    if isinstance(exc, asyncpg.exceptions.CannotConnectNowError | asyncpg.AdminShutdownError):
        return True
    if isinstance(exc, sa.DBAPIError):
        if exc.connection_invalidated:
            return True
        original = exc.orig
        if original is None:
            return False
        if "database is locked" in str(original):  # SQLite still busy after its timeout
            return True
        cause = original.__cause__
        return database_unavailable(original) or (cause is not None and database_unavailable(cause))
    unreachable = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT}
    return isinstance(exc, socket.gaierror) or (
        isinstance(exc, OSError) and exc.errno in unreachable
    )
