"""Routes with a large JSON body (a 10,000-recipient bulk send): the body is decoded and validated
in one step of the route's own, and the cyclic garbage collector is paused for the whole request.

The framework decodes a body with ``json.loads`` and only then validates it, into one model
instance per object: for a 10,000-recipient body that was ~30% of the call's CPU, and the ~100,000
objects it allocates triggered a full collection before the endpoint could pause the collector
(in-process profile, docs/benchmarks.md). Here ``Request.json``, which the framework calls to
decode the body, hands it to the route's ``decode`` instead: it may return the body already
validated (the route's body type then passes it through) or the standard library's decoding of
it, which the framework validates as it always did. Everything else (the order of body errors,
authentication and parameter errors, the 400s, 413s and 415s) stays the framework's.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from herald.kit import collector

Decode = Callable[[bytes], Any]


class _DecodedRequest(Request):
    decode: Decode

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = type(self).decode(await self.body())
        return self._json


def large_body_route(decode: Decode) -> type[APIRoute]:
    """An ``APIRoute`` class whose JSON body is decoded by ``decode`` (which must raise what
    ``json.loads`` raises for a body it cannot decode), with the collector paused throughout."""

    request_class = type("DecodedRequest", (_DecodedRequest,), {"decode": staticmethod(decode)})

    class LargeBodyRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def paused(request: Request) -> Response:
                with collector.paused():
                    return await handler(request_class(request.scope, request.receive))

            return paused

    return LargeBodyRoute
