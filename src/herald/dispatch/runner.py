"""One channel's sender: claims its due messages and sends them paced at its throughput."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import structlog

from herald.channel import health as channel_health
from herald.channel import repository as channels
from herald.channel import service as channel_service
from herald.dispatch import repository, results
from herald.dispatch.deps import DispatchDeps
from herald.dispatch.effects import forget_lost_media
from herald.dispatch.outbound import count_results, send_one
from herald.dispatch.pacer import Pacer
from herald.dispatch.recorder import Recorder
from herald.dispatch.results import SendResult
from herald.dispatch.template_holds import TemplateHolds
from herald.kit.tasks import to_the_end
from herald.media.provider_copies import HeaderOrError
from herald.models import Channel, Message
from herald.models.message import BULK, TRANSACTIONAL
from herald.provider.base import ChannelAccess, ErrorKind, ProviderError

log = structlog.get_logger("herald.dispatch")


MIN_CHUNK = 12
CLAIM_AHEAD_SECONDS = 0.25


_Claimed = tuple[Channel, str, list[Message]]  # the channel as read, the claim's token, its rows


@dataclass
class _Chunk:
    """Messages of one claim (``token``), marked in flight together and sent together."""

    channel: Channel
    access: ChannelAccess
    token: str
    messages: list[Message]
    headers: dict[int, HeaderOrError] = field(default_factory=dict)

    @cached_property  # asked twice for every message
    def claim(self) -> int:
        """The claim's number, from its token (``owner:number``)."""
        return int(self.token.rsplit(":", 1)[1])


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
        # Marked in flight, not sent: the chunk prepared next and, once stopping, the rest of
        # the chunk being paced (claim token, message ids).
        self._unsent: list[tuple[str, list[int]]] = []
        self._marking: asyncio.Future[set[int]] | None = None
        self._claiming: asyncio.Future[tuple[str, list[Message]]] | None = None
        self.holds = TemplateHolds(deps.provider)
        self._claim_count = 0  # the number of the last claim (its token's suffix)
        self.recorder = Recorder(deps, self.holds, lambda: self._claim_count)
        # claim token → the wake event's count when the claim began: sends accepted after it
        # may be missing from the batch (see _chunks).
        self._wakes_at_claim: dict[str, int] = {}

    async def run(self) -> None:
        """Send until nothing has been due for ``idle_seconds``, then return."""
        chunks = self._chunks()
        preparing = asyncio.create_task(self._prepare(chunks))
        answering: asyncio.Task[None] | None = None
        chunk: _Chunk | None = None
        requests: list[asyncio.Task[SendResult]] = []  # of the chunk being paced
        try:
            while (chunk := await preparing) is not None:
                self._unsent.clear()
                preparing = asyncio.create_task(self._prepare(chunks))
                await self._pace(chunk, requests)
                # The next chunk's slots start while this one's answers come in: waiting for
                # the slowest answer of each chunk left the pacer behind by more than it may
                # catch up (a fifth of the time at 1,000/s). But one chunk's answers at a
                # time: with more requests outstanding, a provider that slows down receives
                # them in bursts (three chunks outstanding drew 15-39 130429s at 1,000/s).
                if answering is not None:
                    await asyncio.shield(answering)  # stopping must not cancel the answers
                answering = asyncio.create_task(self._answers(chunk, requests))
                requests = []
        finally:

            async def stop() -> None:
                preparing.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await preparing
                if self._marking is not None:
                    with contextlib.suppress(Exception):
                        await self._marking
                await self._give_back_unsent()
                await chunks.aclose()
                # What was sent is recorded, even when stopping (in the middle of a chunk too).
                if answering is not None:
                    await answering
                if chunk is not None and requests:
                    await self._answers(chunk, requests)
                await self.recorder.finish()

            await to_the_end(stop())

    async def _chunks(self) -> AsyncGenerator[_Chunk, None]:
        """Chunks to send, claimed a batch (``claim_seconds`` of sending) at a time; ends when
        nothing has been due for ``idle_seconds`` or the channel is gone. The next batch is
        claimed while the last ``CLAIM_AHEAD_SECONDS`` of this one go out: a claim takes tens of
        milliseconds, more than the pacer may catch up, and was a gap in every second's sending."""
        idle_since = time.monotonic()
        ahead: asyncio.Task[_Claimed | None] | None = None
        batch: list[Message] = []
        token = ""
        try:
            while time.monotonic() - idle_since < self.deps.settings.idle_seconds:
                claimed = await (ahead if ahead is not None else self._claim_due())
                ahead = None
                if claimed is None:
                    return
                channel, token, batch = claimed
                # Wake-ups since this batch's claim began (it may have been claimed ahead).
                wakes = self._wakes_at_claim.pop(token, self.deps.wake.count)
                if not batch:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self.deps.wake.wait(), self.deps.settings.poll_seconds
                        )
                    continue
                access = channel_service.access(channel, self.deps.cipher)
                # About 25 ms of sending (two chunks are marked in flight at a time: a crash
                # leaves at most ``chunk`` * 2 unsent with an unknown outcome), but at least
                # ``MIN_CHUNK``: at 50/s, chunks of 5 paid a transaction each a tenth of a
                # second per channel, and twenty such channels' commits kept two workers'
                # channels waiting on them (bench channels: worst channel 10-20% off its rate
                # with 5, 3.5-7% with 12; still under the 50 a crash may leave at 1,000/s).
                size = min(
                    self.deps.settings.chunk, max(MIN_CHUNK, channel.throughput_per_second // 40)
                )
                lead = CLAIM_AHEAD_SECONDS * channel.throughput_per_second
                # The chunks are cut before the loop: ``batch`` grows by the transactional sends
                # claimed meanwhile (to be given back with it), which go out in chunks of their
                # own and must not come again at the batch's tail.
                claimed_count = len(batch)
                for start in range(0, claimed_count, size):
                    if time.monotonic() < self._paused_until:
                        # The credentials were refused (during this batch, or before a batch
                        # claimed ahead came in): the rest goes back to the queue, in its
                        # place, rather than fail too; the next claim waits for the pause.
                        await self._give_back_claimed({token: [m.id for m in batch[start:]]})
                        break
                    if self.deps.wake.count != wakes:
                        # Sends were accepted meanwhile: transactional ones go before the rest
                        # of this batch, not after it (a batch is a second of sending or more).
                        wakes = self.deps.wake.count
                        urgent = await self._claim_transactional(channel, token)
                        batch.extend(urgent)  # given back with the batch if the runner stops
                        for first in range(0, len(urgent), size):
                            yield _Chunk(channel, access, token, urgent[first : first + size])
                    if ahead is None and claimed_count - start <= lead:
                        ahead = asyncio.create_task(self._claim_due())
                    end = min(start + size, claimed_count)
                    yield _Chunk(channel, access, token, batch[start:end])
                idle_since = time.monotonic()
        finally:
            # Claimed but never marked in flight (the runner stops): back in the queue at once,
            # in their place, rather than when the lease runs out. Rows in flight stay as they are.
            unsent = {token: [m.id for m in batch]}
            if ahead is not None:
                ahead.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await ahead
            if self._claiming is not None:
                with contextlib.suppress(Exception):
                    last_token, last_batch = await self._claiming
                    unsent[last_token] = [m.id for m in last_batch]
            await self._give_back_claimed(unsent)

    async def _claim_due(self) -> _Claimed | None:
        """The channel as it is now and a claim of its due messages (None: it is gone)."""
        channel = await self._channel()
        while channel is not None and time.monotonic() < self._paused_until:
            await asyncio.sleep(min(1.0, self._paused_until - time.monotonic()))
            channel = await self._channel()
        if channel is None:
            return None
        self.pacer.set_rate(channel.throughput_per_second)
        if channel_health.sending_hold(channel, self.deps.clock.now()) is not None:
            # Restricted or banned meanwhile: nothing is claimed, the messages stay queued
            # (the dispatcher starts no runner for it until it may send again).
            return channel, "", []
        # Shielded like the mark: a stopping runner gives back what a claim under way took.
        self._claiming = asyncio.ensure_future(self._claim(channel))
        token, batch = await asyncio.shield(self._claiming)
        return channel, token, batch

    async def _channel(self) -> Channel | None:
        async with self.deps.sessions() as session:
            return await channels.get(session, self.channel_id)

    async def _give_back_claimed(self, unsent: dict[str, list[int]]) -> None:
        if not any(unsent.values()):
            return
        now = self.deps.clock.now()
        try:
            async with self.deps.sessions() as session:
                for token, ids in unsent.items():
                    if ids:
                        await repository.requeue(session, ids, token, None, now)
                await session.commit()
        except Exception as exc:
            log.warning("dispatch.claimed_left_leased", channel_id=self.channel_id, error=repr(exc))

    async def _claim(self, channel: Channel) -> tuple[str, list[Message]]:
        """Transactional sends first; the rest shared evenly between the due campaigns."""
        settings = self.deps.settings
        capacity = max(1, int(channel.throughput_per_second * settings.claim_seconds))
        now = self.deps.clock.now()
        # A token per claim: rows of an older claim whose lease ran out are never sent by it.
        self._claim_count = next(self._claims)
        token = f"{self.owner}:{self._claim_count}"
        self._wakes_at_claim[token] = self.deps.wake.count
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

    async def _claim_transactional(self, channel: Channel, token: str) -> list[Message]:
        """Transactional sends due now, under the current claim's token."""
        capacity = max(1, int(channel.throughput_per_second * self.deps.settings.claim_seconds))
        async with self.deps.sessions() as session:
            urgent = await repository.claim(
                session,
                self.channel_id,
                token,
                capacity,
                self.deps.clock.now(),
                self.deps.settings.lease,
                TRANSACTIONAL,
            )
            await session.commit()
        return list(urgent)

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
            # Shielded, and awaited by a stopping runner before it gives back what is unsent:
            # a stop in the middle of the commit must not leave rows marked and forgotten.
            self._marking = asyncio.ensure_future(self._mark(chunk))
            marked = await asyncio.shield(self._marking)
            for message in chunk.messages:
                if message.id not in marked:  # it went back to the queue
                    self._last_sent.pop(message.phone_number, None)
            chunk.messages = [m for m in chunk.messages if m.id in marked]
            if chunk.messages:
                return chunk

    async def _mark(self, chunk: _Chunk) -> set[int]:
        async with self.deps.sessions() as session:
            marked = await repository.mark_in_flight(
                session,
                [m.id for m in chunk.messages],
                chunk.token,
                self.deps.clock.now(),
                self.deps.settings.lease,
            )
            await session.commit()
            self._unsent.append((chunk.token, list(marked)))
        return marked

    async def _give_back_unsent(self) -> None:
        """The runner stops with messages marked but never sent: back to the queue. If that
        fails too (the database is away), the reaper settles them as a crash would."""
        unsent, self._unsent = self._unsent, []
        if not unsent:
            return
        try:
            async with self.deps.sessions() as session:
                for token, ids in unsent:
                    await repository.unmark(session, ids, token, self.deps.clock.now())
                await session.commit()
        except Exception as exc:
            log.warning(
                "dispatch.unsent_left_in_flight",
                channel_id=self.channel_id,
                count=sum(len(ids) for _, ids in unsent),
                error=repr(exc),
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

    async def _pace(self, chunk: _Chunk, requests: list[asyncio.Task[SendResult]]) -> None:
        """Start each of the chunk's requests at its slot, into ``requests``."""
        for position, message in enumerate(chunk.messages):
            header = chunk.headers.get(message.header_media_id or 0)
            held = self.holds.held(message, chunk.claim)
            sending = send_one(self.deps, self.holds, chunk.access, chunk.claim, message, header)
            if isinstance(header, ProviderError) or held is not None:
                self._last_sent.pop(message.phone_number, None)  # nothing goes out
            else:
                try:
                    await self.pacer.slot()
                except asyncio.CancelledError:  # stopping: the rest never left, give it back
                    sending.close()
                    self._unsent.append((chunk.token, [m.id for m in chunk.messages[position:]]))
                    raise
                self._last_sent[message.phone_number] = time.monotonic()
                sending = self._leaving(sending)
            requests.append(asyncio.create_task(sending))

    async def _leaving(self, sending: Coroutine[None, None, SendResult]) -> SendResult:
        self.pacer.left()  # when it starts: a stalled loop must not start the next with it
        return await sending

    async def _answers(self, chunk: _Chunk, requests: list[asyncio.Task[SendResult]]) -> None:
        """The chunk's answers, acted on and queued for recording."""
        sent = list(await asyncio.gather(*requests))
        await forget_lost_media(self.deps.media, chunk.access, sent)
        self._results_in(chunk, sent)
        await self.recorder.keep_up()

    def _results_in(self, chunk: _Chunk, sent: list[SendResult]) -> None:
        """Act on a chunk's answers now (the pacer's hold, an auth pause), and queue them for
        recording."""
        planned = results.plan(sent, self.deps.settings.retry, self.deps.rng)
        self._react(chunk.channel, planned)
        self.recorder.add(chunk.channel, planned)

    def _react(self, channel: Channel, planned: results.Planned) -> None:
        count_results(channel.id, planned.decisions)
        for result, decision in planned.decisions:
            if decision.slow_sender:
                self.pacer.hold(1.0)
            if result.error is not None and result.error.kind is ErrorKind.AUTH:
                self._paused_until = time.monotonic() + 60
                log.error(
                    "channel.auth_failed", channel_id=channel.id, provider_code=result.error.code
                )
