"""One log line and the HTTP metrics per request: method, route template, status, time; never
the query string."""

from __future__ import annotations

import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald.kit.metrics import HTTP_DURATION, HTTP_REQUESTS

log = structlog.get_logger("herald.http")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None)
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
