"""``HeraldClient``: the blocking client, on ``httpx.Client``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, TypeVar

import httpx

from herald_client._call import Call, RequestSpec, Send
from herald_client._engine import Engine, Flow, credentials_from
from herald_client._operations import Operations, SyncRunner
from herald_client._retry import RetryPolicy
from herald_client._version import USER_AGENT
from herald_client.errors import HeraldConnectionError
from herald_client.models import Page

T = TypeVar("T")


class HeraldClient(Operations, SyncRunner):
    """Herald's API as blocking methods.

    Authenticate with ``email`` + ``password`` (logs in on first use and again before the
    token expires) or, for shop plugins, ``api_key`` + ``platform_type`` + ``base_uri``.
    429 and 503 answers are retried up to ``max_retries`` times; ``sleep`` and ``clock``
    (seconds, monotonic) are injectable so that tests need not wait.
    """

    def __init__(
        self,
        base_url: str,
        *,
        email: str | None = None,
        password: str | None = None,
        api_key: str | None = None,
        platform_type: str | None = None,
        base_uri: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = 30.0,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        credentials = credentials_from(email, password, api_key, platform_type, base_uri)
        self._engine = Engine(credentials, RetryPolicy(max_retries=max_retries), clock)
        self._login_lock = threading.Lock()
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT},
        )

    def _run(self, call: Call[T]) -> T:
        if call.authenticated and self._engine.needs_login():
            with self._login_lock:  # calls that start together share one login
                if self._engine.needs_login():
                    self._drive(self._engine.login())
        return self._drive(self._engine.perform(call))

    def _drive(self, flow: Flow[T]) -> T:
        try:
            effect = next(flow)
            while True:
                if isinstance(effect, Send):
                    effect = flow.send(self._exchange(effect.request))
                else:
                    self._sleep(effect.seconds)
                    effect = flow.send(None)
        except StopIteration as finished:
            result: T = finished.value
            return result
        finally:
            flow.close()  # releases what the flow holds open (an uploaded file)

    def _exchange(self, request: RequestSpec) -> httpx.Response:
        try:
            return self._http.send(request.build(self._http))
        except httpx.RequestError as exc:  # connect, read, write, timeout, undecodable body
            raise HeraldConnectionError(f"{type(exc).__name__}: {exc}") from exc

    def iter_all(
        self, list_method: Callable[..., Page[T]], /, *, limit: int = 100, **filters: Any
    ) -> Iterator[T]:
        """Every item of a list, page after page: ``for c in client.iter_all(client.list_contacts,
        tag="vip")``. Lists are newest first, so items created meanwhile may shift a page; the
        history is walked by ``before_id`` instead, which nothing shifts and stays fast deep."""
        page = list_method(page=1, limit=limit, **filters)
        while True:
            yield from page.items
            if (before_id := page.pagination.next_before_id) is not None:
                page = list_method(before_id=before_id, limit=limit, **filters)
            elif (number := page.next_page) is not None:
                page = list_method(page=number, limit=limit, **filters)
            else:
                return

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HeraldClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
