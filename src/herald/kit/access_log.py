"""One log line and the HTTP metrics per request: method, route template, status, time; never
the query string. Called by ``kit.edge.EdgeMiddleware`` once the answer is sent."""

from __future__ import annotations

import structlog
from starlette.types import Scope

from herald.kit.metrics import HTTP_DURATION, HTTP_REQUESTS

log = structlog.get_logger("herald.http")


def log_request(scope: Scope, status: int, elapsed: float) -> None:
    matched = scope.get("route")
    # The template as the document spells it: without a parameter's convertor (`:message_id`).
    route = getattr(matched, "path_format", None) or getattr(matched, "path", None)
    # Unmatched paths share one label: a scan of random URLs must not grow the metrics.
    label = route or "unmatched"
    HTTP_REQUESTS.labels(scope["method"], label, str(status)).inc()
    HTTP_DURATION.labels(scope["method"], label).observe(elapsed)
    log.info(
        "http.request",
        method=scope["method"],
        route=route or scope["path"],
        status=status,
        duration_ms=round(elapsed * 1000, 2),
    )
