"""Everything every request passes through before and after the framework, in one pure-ASGI
middleware: the access log and HTTP metrics, the caller's X-RateLimit-* headers, NUL rejection
and the body size limit.

One layer rather than four: each layer was a coroutine call and a wrapped ``send`` per request,
a measurable share of a cheap request (py-spy, webhook ingest). It also serves the few routes
that are too hot for the framework (``fast_routes``), still inside the log, the metrics and the
limits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald.kit.access_log import log_request
from herald.kit.body_limit import BodyTooLarge, content_length, too_large
from herald.kit.jsend import error_response
from herald.kit.nul_guard import has_nul, nul_rejected


@dataclass(frozen=True)
class FastRoute:
    """A pure-ASGI route served before the framework's routing; ``path`` is its log label."""

    path: str
    app: ASGIApp


class EdgeMiddleware:
    """``limit_for(path)`` caps each request body in bytes (None: the route streams itself). A
    declared Content-Length over the cap is refused before reading; a chunked body is counted as
    it arrives and refused at the first byte over the cap."""

    def __init__(
        self,
        app: ASGIApp,
        limit_for: Callable[[str], int | None],
        fast_routes: Mapping[tuple[str, str], FastRoute] | None = None,
    ) -> None:
        self.app = app
        self.limit_for = limit_for
        self.fast_routes = dict(fast_routes or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def edge_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra = scope.get("state", {}).get("rate_limit_headers")
                if extra:
                    message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self._serve(scope, receive, edge_send)
        finally:
            log_request(scope, status, time.perf_counter() - started)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (where := has_nul(scope)) is not None:
            await nul_rejected(where)(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        app = self.app
        fast = self.fast_routes.get((scope["method"], scope["path"]))
        if fast is not None:
            scope["route"] = fast
            app = fast.app
        if limit is None:
            await app(scope, receive, send)
            return
        declared = content_length(scope)
        if declared is not None and declared > limit:
            await too_large(limit)(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        if fast is None:
            await app(scope, counted_receive, send)
            return
        # The framework's handlers render BodyTooLarge for its routes; a fast route is outside.
        try:
            await app(scope, counted_receive, send)
        except BodyTooLarge as refused:
            await error_response(413, "payload_too_large", str(refused.detail))(
                scope, receive, send
            )
