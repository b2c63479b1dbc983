"""Storing Meta's deliveries in batches: one INSERT and one commit for every delivery that
arrived while the previous batch was being written.

Meta sends about three status webhooks per message, so a number sending 1,000 messages a second
brings 3,000 deliveries a second; one commit each would make the database's commit rate the
limit. A request still answers only after its own delivery is committed (nothing acknowledged
is lost), and with no load a batch is that one delivery: no timer, no added wait. Written here
because this is a few lines over ``asyncio`` futures, and no library does group commit for an
async SQLAlchemy session.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.meta_webhook import repository

MAX_BATCH = 500  # rows of one INSERT (four parameters each: well under SQLite's limit)


@dataclass
class _Delivery:
    digest: str
    payload: str
    received_at: datetime
    stored: asyncio.Future[bool]


class WebhookInbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._waiting: list[_Delivery] = []
        self._writer: asyncio.Task[None] | None = None

    async def store(self, digest: str, payload: str, received_at: datetime) -> bool:
        """Store one delivery; True when it is new, False when that body was stored before."""
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Delivery(digest, payload, received_at, stored))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        # Shielded: a client that hangs up does not take its delivery out of a batch.
        return await asyncio.shield(stored)

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                async with self._sessions() as session:
                    rows = [(d.digest, d.payload, d.received_at) for d in batch]
                    new = await repository.insert_new(session, rows)
                    await session.commit()
            # Each waiting request answers with the failure (a 503 when the database is down).
            except Exception as failure:
                for delivery in batch:
                    if not delivery.stored.done():
                        delivery.stored.set_exception(failure)
                continue
            first_seen: set[str] = set()
            for delivery in batch:  # the same body twice in one batch: the first one is new
                fresh = delivery.digest in new and delivery.digest not in first_seen
                first_seen.add(delivery.digest)
                if not delivery.stored.done():
                    delivery.stored.set_result(fresh)

    async def aclose(self) -> None:
        """Let the batch being written finish (at shutdown)."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
