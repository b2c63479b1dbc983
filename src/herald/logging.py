"""Structured logs (structlog): JSON in production, and nothing secret or personal in clear."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

from herald.kit.phone import mask_phone_numbers

_SECRET_KEYS = ("password", "token", "secret", "authorization", "api_key", "x-api-key", "cookie")
_REDACTED = "[redacted]"


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return mask_phone_numbers(value)
    if isinstance(value, Mapping):
        return {k: (_REDACTED if _is_secret(k) else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def _is_secret(key: object) -> bool:
    name = str(key).lower()
    return any(marker in name for marker in _SECRET_KEYS)


def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Mask phone numbers everywhere and drop the value of any secret-looking key."""
    for key in list(event):
        if _is_secret(key):
            event[key] = _REDACTED
        elif key not in ("timestamp", "level", "logger"):
            event[key] = _scrub(event[key])
    return event


def configure_logging(fmt: str, level: str) -> None:
    """Route structlog and the standard library (uvicorn, SQLAlchemy) through one redactor."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        # Plain tracebacks: the default pretty one prints local variables, secrets included.
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries that log what they carry (SQL parameters, full URLs) stay quiet below warning
    # whatever Herald's level: their debug lines would hold parameters, numbers and tokens.
    for name in (
        "aiosqlite",
        "asyncpg",
        "httpx",
        "httpcore",
        "botocore",
        "boto3",
        "s3transfer",
        "urllib3",
        "multipart",
        "python_multipart",
        "sqlalchemy",
    ):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # Herald logs each request itself, without query strings (they can hold phone numbers).
    logging.getLogger("uvicorn.access").disabled = True
    # uvicorn's own lines go through the redactor too, whatever configured them before (its
    # default config, or a library's dictConfig that disabled the loggers it found).
    for name in ("uvicorn", "uvicorn.error"):
        server_logger = logging.getLogger(name)
        server_logger.handlers[:] = []
        server_logger.propagate = True
        server_logger.disabled = False
        server_logger.setLevel(logging.NOTSET)
