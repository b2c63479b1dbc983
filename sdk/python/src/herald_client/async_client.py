"""``AsyncHeraldClient``: the asyncio client, on ``httpx.AsyncClient``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar

import httpx

from herald_client._call import Call, RequestSpec, Send
from herald_client._engine import Engine, Flow, connection_error, credentials_from
from herald_client._envelope import following
from herald_client._operations import AsyncRunner, Operations
from herald_client._retry import RetryPolicy
from herald_client._version import USER_AGENT
from herald_client._waiting import DEFAULT_POLL_INTERVAL, DEFAULT_REVIEW_TIMEOUT, review_steps
from herald_client.errors import HeraldConnectionError
from herald_client.models import Page, Template

T = TypeVar("T")


class AsyncHeraldClient(Operations, AsyncRunner):
    """Herald's API as coroutines; the same methods, arguments and errors as ``HeraldClient``.

    Authenticate with ``email`` + ``password`` (logs in on first use and again before the
    token expires; ``token`` starts from one obtained earlier), a ``token`` alone (used until it
    expires), or, for shop plugins, ``api_key`` + ``platform_type`` + ``base_uri``.
    429 and 503 answers are retried up to ``max_retries`` times, and so are lost connections
    where repeating is safe (reads, sends: see ``HeraldConnectionError``); ``sleep`` and
    ``clock`` (seconds, monotonic) are injectable so that tests need not wait.
    """

    def __init__(
        self,
        base_url: str,
        *,
        email: str | None = None,
        password: str | None = None,
        token: str | None = None,
        api_key: str | None = None,
        platform_type: str | None = None,
        base_uri: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | httpx.Timeout = 30.0,
        max_retries: int = 5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        credentials = credentials_from(email, password, api_key, platform_type, base_uri, token)
        self._engine = Engine(credentials, RetryPolicy(max_retries=max_retries), clock, token)
        self._clock = clock
        self._login_lock = asyncio.Lock()
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT},
        )

    @property
    def token(self) -> str | None:
        """The access token in use (None before the first login): keep it to start another
        client from it with ``token=``."""
        return self._engine.token

    async def _run(self, call: Call[T]) -> T:
        if call.authenticated and self._engine.needs_login():
            async with self._login_lock:  # calls that start together share one login
                if self._engine.needs_login():
                    await self._drive(self._engine.login())
        return await self._drive(self._engine.perform(call))

    async def _drive(self, flow: Flow[T]) -> T:
        try:
            effect = next(flow)
            while True:
                if isinstance(effect, Send):
                    try:
                        response = await self._exchange(effect.request)
                    except HeraldConnectionError as lost:  # the flow decides: retry or raise
                        effect = flow.throw(lost)
                    else:
                        effect = flow.send(response)
                else:
                    await self._sleep(effect.seconds)
                    effect = flow.send(None)
        except StopIteration as finished:
            result: T = finished.value
            return result
        finally:
            flow.close()  # releases what the flow holds open (an uploaded file)

    async def _exchange(self, request: RequestSpec) -> httpx.Response:
        try:
            return await self._http.send(request.build(self._http))
        except httpx.RequestError as exc:  # connect, read, write, timeout, undecodable body
            raise connection_error(exc) from exc

    async def wait_for_review(
        self,
        template_id: int,
        *,
        # How long the review may take, not a cancellation: the same argument as the sync
        # client's, and the clock the polling reads is the client's (injectable) one.
        timeout: float = DEFAULT_REVIEW_TIMEOUT,  # noqa: ASYNC109
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> Template:
        """Read a submitted template every ``poll_interval`` seconds until it leaves PENDING
        (APPROVED, REJECTED with ``rejection_reason``...) and return it; ``ReviewTimeout``
        after ``timeout`` seconds. Meta usually decides within minutes, at most in 24 h."""
        steps = review_steps(template_id, timeout, poll_interval, self._clock)
        try:
            step = next(steps)
            while True:
                if isinstance(step, Call):
                    read: Template = await self._run(step)
                    step = steps.send(read)
                else:
                    await self._sleep(step.seconds)
                    step = steps.send(None)
        except StopIteration as finished:
            template: Template = finished.value
            return template

    async def iter_all(
        self,
        list_method: Callable[..., Awaitable[Page[T]]],
        /,
        *,
        limit: int = 100,
        **filters: Any,
    ) -> AsyncIterator[T]:
        """Every item of a list, page after page: ``async for c in
        client.iter_all(client.list_contacts, tag="vip")``. Lists are newest first, so items
        created meanwhile may shift a page; the history is walked by ``before_id`` instead,
        which nothing shifts and stays fast deep."""
        page = await list_method(page=1, limit=limit, **filters)
        while True:
            for item in page["items"]:
                yield item
            if (arguments := following(page)) is None:
                return
            page = await list_method(**arguments, limit=limit, **filters)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncHeraldClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
