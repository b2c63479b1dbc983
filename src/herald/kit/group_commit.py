"""Group commit: everything submitted while the previous batch was being written goes into the
next batch, and each caller is answered once its own item was written.

Used by single-send intake (``message/intake.py``) and webhook ingest
(``meta_webhook/inbox.py``): one commit per batch instead of one per request, so the
database's commit rate is not the limit. With no load a batch is that one item: no timer, no
added wait. Written here because it is a few lines over ``asyncio`` futures and no library does
group commit for an async SQLAlchemy session. It knows nothing of what is written: the owner's
``write`` answers each item of a batch (``Pending.answer`` / ``Pending.fail``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Unanswered(RuntimeError):
    """``write`` returned without answering an item of its batch (a bug in the owner)."""


@dataclass(eq=False, slots=True)  # compared by identity: a batch may hold two equal items
class Pending(Generic[Item, Result]):
    item: Item
    future: asyncio.Future[Result]

    @property
    def done(self) -> bool:
        return self.future.done()

    def answer(self, result: Result) -> None:
        if not self.future.done():
            self.future.set_result(result)

    def fail(self, failure: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(failure)


Write = Callable[[Sequence[Pending[Item, Result]]], Awaitable[None]]
"""Writes one batch and answers each of its items; an exception fails those it left unanswered."""


class GroupCommit(Generic[Item, Result]):
    def __init__(self, write: Write[Item, Result], max_batch: int) -> None:
        self._write = write
        self._max_batch = max_batch
        self._waiting: list[Pending[Item, Result]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """``item``'s answer, once the batch that holds it was written."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append(Pending(item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        # Shielded: a client that hangs up does not take its item out of a batch.
        return await asyncio.shield(future)

    async def _write_waiting(self) -> None:
        while self._waiting:
            size = self._max_batch
            batch, self._waiting = self._waiting[:size], self._waiting[size:]
            try:
                await self._write(batch)
            except Exception as failure:  # each waiting caller answers with it (a 503, say)
                for pending in batch:
                    pending.fail(failure)
                continue
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(Unanswered())

    async def aclose(self) -> None:
        """Let the batch being written finish (at shutdown)."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
