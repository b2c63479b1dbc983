"""Every failure the client raises: Herald's JSend errors, typed by HTTP status, and transport
failures. Catch ``HeraldError`` for all of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from herald_client.models import Template

INVALID_RESPONSE = "invalid_response"


class HeraldError(Exception):
    """Base of everything this package raises on purpose."""


class HeraldConnectionError(HeraldError):
    """Herald could not be reached or its answer did not arrive whole (DNS, refused, reset,
    timeout, a body that cannot be decoded); the httpx exception is ``__cause__``.

    Raised once the client's retries are spent. They are made, with the back-off of 503s,
    only where repeating cannot do the work twice: reads, calls that carry an
    ``Idempotency-Key`` (every send), and any call whose connection failed before the
    request left (``sent`` is False). A lost answer to anything else (``create_contact``,
    say) may mean Herald did it, so the caller decides.
    """

    def __init__(self, message: str, *, sent: bool = True) -> None:
        super().__init__(message)
        self.sent = sent  # False: the request certainly never reached Herald


class ReviewTimeout(HeraldError, TimeoutError):
    """``wait_for_review`` ran out of time; ``template`` is the last one read (still PENDING)."""

    def __init__(self, template: Template) -> None:
        super().__init__(f"template {template['id']} is still PENDING")
        self.template = template


class SignatureVerificationError(HeraldError):
    """A status callback failed ``construct_event``: a header missing or malformed, no
    signature made with the given secret(s), or a timestamp outside the tolerance (a replay).
    Answer the request with 400 or 401 and do not act on it."""


class HeraldApiError(HeraldError):
    """Herald answered with an error: ``status`` (HTTP), ``code`` (stable snake_case id),
    ``message`` (for humans) and ``data`` (details such as ``{"expected": 2, "given": 1}``)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        data: dict[str, Any] | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.data: dict[str, Any] = data if data is not None else {}
        # Seconds Herald asked to wait (``Retry-After``), when it said so.
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, code={self.code!r}, "
            f"message={self.message!r}, data={self.data!r})"
        )


class BadRequest(HeraldApiError):
    """400: the request is invalid (``validation_failed``, ``body_params_mismatch``, ...)."""


class Unauthorized(HeraldApiError):
    """401: credentials missing, wrong, expired or revoked."""


class Forbidden(HeraldApiError):
    """403: authenticated but not allowed (``api_access_disabled``, ...)."""


class NotFound(HeraldApiError):
    """404: no such object for this user, or no such route."""


class Conflict(HeraldApiError):
    """409: the object's state forbids it (``contact_exists``, ``invalid_state``, ...)."""


class PayloadTooLarge(HeraldApiError):
    """413: ``payload_too_large`` or ``media_too_large``."""


class UnsupportedMediaType(HeraldApiError):
    """415: ``unsupported_content_type`` or ``unsupported_media_type``."""


class RateLimited(HeraldApiError):
    """429 after the client's retries ran out; ``retry_after`` says how long Herald asked to
    wait."""


class ServerError(HeraldApiError):
    """5xx: Herald or one of its dependencies failed (503s are retried first)."""


_BY_STATUS: dict[int, type[HeraldApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    429: RateLimited,
}


def api_error(
    status: int, code: str, message: str, data: Any, retry_after: float | None = None
) -> HeraldApiError:
    """The exception for one error answer, its class chosen by HTTP status."""
    kind = _BY_STATUS.get(status) or (ServerError if status >= 500 else HeraldApiError)
    details = _as_mapping(data)
    if retry_after is None and isinstance(details.get("retry_after"), int | float):
        retry_after = float(details["retry_after"])
    return kind(status, code, message, details, retry_after=retry_after)


def _as_mapping(data: Any) -> dict[str, Any]:
    # JSend lets error ``data`` be ``[]`` when there is nothing to say; a dict is what callers
    # index into, so the empty cases become ``{}``.
    if isinstance(data, dict):
        return data
    if data is None or data == []:
        return {}
    return {"value": data}
