"""One channel's sender: claims its due messages and sends them paced at its throughput."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.callback.repository import record_states
from herald.channel import repository as channels
from herald.channel import service as channel_service
from herald.dispatch import repository, results
from herald.dispatch.effects import apply_side_effects
from herald.dispatch.pacer import Pacer
from herald.dispatch.policy import Decision, Outcome, RetryPolicy
from herald.dispatch.results import SendResult
from herald.kit.clock import Clock
from herald.kit.crypto import Cipher
from herald.kit.metrics import MESSAGES, PROVIDER_ERRORS, PROVIDER_SENDS
from herald.media.provider_copies import HeaderOrError, ProviderCopies
from herald.models import Channel, Message
from herald.models.message import BULK, TRANSACTIONAL
from herald.provider.base import (
    ButtonValue,
    ChannelAccess,
    ErrorKind,
    HeaderMedia,
    OutboundMessage,
    Provider,
    ProviderError,
)

log = structlog.get_logger("herald.dispatch")


@dataclass
class DispatchSettings:
    claim_seconds: float = 1.0  # claim about this many seconds of sending at a time
    # Messages marked in flight per commit, at most: a crash leaves at most this many with an
    # unknown outcome. Sized to ~50 ms of sending (at least 1, at most 50).
    chunk: int = 50
    lease: timedelta = timedelta(seconds=60)
    pair_spacing: timedelta = timedelta(seconds=6)
    idle_seconds: float = 5.0  # a runner with nothing due for this long lets its channel go
    poll_seconds: float = 0.5
    unknown_outcome_deadline: timedelta = timedelta(hours=1)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass
class DispatchDeps:
    sessions: async_sessionmaker[AsyncSession]
    provider: Provider
    cipher: Cipher
    clock: Clock
    settings: DispatchSettings
    wake: asyncio.Event
    media: ProviderCopies
    rng: random.Random = field(default_factory=random.Random)


MIN_CHUNK = 5


class ChannelRunner:
    def __init__(self, deps: DispatchDeps, channel_id: int, owner: str) -> None:
        self.deps = deps
        self.channel_id = channel_id
        self.owner = owner
        self.pacer = Pacer(80)
        self._last_sent: dict[str, float] = {}  # recipient → monotonic time (pair spacing)
        self._paused_until = 0.0
        self._claims = itertools.count(1)
        self._lease_token = owner

    async def run(self) -> None:
        """Send until nothing has been due for ``idle_seconds``, then return."""
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < self.deps.settings.idle_seconds:
            channel = await self._channel()
            if channel is None:
                return
            self.pacer.set_rate(channel.throughput_per_second)
            if time.monotonic() < self._paused_until:
                await asyncio.sleep(min(1.0, self._paused_until - time.monotonic()))
                continue
            batch = await self._claim(channel)
            if batch:
                await self._send(channel, batch)
                idle_since = time.monotonic()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.deps.wake.wait(), self.deps.settings.poll_seconds)

    async def _channel(self) -> Channel | None:
        async with self.deps.sessions() as session:
            return await channels.get(session, self.channel_id)

    async def _claim(self, channel: Channel) -> list[Message]:
        """Transactional sends first; the rest shared evenly between the due campaigns."""
        settings = self.deps.settings
        capacity = max(1, int(channel.throughput_per_second * settings.claim_seconds))
        now = self.deps.clock.now()
        # A token per claim: rows of an older claim whose lease ran out are never sent by it.
        self._lease_token = f"{self.owner}:{next(self._claims)}"
        async with self.deps.sessions() as session:
            batch = list(
                await repository.claim(
                    session,
                    self.channel_id,
                    self._lease_token,
                    capacity,
                    now,
                    settings.lease,
                    TRANSACTIONAL,
                )
            )
            groups = await repository.due_bulk_groups(session, self.channel_id, now)
            remaining = capacity - len(batch)
            for position, group in enumerate(groups):
                share = max(1, remaining // (len(groups) - position))
                claimed = await repository.claim(
                    session,
                    self.channel_id,
                    self._lease_token,
                    min(share, remaining),
                    now,
                    settings.lease,
                    BULK,
                    group,
                )
                batch.extend(claimed)
                remaining -= len(claimed)
                if remaining <= 0:
                    break
            await session.commit()
        return batch

    async def _send(self, channel: Channel, batch: list[Message]) -> None:
        access = channel_service.access(channel, self.deps.cipher)
        # About 50 ms of sending, but at least a few messages: at a low rate, a chunk of one
        # would pay two commits per message and fall behind the channel's throughput.
        chunk_size = min(
            self.deps.settings.chunk, max(MIN_CHUNK, channel.throughput_per_second // 20)
        )
        token = self._lease_token
        for start in range(0, len(batch), chunk_size):
            chunk = await self._space_recipients(batch[start : start + chunk_size])
            if not chunk:
                continue
            # Header files go up before the messages are marked in flight: an upload that takes
            # a while must not turn into "outcome unknown" if the process dies meanwhile.
            headers = await self.deps.media.resolve(
                access, (m.header_media_id for m in chunk if m.header_media_id is not None)
            )
            async with self.deps.sessions() as session:
                marked = await repository.mark_in_flight(
                    session,
                    [m.id for m in chunk],
                    token,
                    self.deps.clock.now(),
                    self.deps.settings.lease,
                )
                await session.commit()
            chunk = [m for m in chunk if m.id in marked]  # the rest went back to the queue
            tasks = []
            for message in chunk:
                header = headers.get(message.header_media_id or 0)
                if not isinstance(header, ProviderError):
                    await self.pacer.slot()
                    self._last_sent[message.phone_number] = time.monotonic()
                tasks.append(asyncio.create_task(self._send_one(access, message, header)))
            sent = list(await asyncio.gather(*tasks))
            await self._forget_lost_media(access, sent)
            await self._record(channel, sent)

    async def _space_recipients(self, chunk: Sequence[Message]) -> list[Message]:
        """Hold back messages to a recipient messaged less than the pair spacing ago."""
        spacing = self.deps.settings.pair_spacing.total_seconds()
        now = time.monotonic()
        ready, later = [], []
        seen: set[str] = set()
        for message in chunk:
            last = self._last_sent.get(message.phone_number)
            if message.phone_number in seen or (last is not None and now - last < spacing):
                later.append(message)
            else:
                ready.append(message)
                seen.add(message.phone_number)
        if later:
            now_utc = self.deps.clock.now()
            retry_at = now_utc + self.deps.settings.pair_spacing
            async with self.deps.sessions() as session:
                await repository.requeue(
                    session, [m.id for m in later], self._lease_token, retry_at, now_utc
                )
                await session.commit()
        if len(self._last_sent) > 100_000:
            self._last_sent = {k: v for k, v in self._last_sent.items() if now - v < spacing}
        return ready

    async def _send_one(
        self, access: ChannelAccess, message: Message, header: HeaderOrError | None
    ) -> SendResult:
        started = self.deps.clock.now()
        if isinstance(header, ProviderError):  # its file could not be made available
            return SendResult(message, started, started, error=header)
        try:
            receipt = await self.deps.provider.send_template(access, outbound(message, header))
            return SendResult(message, started, self.deps.clock.now(), receipt=receipt)
        except ProviderError as error:
            return SendResult(message, started, self.deps.clock.now(), error=error)

    async def _forget_lost_media(self, access: ChannelAccess, sent: list[SendResult]) -> None:
        lost = {
            r.message.header_media_id
            for r in sent
            if r.error is not None
            and r.error.kind is ErrorKind.MEDIA_GONE
            and r.message.header_media_id is not None
        }
        for media_id in lost:
            await self.deps.media.forget(access, media_id)

    async def _record(self, channel: Channel, sent: list[SendResult]) -> None:
        planned = results.plan(sent, self.deps.settings.retry, self.deps.rng)
        async with self.deps.sessions() as session:
            await results.apply(session, planned)
            await apply_side_effects(session, channel, planned.decisions, self.deps.clock.now())
            await record_states(session, planned.changed_ids(), self.deps.clock.now())
            await session.commit()
        for result, decision in planned.decisions:
            _count(channel.id, result, decision)
            if decision.slow_sender:
                self.pacer.hold(1.0)
            if result.error is not None and result.error.kind is ErrorKind.AUTH:
                self._paused_until = time.monotonic() + 60
                log.error(
                    "channel.auth_failed", channel_id=channel.id, provider_code=result.error.code
                )


def outbound(message: Message, header: HeaderMedia | None = None) -> OutboundMessage:
    content = message.content
    return OutboundMessage(
        to=message.phone_number,
        template_name=message.template_name,
        language=message.template_language,
        callback_data=str(message.id),
        body_params=tuple(content.get("body_params") or ()),
        buttons=tuple(
            ButtonValue(int(b["index"]), str(b["sub_type"]), str(b["value"]))
            for b in content.get("buttons") or ()
        ),
        header=header,
        otp_code=content.get("otp_code"),
    )


def _count(channel_id: int, result: SendResult, decision: Decision) -> None:
    channel = str(channel_id)
    if result.error is None:
        PROVIDER_SENDS.labels(channel, "accepted").inc()
        MESSAGES.labels("sent").inc()
        return
    PROVIDER_SENDS.labels(channel, result.error.kind.value).inc()
    PROVIDER_ERRORS.labels(channel, str(result.error.code or result.error.kind.value)).inc()
    if decision.outcome is Outcome.FAILED:
        MESSAGES.labels("failed").inc()
