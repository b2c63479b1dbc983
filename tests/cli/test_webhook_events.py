"""``herald webhook-events``: the operator sees the Meta webhooks set aside, with their error,
and applies one again (issue 20), through the real command on both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from herald.db import session_factory
from herald.models import WebhookEvent
from tests.cli.helpers import herald
from tests.conftest import DatabaseUnderTest

RECEIVED = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def env(db: DatabaseUnderTest, tmp_path: Path) -> dict[str, str]:
    return {"HERALD_DATABASE_URL": db.url, "HERALD_DATA_DIR": str(tmp_path)}


async def store(db: DatabaseUnderTest, digest: str, *, dead: bool, applied: bool) -> int:
    """An event as the processing loop leaves it: applied, pending, or set aside after 5 tries."""
    done = RECEIVED + timedelta(minutes=1)
    event = WebhookEvent(
        body_sha256=digest * 64,
        payload='{"entry": "not a list"}',
        received_at=RECEIVED,
        processed_at=done if dead or applied else None,
        dead_at=done if dead else None,
        attempts=5 if dead else 0,
        last_error="AttributeError: 'str' object has no attribute 'get'" if dead else None,
    )
    async with session_factory(db.engine)() as session:
        session.add(event)
        await session.commit()
        return event.id


async def stored(db: DatabaseUnderTest, event_id: int) -> WebhookEvent:
    async with session_factory(db.engine)() as session:
        event = await session.get(WebhookEvent, event_id)
    assert event is not None
    return event


async def test_list_shows_the_events_set_aside_with_their_error(
    env: dict[str, str], db: DatabaseUnderTest
) -> None:
    applied = await store(db, "a", dead=False, applied=True)
    dead = await store(db, "b", dead=True, applied=False)
    pending = await store(db, "c", dead=False, applied=False)

    listed = herald("webhook-events", "list", "--dead", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {
            "id": dead,
            "state": "set_aside",
            "received_at": "2026-12-03T08:00:00Z",
            "processed_at": "2026-12-03T08:01:00Z",
            "set_aside_at": "2026-12-03T08:01:00Z",
            "attempts": 5,
            "last_error": "AttributeError: 'str' object has no attribute 'get'",
        }
    ]
    everything = herald("webhook-events", "list", "--json", env=env)
    states = [(e["id"], e["state"]) for e in json.loads(everything.stdout)]
    assert states == [(pending, "pending"), (dead, "set_aside"), (applied, "applied")]
    text = herald("webhook-events", "list", "--dead", env=env)
    assert text.returncode == 0, text.stderr
    assert "AttributeError" in text.stdout
    assert str(applied) not in text.stdout.split()


async def test_retry_puts_a_set_aside_event_back_in_the_queue(
    env: dict[str, str], db: DatabaseUnderTest
) -> None:
    dead = await store(db, "d", dead=True, applied=False)
    retried = herald("webhook-events", "retry", str(dead), "--json", env=env)
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout)["state"] == "pending"
    event = await stored(db, dead)
    assert (event.dead_at, event.processed_at, event.attempts) == (None, None, 0)
    assert herald("webhook-events", "list", "--dead", "--json", env=env).stdout.strip() == "[]"

    again = herald("webhook-events", "retry", str(dead), "--json", env=env)
    assert again.returncode == 4
    assert json.loads(again.stderr)["code"] == "webhook_event_not_set_aside"
    missing = herald("webhook-events", "retry", "424242", env=env)
    assert missing.returncode == 3
    assert "not found" in missing.stderr
