"""Transports that wrap the real one: they record every request the SDK sends and can answer a
few of them in Herald's place (a 429 or 503 exactly as Herald writes them, or a connection that
drops), then let the rest through to the real server. Herald's own code is never replaced."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx


@dataclass
class Scripted:
    """An answer given instead of Herald's, or with ``drop`` a connection that fails (the
    exception httpx raises). With ``forward`` the request reaches Herald first and only its
    answer is replaced: an answer lost on the way back (a proxy's 503, a reset)."""

    response: httpx.Response | None = None
    forward: bool = False
    drop: httpx.TransportError | None = None

    def answer(self) -> httpx.Response:
        if self.drop is not None:
            raise self.drop
        assert self.response is not None
        return self.response


def dropped(forward: bool) -> Scripted:
    """A connection lost: after the request reached Herald (``forward``: its answer never
    comes back, a reset), or before it left (refused)."""
    if forward:
        return Scripted(forward=True, drop=httpx.ReadError("connection reset by peer"))
    return Scripted(drop=httpx.ConnectError("connection refused"))


def herald_error(
    status: int,
    code: str,
    message: str,
    retry_after: int | None = None,
    data: dict[str, object] | None = None,
) -> httpx.Response:
    """A JSend error with Herald's shape and headers."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    body: dict[str, object] = {
        "status": "error",
        "message": message,
        "code": code,
        "data": data or [],
    }
    return httpx.Response(status, json=body, headers=headers)


def rate_limited(retry_after: int = 2, forward: bool = False) -> Scripted:
    response = herald_error(
        429,
        "rate_limited",
        "Too many requests; retry later.",
        retry_after,
        {"retry_after": retry_after},
    )
    return Scripted(response, forward)


def unavailable(retry_after: int | None = None, forward: bool = False) -> Scripted:
    response = herald_error(
        503, "service_unavailable", "A dependency is unavailable; retry later.", retry_after
    )
    return Scripted(response, forward)


class _Recorder:
    def __init__(self, path: str | None, script: Sequence[Scripted]) -> None:
        self.requests: list[httpx.Request] = []
        self.statuses: list[int] = []
        self._path = path
        self._script = list(script)

    def next_scripted(self, request: httpx.Request) -> Scripted | None:
        self.requests.append(request)
        if self._script and (self._path is None or request.url.path == self._path):
            return self._script.pop(0)
        return None

    def replace(self, scripted: Scripted) -> httpx.Response:
        """Herald's answer as the script says: another one, or none (status 0: dropped)."""
        self.statuses.append(0 if scripted.drop else scripted.answer().status_code)
        return scripted.answer()

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]

    def to(self, path: str) -> list[httpx.Request]:
        return [request for request in self.requests if request.url.path == path]


class AsyncWrapping(httpx.AsyncBaseTransport, _Recorder):
    """Around an async transport (ASGI or real HTTP); ``script`` answers the first requests to
    ``path`` (any path when None)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        path: str | None = None,
        script: Sequence[Scripted] = (),
    ) -> None:
        _Recorder.__init__(self, path, script)
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        scripted = self.next_scripted(request)
        if scripted is None or scripted.forward:
            real = await self.inner.handle_async_request(request)
            if scripted is None:
                self.statuses.append(real.status_code)
                return real
            await real.aread()
            await real.aclose()
        return self.replace(scripted)

    async def aclose(self) -> None:
        await self.inner.aclose()


class SyncWrapping(httpx.BaseTransport, _Recorder):
    """Around a blocking transport (real HTTP to the live server)."""

    def __init__(
        self,
        inner: httpx.BaseTransport | None = None,
        *,
        path: str | None = None,
        script: Sequence[Scripted] = (),
    ) -> None:
        _Recorder.__init__(self, path, script)
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        scripted = self.next_scripted(request)
        if scripted is None or scripted.forward:
            real = self.inner.handle_request(request)
            if scripted is None:
                self.statuses.append(real.status_code)
                return real
            real.read()
            real.close()
        return self.replace(scripted)

    def close(self) -> None:
        self.inner.close()
