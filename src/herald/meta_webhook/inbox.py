"""Storing Meta's deliveries in batches: one INSERT and one commit for every delivery that
arrived while the previous batch was being written (``kit/group_commit.py``).

Meta sends about three status webhooks per message, so a number sending 1,000 messages a second
brings 3,000 deliveries a second; one commit each would make the database's commit rate the
limit. A request still answers only after its own delivery is committed (nothing acknowledged
is lost), and with no load a batch is that one delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.kit.group_commit import GroupCommit, Pending
from herald.meta_webhook import repository

MAX_BATCH = 500  # rows of one INSERT (four parameters each: well under SQLite's limit)


@dataclass(frozen=True, slots=True)
class _Delivery:
    digest: str
    payload: str
    received_at: datetime


class WebhookInbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._batches: GroupCommit[_Delivery, bool] = GroupCommit(self._write, MAX_BATCH)

    async def store(self, digest: str, payload: str, received_at: datetime) -> bool:
        """Store one delivery; True when it is new, False when that body was stored before."""
        return await self._batches.submit(_Delivery(digest, payload, received_at))

    async def _write(self, batch: Sequence[Pending[_Delivery, bool]]) -> None:
        # A failure fails each waiting request (a 503 when the database is down).
        async with self._sessions() as session:
            rows = [(p.item.digest, p.item.payload, p.item.received_at) for p in batch]
            new = await repository.insert_new(session, rows)
            await session.commit()
        first_seen: set[str] = set()
        for pending in batch:  # the same body twice in one batch: the first one is new
            digest = pending.item.digest
            pending.answer(digest in new and digest not in first_seen)
            first_seen.add(digest)

    async def aclose(self) -> None:
        """Let the batch being written finish (at shutdown)."""
        await self._batches.aclose()
