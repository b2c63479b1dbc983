"""Group commit for single sends: every send that arrives while the previous batch is being
written is stored with one opt-out query, one multi-row INSERT, one total per user and one
commit (``kit/group_commit.py``).

A send's own statements were most of its cost (py-spy: SQLAlchemy's unit of work, compiling
and result processing over the opt-out check, the INSERT, the total and the COMMIT), and a
commit each made the database's commit rate a limit. Each request still answers only after
its batch committed (a 202 is a committed row), and with no load a batch is that one send: no
timer, no added wait.

The batch's transaction also reads the state of its users, templates and users' channels (the
senders were chosen among them), so a send authorised
or drafted from what this process remembered (``intake_cache``) is stored only if that still
holds at its commit; the others are answered Stale and drafted again from the database.

A batch that fails before its COMMIT is written again one send per transaction, so one send
whose template or channel was deleted meanwhile (a foreign key refuses its row) fails alone,
with a 4xx.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.channel.senders import UserChannels
from herald.channel.service import ChannelMissing
from herald.errors import ServiceUnavailable, database_unavailable
from herald.kit.group_commit import GroupCommit, Pending
from herald.message import intake_repository as repository
from herald.message import limit
from herald.message.intake_cache import Checks, IntakeCache, Stale
from herald.message.validation import RecipientOptedOut
from herald.template.service import TemplateNotFound

# Rows of one INSERT: 21 parameters each, under SQLite's 32,766 and asyncpg's 32,767.
MAX_BATCH = 500


class _CommitFailed(Exception):
    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


@dataclass(frozen=True, slots=True)
class _Send:
    row: dict[str, Any]
    checks: Checks

    @property
    def recipient(self) -> tuple[int, str]:
        return self.row["user_id"], self.row["phone_number"]


_Pending = Pending[_Send, int]


class SendBatcher:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], cache: IntakeCache) -> None:
        self._sessions = sessions
        self._cache = cache
        self._batches: GroupCommit[_Send, int] = GroupCommit(self._write_batch, MAX_BATCH)

    async def store(self, row: dict[str, Any], checks: Checks) -> int:
        """Store one message row (``service.new_row``) and return its id once committed.

        Raises Stale when ``checks`` no longer hold at the batch's transaction,
        RecipientOptedOut, or the database's failure (a 503 when it is down).
        """
        return await self._batches.submit(_Send(row, checks))

    async def _write_batch(self, batch: Sequence[_Pending]) -> None:
        try:
            await self._write(batch)
        except _CommitFailed as failure:
            # The batch may have committed (a connection lost during COMMIT): writing it
            # again could store a message twice, so each request fails (503, retryable).
            for send in batch:
                await self._fail(send, failure.cause)
        except Exception as failure:
            if len(batch) == 1 or database_unavailable(failure):
                for send in batch:
                    await self._fail(send, failure)
                return
            # Nothing was committed, and one send's row may be what failed the batch: each
            # alone, so that only that one fails.
            for send in batch:
                try:
                    await self._write([send])
                except _CommitFailed as alone:
                    await self._fail(send, alone.cause)
                except Exception as alone:
                    await self._fail(send, alone)

    async def _write(self, batch: Sequence[_Pending]) -> None:
        async with self._sessions() as session:
            current, channels = await self._current(session, batch)
            refused = await repository.opted_out(session, [s.item.recipient for s in current])
            kept = [s for s in current if s.item.recipient not in refused]
            await self._hold_excess(session, kept, channels)
            ids = await repository.insert_rows(session, [s.item.row for s in kept]) if kept else []
            await repository.add_to_totals(session, Counter(s.item.row["user_id"] for s in kept))
            try:
                await session.commit()
            except Exception as failure:
                raise _CommitFailed(failure) from failure
        verified = set(current)
        for send in batch:
            if send.done:
                continue
            if send not in verified:
                send.fail(Stale())
            elif send.item.recipient in refused:
                send.fail(RecipientOptedOut())
        for send, message_id in zip(kept, ids, strict=True):
            send.answer(message_id)

    async def _current(
        self, session: AsyncSession, batch: Sequence[_Pending]
    ) -> tuple[list[_Pending], dict[int, UserChannels]]:
        """The sends whose user still authorises them and whose template and channels are as
        they saw them, read in the transaction that stores them; and the channels read, by
        user."""
        states = await repository.states(session, {s.item.checks.template_id for s in batch})
        channels = await repository.channels_of(session, {s.item.checks.user_id for s in batch})
        current = []
        for send in batch:
            checks = send.item.checks
            state = states.get(checks.template_id)
            authorised = (
                state is not None
                and state.owner == checks.user_id
                and state.user.authorises(checks.token_credentials)
            )
            unchanged = (
                state is not None
                and state.template == checks.template
                and channels.get(checks.user_id, ()) == checks.channels
            )
            if authorised and unchanged:
                current.append(send)
            else:
                self._cache.forget(checks.user_id, checks.template_id)
        return current, channels

    async def _hold_excess(
        self,
        session: AsyncSession,
        kept: Sequence[_Pending],
        channels: dict[int, UserChannels],
    ) -> None:
        """The sends past their WABA's messaging limit held (their rows changed before they
        are written), the WABA's tier from its numbers' (``limit.waba_tier``), read with the
        user's channels; nothing at all for a WABA without one."""
        by_waba: dict[tuple[int, str], list[_Pending]] = {}
        for send in kept:
            user_id, channel_id = send.item.row["user_id"], send.item.row["channel_id"]
            sender = next((c for c in channels.get(user_id, ()) if c.id == channel_id), None)
            if sender is not None:
                by_waba.setdefault((user_id, sender.waba_id), []).append(send)
        for (user_id, waba_id), sends in sorted(by_waba.items()):
            mine = channels.get(user_id, ())
            tier = limit.waba_tier(c.tier for c in mine if c.waba_id == waba_id)
            if tier is None:
                continue
            wanted = [(s.item.row["phone_number"], s.item.row["next_attempt_at"]) for s in sends]
            answers = await limit.hold_excess(
                session, user_id, waba_id, tier, wanted, self._cache.limits
            )
            for send, until in zip(sends, answers, strict=True):
                if until is not None:
                    limit.held_row(send.item.row, until)

    async def _fail(self, send: _Pending, failure: Exception) -> None:
        if send.done:
            return
        if isinstance(failure, IntegrityError):
            failure = await self._explain(send.item)
        send.fail(failure)

    async def _explain(self, send: _Send) -> Exception:
        """A foreign key refused the row: its template or channel was deleted after it was read."""
        try:
            async with self._sessions() as session:
                template_found, channel_found = await repository.template_and_channel(
                    session, send.row["user_id"], send.row["template_id"], send.row["channel_id"]
                )
        except Exception as unreachable:
            return unreachable
        if not template_found:
            return TemplateNotFound()
        if not channel_found:
            return ChannelMissing()
        # Another row it names (a contact) went meanwhile: a retry is answered from the
        # current state.
        return ServiceUnavailable("The send met a concurrent change; retry.", retry_after=1)

    async def aclose(self) -> None:
        """Let the batch being written finish (at shutdown)."""
        await self._batches.aclose()
