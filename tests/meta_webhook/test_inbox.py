"""Group commit of Meta's deliveries: concurrent deliveries share INSERTs and commits, each
still learns whether it was new, and a failed write fails every delivery in it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from herald.db import create_engine, session_factory
from herald.meta_webhook.inbox import MAX_BATCH, WebhookInbox
from herald.models import WebhookEvent
from tests.conftest import DatabaseUnderTest

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_concurrent_deliveries_are_stored_once_in_few_commits(
    db: DatabaseUnderTest,
) -> None:
    sessions = session_factory(db.engine)
    commits = 0

    def counted(*_: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(db.engine.sync_engine, "commit", counted)
    inbox = WebhookInbox(sessions)
    bodies = [f'{{"n": {n}}}' for n in range(1200)]
    # Each body twice at once: exactly one of the two is new.
    answers = await asyncio.gather(
        *(inbox.store(f"digest-{n:04d}", body, NOW) for n, body in enumerate(bodies)),
        *(inbox.store(f"digest-{n:04d}", body, NOW) for n, body in enumerate(bodies)),
    )
    await inbox.aclose()
    event.remove(db.engine.sync_engine, "commit", counted)
    assert answers.count(True) == len(bodies)
    assert all(answers[n] != answers[n + len(bodies)] for n in range(len(bodies)))
    async with sessions() as session:
        stored = (await session.execute(select(func.count()).select_from(WebhookEvent))).scalar()
    assert stored == len(bodies)
    assert commits <= 2 * len(bodies) // MAX_BATCH + 2  # batches, not one commit a delivery
    # Later deliveries of stored bodies are duplicates; a new one is new.
    assert await inbox.store("digest-0007", bodies[7], NOW) is False
    assert await inbox.store("digest-new", "{}", NOW) is True


async def test_a_failed_write_fails_each_delivery_in_it_and_the_next_batch_works(
    db: DatabaseUnderTest,
) -> None:
    engine = create_engine(db.url)
    inbox = WebhookInbox(session_factory(engine))
    failing = True

    def refuse(*_: object) -> None:
        if failing:
            raise OperationalError("INSERT", {}, Exception("the database went away"))

    event.listen(engine.sync_engine, "before_cursor_execute", refuse)
    try:
        results = await asyncio.gather(
            *(inbox.store(f"lost-{n}", "{}", NOW) for n in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, OperationalError) for r in results), results
        failing = False
        assert await inbox.store("lost-0", "{}", NOW) is True  # nothing was half-stored
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", refuse)
        await inbox.aclose()
        await engine.dispose()


@pytest.mark.parametrize("cancelled", [1, 3])
async def test_a_client_that_hangs_up_still_has_its_delivery_stored(
    db: DatabaseUnderTest, cancelled: int
) -> None:
    sessions = session_factory(db.engine)
    inbox = WebhookInbox(sessions)
    tasks = [asyncio.create_task(inbox.store(f"gone-{n}", "{}", NOW)) for n in range(cancelled)]
    await asyncio.sleep(0)  # queued in the inbox
    for task in tasks:
        task.cancel()
    await inbox.aclose()
    async with sessions() as session:
        stored = (await session.execute(select(func.count()).select_from(WebhookEvent))).scalar()
    assert stored == cancelled
