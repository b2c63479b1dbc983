"""Scenario 6: the message history of one user with 1,000,000 messages, by page number and by
``before_id``."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from bench import wrk
from bench.procs import Process
from bench.scenarios import Figures
from bench.setup import Account, token

# 6. history -------------------------------------------------------------------------------------


# What Herald keeps as it inserts (``message_totals``), kept here for rows written in SQL.
# The per-user totals (``MessageTotal``) recounted after filling: one shard holds the count.
TOTALS = (
    "DELETE FROM message_totals",
    "INSERT INTO message_totals (user_id, shard, total) "
    "SELECT user_id, 0, count(*) FROM messages GROUP BY user_id",
)


async def fill_history(database_url: str, account: Account, rows: int) -> str:
    """``rows`` messages for one user, one bulk group of 1,000 among them (SQL, not the API)."""
    group = "bench-group-0000-0000-000000000001"
    columns = (
        "user_id, channel_id, template_id, template_name, template_language, phone_number, "
        "country_code, whatsapp_bulk_group_id, priority, content, state, created_at, "
        "next_attempt_at, deadline_at, attempts, pair_rate_hits, updated_at, sent_at, read_at"
    )
    values = (
        f"{account.user_id}, {account.channel_id}, {account.template_id}, 'order_confirmed', "
        "'en', '21696816277', 'TN', CASE WHEN n % 1000 = 0 THEN '" + group + "' ELSE "
        "'bench-' || (n / 1000) END, 1, '{}', 'read', {now}, {now}, {now}, 1, 0, {now}, {now}, "
        "{now}"
    )
    if database_url.startswith("sqlite"):
        import aiosqlite

        async with aiosqlite.connect(database_url.split("///", 1)[1]) as connection:
            await connection.execute(
                f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {rows}) "
                f"INSERT INTO messages ({columns}) SELECT "
                + values.replace("{now}", "strftime('%Y-%m-%d %H:%M:%f', 'now')")
                + " FROM s"
            )
            for statement in TOTALS:
                await connection.execute(statement)
            await connection.commit()
        return group
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute(
            f"INSERT INTO messages ({columns}) SELECT "
            + values.replace("{now}", "now()")
            + f" FROM generate_series(1, {rows}) AS n"
        )
        for statement in TOTALS:
            await connection.execute(statement)
        await connection.execute("VACUUM ANALYZE messages")
    finally:
        await connection.close()
    return group


def history(api: Process, account: Account, group: str, seconds: int) -> Figures:
    """Page 1, page 5,000 by number and the same page by ``before_id``, a bulk group's page.

    ``deep_over_first`` is the page by ``before_id`` (how a client walks deep lists);
    ``deep_offset_over_first`` the page by number, which skips 99,980 index entries."""
    assert api.url is not None
    bearer = token(api.url, account.email)
    cursor = _deep_cursor(api.url, bearer, 5000, 20)
    figures: Figures = {}
    for name, query in (
        ("page_1", "page=1&limit=20"),
        ("page_5000", "page=5000&limit=20"),
        ("page_5000_cursor", f"before_id={cursor}&limit=20"),
        ("group", f"whatsapp_bulk_group_id={group}&limit=20"),
    ):
        cpu_before = api.cpu_seconds()
        result = wrk.run(
            f"{api.url}/api/whatsapp/?{query}",
            wrk.GET_WITH_TOKEN,
            connections=4,
            threads=1,
            seconds=seconds,
            env={"BENCH_TOKEN": bearer},
        )
        figures[f"{name}_p99_ms"] = result.p99_ms
        figures[f"{name}_p50_ms"] = result.p50_ms
        figures[f"{name}_errors"] = float(result.non_2xx + result.errors)
        figures[f"{name}_rps"] = result.requests_per_second
        # The API process's CPU per request (the database's is not in it).
        requests = result.requests_per_second * seconds
        figures[f"{name}_api_cpu_ms"] = (api.cpu_seconds() - cpu_before) * 1000 / max(requests, 1)
    figures["deep_over_first"] = figures["page_5000_cursor_p99_ms"] / figures["page_1_p99_ms"]
    figures["deep_offset_over_first"] = figures["page_5000_p99_ms"] / figures["page_1_p99_ms"]
    return figures


def _deep_cursor(api_url: str, bearer: str, page: int, limit: int) -> int:
    """The ``before_id`` of page ``page``: the previous page's ``next_before_id`` (the id of
    its last message), checked to give the same messages as the page by number."""

    def fetch(query: str) -> dict[str, Any]:
        answer = httpx.get(
            f"{api_url}/api/whatsapp/?{query}&limit={limit}",
            headers={"Authorization": f"Bearer {bearer}"},
            timeout=30,
        )
        answer.raise_for_status()
        data: dict[str, Any] = answer.json()["data"]
        return data

    cursor = fetch(f"page={page - 1}")["pagination"]["next_before_id"]
    if not isinstance(cursor, int):
        raise RuntimeError(f"page {page - 1} is not full: too few messages for page {page}")
    if fetch(f"before_id={cursor}")["items"] != fetch(f"page={page}")["items"]:
        raise RuntimeError(f"before_id={cursor} is not page {page}")
    return cursor
