"""Everything every request passes through before and after the framework, in one pure-ASGI
middleware: the access log and HTTP metrics, the caller's X-RateLimit-* headers, NUL rejection
and the body size limit.

One layer rather than four: each layer was a coroutine call and a wrapped ``send`` per request,
a measurable share of a cheap request (py-spy, webhook ingest). It also serves the few routes
that are too hot for the framework (``fast_routes``), still inside the log, the metrics and the
limits.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald.kit.access_log import log_request
from herald.kit.body_limit import BodyTooLarge, content_length, too_large
from herald.kit.jsend import error_response
from herald.kit.nul_guard import has_nul, nul_rejected

FastApp = Callable[[Scope, Receive, Send, ASGIApp], Awaitable[None]]
"""A pure-ASGI route's handler; the last argument is the framework, for the requests the handler
leaves to it (with the body handed on by ``kit.plain_asgi.replaying``)."""


@dataclass(frozen=True)
class FastRoute:
    """A pure-ASGI route served before the framework's routing, for ``method`` on the paths
    ``pattern`` matches whole; ``path`` is its route template, the label of its logs and metrics
    (the framework's route of the same template documents it in the OpenAPI schema)."""

    method: str
    path: str
    app: FastApp
    pattern: re.Pattern[str] | None = None  # None: ``path`` itself, nothing else

    def serves(self, method: str, path: str) -> bool:
        if method != self.method:
            return False
        return path == self.path if self.pattern is None else bool(self.pattern.fullmatch(path))


class EdgeMiddleware:
    """``limit_for(path)`` caps each request body in bytes (None: the route streams itself). A
    declared Content-Length over the cap is refused before reading; a chunked body is counted as
    it arrives and refused at the first byte over the cap."""

    def __init__(
        self,
        app: ASGIApp,
        limit_for: Callable[[str], int | None],
        fast_routes: Sequence[FastRoute] = (),
    ) -> None:
        self.app = app
        self.limit_for = limit_for
        self.fast_routes = tuple(fast_routes)

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
        fast = next((r for r in self.fast_routes if r.serves(scope["method"], scope["path"])), None)
        if fast is not None:
            scope["route"] = fast
        if limit is None:
            await self._route(fast, scope, receive, send)
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
            await self.app(scope, counted_receive, send)
            return
        # The framework's handlers render BodyTooLarge for its routes; a fast route is outside.
        try:
            await fast.app(scope, counted_receive, send, self.app)
        except BodyTooLarge as refused:
            await error_response(413, "payload_too_large", str(refused.detail))(
                scope, receive, send
            )

    async def _route(
        self, fast: FastRoute | None, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if fast is None:
            await self.app(scope, receive, send)
        else:
            await fast.app(scope, receive, send, self.app)
