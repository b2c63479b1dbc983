"""One channel's sender: claims its due messages and sends them paced at its throughput."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
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
    # Messages marked in flight per commit, at most; two chunks are in flight at a time (one
    # sending, the next marked), so a crash leaves at most twice this many with an unknown
    # outcome. Sized to ~25 ms of sending (at least MIN_CHUNK, at most 25).
    chunk: int = 25
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
MAX_UNRECORDED = 2  # chunks' results waiting for the recording under way


@dataclass
class _Chunk:
    """Messages of one claim (``token``), marked in flight together and sent together."""

    channel: Channel
    access: ChannelAccess
    token: str
    messages: list[Message]
    headers: dict[int, HeaderOrError] = field(default_factory=dict)


class ChannelRunner:
    """Sends as a pipeline: while one chunk goes out at the pacer's slots, the next chunk is
    claimed and marked in flight and the previous one's results are recorded. A commit that
    waits (behind another writer, on SQLite in the busy handler's sleeps) then overlaps the
    sending instead of stopping it: the pacer may catch up only a few sends, so every wait in
    between chunks used to be lost from the channel's rate."""

    def __init__(self, deps: DispatchDeps, channel_id: int, owner: str) -> None:
        self.deps = deps
        self.channel_id = channel_id
        self.owner = owner
        self.pacer = Pacer(80)
        # recipient → monotonic time of the last send (pair spacing); ``inf`` while a message
        # to them is marked but not yet sent, so the chunk prepared meanwhile holds them back.
        self._last_sent: dict[str, float] = {}
        self._paused_until = 0.0
        self._claims = itertools.count(1)
        self._unrecorded: list[results.Planned] = []
        self._recording: asyncio.Task[None] | None = None
        self._unsent: tuple[str, list[int]] | None = None  # marked in flight, not yet sending

    async def run(self) -> None:
        """Send until nothing has been due for ``idle_seconds``, then return."""
        chunks = self._chunks()
        preparing = asyncio.create_task(self._prepare(chunks))
        try:
            while (chunk := await preparing) is not None:
                self._unsent = None
                preparing = asyncio.create_task(self._prepare(chunks))
                self._results_in(chunk, await self._send_chunk(chunk))
                if self._recording is not None and len(self._unrecorded) >= MAX_UNRECORDED:
                    # The database is slower than the sending: wait for it rather than let
                    # the results pile up unrecorded until their leases run out.
                    await asyncio.wait([self._recording])
        finally:
            preparing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await preparing
            await self._give_back_unsent()
            await chunks.aclose()
            if self._recording is not None:  # what was sent is recorded, even when stopping
                await self._recording

    async def _chunks(self) -> AsyncGenerator[_Chunk, None]:
        """Chunks to send, claimed a batch (``claim_seconds`` of sending) at a time; ends when
        nothing has been due for ``idle_seconds`` or the channel is gone."""
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < self.deps.settings.idle_seconds:
            channel = await self._channel()
            if channel is None:
                return
            self.pacer.set_rate(channel.throughput_per_second)
            if time.monotonic() < self._paused_until:
                await asyncio.sleep(min(1.0, self._paused_until - time.monotonic()))
                continue
            token, batch = await self._claim(channel)
            if not batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.deps.wake.wait(), self.deps.settings.poll_seconds)
                continue
            access = channel_service.access(channel, self.deps.cipher)
            # About 25 ms of sending (two chunks are marked in flight at a time: a crash
            # leaves at most ``chunk`` * 2 unsent with an unknown outcome), but at least a
            # few messages: a chunk of one would pay two commits per message.
            size = min(
                self.deps.settings.chunk, max(MIN_CHUNK, channel.throughput_per_second // 40)
            )
            for start in range(0, len(batch), size):
                yield _Chunk(channel, access, token, batch[start : start + size])
            idle_since = time.monotonic()

    async def _channel(self) -> Channel | None:
        async with self.deps.sessions() as session:
            return await channels.get(session, self.channel_id)

    async def _claim(self, channel: Channel) -> tuple[str, list[Message]]:
        """Transactional sends first; the rest shared evenly between the due campaigns."""
        settings = self.deps.settings
        capacity = max(1, int(channel.throughput_per_second * settings.claim_seconds))
        now = self.deps.clock.now()
        # A token per claim: rows of an older claim whose lease ran out are never sent by it.
        token = f"{self.owner}:{next(self._claims)}"
        async with self.deps.sessions() as session:
            batch = list(
                await repository.claim(
                    session,
                    self.channel_id,
                    token,
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
                    token,
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
        return token, batch

    async def _prepare(self, chunks: AsyncIterator[_Chunk]) -> _Chunk | None:
        """The next chunk, marked in flight and ready to send (None: the runner is done)."""
        while True:
            chunk = await anext(chunks, None)
            if chunk is None:
                return None
            chunk.messages = await self._space_recipients(chunk.token, chunk.messages)
            if not chunk.messages:
                continue
            # Header files go up before the messages are marked in flight: an upload that takes
            # a while must not turn into "outcome unknown" if the process dies meanwhile.
            chunk.headers = await self.deps.media.resolve(
                chunk.access,
                (m.header_media_id for m in chunk.messages if m.header_media_id is not None),
            )
            async with self.deps.sessions() as session:
                marked = await repository.mark_in_flight(
                    session,
                    [m.id for m in chunk.messages],
                    chunk.token,
                    self.deps.clock.now(),
                    self.deps.settings.lease,
                )
                await session.commit()
                self._unsent = (chunk.token, list(marked))
            for message in chunk.messages:
                if message.id not in marked:  # it went back to the queue
                    self._last_sent.pop(message.phone_number, None)
            chunk.messages = [m for m in chunk.messages if m.id in marked]
            if chunk.messages:
                return chunk

    async def _give_back_unsent(self) -> None:
        """The runner stops with a chunk marked but never sent: back to the queue. If that
        fails too (the database is away), the reaper settles them as a crash would."""
        if self._unsent is None:
            return
        (token, ids), self._unsent = self._unsent, None
        try:
            async with self.deps.sessions() as session:
                await repository.unmark(session, ids, token, self.deps.clock.now())
                await session.commit()
        except Exception:
            log.warning(
                "dispatch.unsent_left_in_flight", channel_id=self.channel_id, count=len(ids)
            )

    async def _space_recipients(self, token: str, chunk: Sequence[Message]) -> list[Message]:
        """Hold back messages to a recipient messaged less than the pair spacing ago (or
        about to be, by the chunk being sent)."""
        spacing = self.deps.settings.pair_spacing.total_seconds()
        now = time.monotonic()
        ready, later = [], []
        for message in chunk:
            last = self._last_sent.get(message.phone_number)
            if last is not None and now - last < spacing:  # ``inf`` (being sent) included
                later.append(message)
            else:
                ready.append(message)
                self._last_sent[message.phone_number] = math.inf
        if later:
            now_utc = self.deps.clock.now()
            retry_at = now_utc + self.deps.settings.pair_spacing
            async with self.deps.sessions() as session:
                await repository.requeue(session, [m.id for m in later], token, retry_at, now_utc)
                await session.commit()
        if len(self._last_sent) > 100_000:
            self._last_sent = {k: v for k, v in self._last_sent.items() if now - v < spacing}
        return ready

    async def _send_chunk(self, chunk: _Chunk) -> list[SendResult]:
        tasks = []
        for message in chunk.messages:
            header = chunk.headers.get(message.header_media_id or 0)
            if isinstance(header, ProviderError):
                self._last_sent.pop(message.phone_number, None)  # nothing goes out
            else:
                await self.pacer.slot()
                self._last_sent[message.phone_number] = time.monotonic()
            tasks.append(asyncio.create_task(self._send_one(chunk.access, message, header)))
        sent = list(await asyncio.gather(*tasks))
        await self._forget_lost_media(chunk.access, sent)
        return sent

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

    def _results_in(self, chunk: _Chunk, sent: list[SendResult]) -> None:
        """Act on a chunk's answers now (the pacer's hold, an auth pause), and queue them for
        recording: one transaction at a time records whatever came in since the last began,
        so a slow commit means fewer, larger ones rather than a stalled sender."""
        planned = results.plan(sent, self.deps.settings.retry, self.deps.rng)
        self._react(chunk.channel, planned)
        self._unrecorded.append(planned)
        if self._recording is None or self._recording.done():
            if self._recording is not None:
                self._recording.result()  # a recording that failed stops the runner
            self._recording = asyncio.create_task(self._record_pending(chunk.channel))

    async def _record_pending(self, channel: Channel) -> None:
        while self._unrecorded:
            pending, self._unrecorded = self._unrecorded, []
            planned = results.combined(pending)
            async with self.deps.sessions() as session:
                await results.apply(session, planned)
                now = self.deps.clock.now()
                await apply_side_effects(session, channel, planned.decisions, now)
                await record_states(session, planned.changed_ids(), now)
                await session.commit()

    def _react(self, channel: Channel, planned: results.Planned) -> None:
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
