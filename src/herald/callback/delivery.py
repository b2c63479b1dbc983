"""Delivering the outbox: signed POSTs, retried with exponential back-off for 24 h, in order per
message (or template) and endpoint, many endpoints at once, in a loop of its own so a slow or
dead receiver never slows the dispatcher."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import orjson
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.callback import repository, signing, urls
from herald.kit.clock import Clock, iso_utc
from herald.kit.crypto import Cipher
from herald.kit.metrics import CALLBACKS, ITEM_FAILURES, SET_ASIDE
from herald.kit.tls import client_tls
from herald.models import CallbackDelivery, CallbackEndpoint, Message, lifecycle
from herald.models.lifecycle import FAILED

log = structlog.get_logger("herald.callbacks")

RETRY_FOR = timedelta(hours=24)
TIMEOUT_SECONDS = 10.0
LEASE = timedelta(seconds=60)  # longer than one attempt can take
BATCH = 200
CONCURRENCY = 32
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 3600.0
# A delivery whose attempt fails on Herald's side (a stored URL no client can use, a secret
# no key decrypts, a bug on this event) when it has been tried this many times is set aside,
# rather than retried for 24 hours.
MAX_BROKEN_ATTEMPTS = 5

# A message as the API shows it, in JSON: message/'s to say (``message.output.message_data``),
# handed in by the composition root, as callbacks come after messages and may not import them.
MessageData = Callable[[Message], dict[str, Any]]


def event_body(
    delivery: CallbackDelivery, message: Message | None, message_data: MessageData
) -> dict[str, Any]:
    """The event as of the state it announces (a late delivery does not leak later states)."""
    if message is None:
        raise LookupError("a message.status delivery without its message")
    data = message_data(message)
    data["state"] = delivery.state
    for later in lifecycle.not_yet(delivery.state):
        data[later] = None
    if delivery.state != FAILED:
        data["error"] = None
    return {
        "id": f"evt_{delivery.message_id}_{delivery.state}",
        "type": "message.status",
        "created_at": iso_utc(delivery.created_at),
        "data": data,
    }


@dataclass
class Outcome:
    delivery: CallbackDelivery
    status: int | None = None
    error: str | None = None
    broken: bool = False  # the attempt could not be made: Herald's side, not the receiver's

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class CallbackSender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient,
        cipher: Cipher,
        clock: Clock,
        message_data: MessageData,
        allow_loopback: bool,
        retry_base_seconds: float = BACKOFF_BASE_SECONDS,
        timeout_seconds: float = TIMEOUT_SECONDS,
        rng: random.Random | None = None,
    ) -> None:
        self.retry_base_seconds = retry_base_seconds
        self.timeout_seconds = timeout_seconds
        self.sessions = sessions
        self.http = http
        self.cipher = cipher
        self.clock = clock
        self.message_data = message_data
        self.allow_loopback = allow_loopback
        self.rng = rng or random.Random()  # noqa: S311 - retry jitter, not a secret
        self._slots = asyncio.Semaphore(CONCURRENCY)

    async def run_once(self) -> int:
        """Deliver what is due; how many deliveries were attempted."""
        now = self.clock.now()
        async with self.sessions() as session:
            claimed = await repository.claim(session, now, now + LEASE, BATCH)
            if not claimed:
                return 0
            endpoints = await repository.endpoints_by_id(session, {d.endpoint_id for d in claimed})
            messages = await repository.messages_by_id(session, {d.message_id for d in claimed})
            await session.commit()
        outcomes = await asyncio.gather(
            *(
                self._attempt(
                    d,
                    endpoints.get(d.endpoint_id),
                    messages.get(d.message_id) if d.message_id is not None else None,
                )
                for d in claimed
            )
        )
        async with self.sessions() as session:
            for outcome in outcomes:
                await self._record(session, outcome)
            await session.commit()
        return len(claimed)

    async def _attempt(
        self,
        delivery: CallbackDelivery,
        endpoint: CallbackEndpoint | None,
        message: Message | None,
    ) -> Outcome:
        if endpoint is None or (delivery.event is None and message is None):
            return Outcome(delivery, status=204)  # deleted meanwhile: nothing to tell
        async with self._slots:
            try:  # anything this attempt raises is its own outcome, never the batch's
                # A template's event was written down with its change; a message's is read now.
                event = delivery.event or event_body(delivery, message, self.message_data)
                body = orjson.dumps(event)
                # Signed once a slot is free: webhook-timestamp is when the attempt leaves.
                now = self.clock.now()
                secrets = signing.secrets_in_force(endpoint, self.cipher, now)
                signed = signing.signed_headers(event["id"], now, body, secrets)
                target = await urls.check(endpoint.url, self.allow_loopback)
                request = _pinned_request(target, body, signed, delivery, self.timeout_seconds)
                request.headers["X-Herald-Event"] = str(event["type"])
                answer = await self.http.send(request)
                await answer.aclose()
            except urls.CallbackUrlRefused as refused:
                broken = isinstance(refused, urls.MalformedCallbackUrl)
                return Outcome(delivery, error=refused.message, broken=broken)
            except httpx.HTTPError as exc:
                return Outcome(delivery, error=type(exc).__name__)
            except Exception as exc:  # one delivery's failure must not cost the batch its outcomes
                failure = type(exc).__name__
                log.warning("callback.attempt_failed", delivery_id=delivery.id, error=failure)
                return Outcome(delivery, error=f"internal error ({failure})", broken=True)
        return Outcome(delivery, status=answer.status_code)

    async def _record(self, session: AsyncSession, outcome: Outcome) -> None:
        delivery, now = outcome.delivery, self.clock.now()
        delivered: bool | None = True if outcome.ok else None
        retry_at = now
        if not outcome.ok:
            mean = min(BACKOFF_CAP_SECONDS, self.retry_base_seconds * 2**delivery.attempts)
            retry_at = now + timedelta(seconds=mean * self.rng.uniform(0.5, 1.5))
            if outcome.broken:
                ITEM_FAILURES.labels("callbacks").inc()
            broken_for_good = outcome.broken and delivery.attempts + 1 >= MAX_BROKEN_ATTEMPTS
            if broken_for_good or retry_at > delivery.created_at + RETRY_FOR:
                delivered = False
                SET_ASIDE.labels("callbacks").inc()
                log.warning(
                    "callback.given_up",
                    delivery_id=delivery.id,
                    endpoint_id=delivery.endpoint_id,
                    attempts=delivery.attempts + 1,
                )
        CALLBACKS.labels({True: "delivered", False: "given_up", None: "retry"}[delivered]).inc()
        await repository.finish(
            session,
            delivery.id,
            now=now,
            delivered=delivered,
            next_attempt_at=retry_at,
            status=outcome.status,
            error=outcome.error,
        )


def _pinned_request(
    target: urls.Target,
    body: bytes,
    signed: Mapping[str, str],
    delivery: CallbackDelivery,
    timeout: float,
) -> httpx.Request:
    """A request to the address that was checked, with the name kept for Host and TLS."""
    url = httpx.URL(target.url)
    address = str(target.address)
    pinned = url.copy_with(host=address)
    headers = {
        "Host": url.netloc.decode("ascii"),
        "Content-Type": "application/json",
        "User-Agent": "Herald-Callbacks/1",
        "X-Herald-Delivery": str(delivery.id),
        **signed,
    }
    extensions = {"sni_hostname": target.host} if url.scheme == "https" else {}
    extensions["timeout"] = {  # type: ignore[assignment]
        "connect": timeout,
        "read": timeout,
        "write": timeout,
        "pool": timeout,
    }
    return httpx.Request("POST", pinned, headers=headers, content=body, extensions=extensions)


def new_http_client() -> httpx.AsyncClient:
    # Redirects are failures: following one could lead anywhere, past the address checks.
    return httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False, verify=client_tls())
