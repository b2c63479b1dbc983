"""Group commit (``kit/group_commit.py``): what arrives while a batch is written is the next
batch, each caller gets its own answer, and a failed batch fails only its own callers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from herald.kit.group_commit import GroupCommit, Pending, Unanswered


class _Store:
    """Doubles each item; the first batch waits for ``release`` so that others queue behind."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()

    async def write(self, batch: Sequence[Pending[int, int]]) -> None:
        self.batches.append([p.item for p in batch])
        if len(self.batches) == 1:
            await self.release.wait()
        for pending in batch:
            if pending.item < 0:
                raise ValueError("negative")
            pending.answer(pending.item * 2)


async def test_what_arrives_during_a_write_is_the_next_batch() -> None:
    store = _Store()
    commits: GroupCommit[int, int] = GroupCommit(store.write, max_batch=3)
    first = asyncio.create_task(commits.submit(1))
    await asyncio.sleep(0)  # the first batch is being written
    rest = [asyncio.create_task(commits.submit(n)) for n in range(2, 7)]
    await asyncio.sleep(0)
    store.release.set()
    assert await first == 2
    assert [await task for task in rest] == [4, 6, 8, 10, 12]
    assert store.batches == [[1], [2, 3, 4], [5, 6]]
    await commits.aclose()


async def test_a_failed_batch_fails_its_callers_only() -> None:
    store = _Store()
    store.release.set()
    commits: GroupCommit[int, int] = GroupCommit(store.write, max_batch=10)
    results = await asyncio.gather(
        commits.submit(1), commits.submit(-1), commits.submit(2), return_exceptions=True
    )
    # The batch [1, -1, 2] failed at -1: 1 was answered before, 2 fails with the batch.
    assert results[0] == 2
    assert isinstance(results[1], ValueError)
    assert isinstance(results[2], ValueError)
    assert await commits.submit(3) == 6  # the next batch is written as usual


async def test_an_item_its_write_left_unanswered_fails() -> None:
    async def forgetful(batch: Sequence[Pending[int, int]]) -> None:
        pass

    commits: GroupCommit[int, int] = GroupCommit(forgetful, max_batch=10)
    with pytest.raises(Unanswered):
        await commits.submit(1)
