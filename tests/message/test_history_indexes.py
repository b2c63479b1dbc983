"""History stays fast at millions of rows because every filter it offers has an index path.

The plans are checked on PostgreSQL with sequential scans disabled: if a query can only be
answered by reading the whole table, the plan shows a Seq Scan anyway and the test fails.
(Timings at a million rows are the benchmark's job, in bench/.)"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from tests.conftest import DatabaseUnderTest

QUERIES = {
    "page": "SELECT id FROM messages WHERE user_id = 1 ORDER BY id DESC LIMIT 20",
    "deep page": "SELECT id FROM messages WHERE user_id = 1 ORDER BY id DESC "
    "LIMIT 20 OFFSET 100000",
    "total": "SELECT count(*) FROM messages WHERE user_id = 1",
    "bulk group": "SELECT id FROM messages WHERE user_id = 1 AND whatsapp_bulk_group_id = 'g' "
    "ORDER BY id DESC LIMIT 20",
    "status webhook": "SELECT id FROM messages WHERE provider_message_id = 'wamid.x'",
    "due queue": "SELECT id FROM messages WHERE channel_id = 1 AND state = 'queued' AND "
    "priority = 0 AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT 80",
    "expired leases": "SELECT id FROM messages WHERE state = 'sending' "
    "AND lease_expires_at < now()",
    "webhook backlog": "SELECT id FROM webhook_events WHERE processed_at IS NULL "
    "ORDER BY id LIMIT 200",
}


@pytest.mark.parametrize("name", list(QUERIES))
async def test_the_query_has_an_index_path(db: DatabaseUnderTest, name: str) -> None:
    if db.kind != "postgresql":
        pytest.skip("plans are checked on PostgreSQL, the scale-out database")
    async with db.engine.connect() as connection:
        await connection.execute(text("SET enable_seqscan = off"))
        plan = (
            await connection.execute(text(f"EXPLAIN (FORMAT JSON) {QUERIES[name]}"))
        ).scalar_one()
    rendered = json.dumps(plan)
    assert "Seq Scan" not in rendered, f"{name} would read the whole table: {rendered}"
