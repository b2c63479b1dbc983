"""``GET /api/whatsapp/?format=csv``: every message the history's filters match, one CSV row
each (not a page), streamed in batches; spreadsheet-safe; a bad filter is the JSON route's
error; another user's messages never in it."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from typing import Any

import httpx

from herald.app import create_app
from herald.config import Settings
from herald.kit.clock import FrozenClock
from herald.message.export import BATCH, HEADER
from herald.models import User
from tests.analytics.helpers import day, store_messages
from tests.conftest import DatabaseUnderTest, add_user, assert_error


def parse(body: bytes) -> list[dict[str, str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the file as UTF-8
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


async def export(client: httpx.AsyncClient, auth: dict[str, str], **params: str) -> httpx.Response:
    answer = await client.get("/api/whatsapp/", params={"format": "csv", **params}, headers=auth)
    assert answer.status_code == 200, answer.text
    return answer


async def test_every_message_one_row_each_with_a_header_and_no_formula(
    client: httpx.AsyncClient, auth: dict[str, str], ana: User, db: DatabaseUnderTest
) -> None:
    bob = await add_user(db, "bob@example.com")
    created = day("2026-11-10")
    ana_ = {"user_id": ana.id, "created_at": created}
    ids = await store_messages(
        db,
        [
            {
                **ana_,
                "state": "read",
                "read_at": created,
                "billable": True,
                "pricing_category": "marketing",
                "pricing_model": "PMP",
            },
            {
                **ana_,
                "state": "failed",
                "error_code": "131026",
                "error_title": "=1+2",
                "error_detail": 'said "no", then, left\nfor good',
            },
            {**ana_, "template_name": "@SUM(A1)", "whatsapp_bulk_group_id": "-g"},
            {"user_id": bob.id, "created_at": created},
        ],
    )
    answer = await export(client, auth)
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="messages-')
    assert disposition.endswith('.csv"')
    text = answer.content.decode("utf-8")
    assert text.splitlines()[0] == "\ufeff" + ",".join(HEADER)
    rows = parse(answer.content)
    assert [int(r["id"]) for r in rows] == [ids[2], ids[1], ids[0]]  # ana's only, newest first
    read, failed, odd = rows[2], rows[1], rows[0]
    assert (read["state"], read["billable"], read["pricing_category"], read["pricing_model"]) == (
        "read",
        "true",
        "marketing",
        "PMP",
    )
    assert read["created_at"] == "2026-11-10T10:00:00Z"
    assert read["read_at"] == "2026-11-10T10:00:00Z"
    assert read["to"] == "4915112345678"
    # What could be read as a formula is text; quoting keeps commas, quotes and line breaks.
    assert failed["error_title"] == "'=1+2"
    assert failed["error_detail"] == 'said "no", then, left\nfor good'
    assert odd["template_name"] == "'@SUM(A1)"
    assert odd["whatsapp_bulk_group_id"] == "'-g"
    assert odd["billable"] == ""

    only_failed = parse((await export(client, auth, state="failed")).content)
    assert [int(r["id"]) for r in only_failed] == [ids[1]]
    none = parse((await export(client, auth, to="2026-11-01")).content)
    assert none == []


async def test_a_bad_filter_is_the_json_routes_error(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    answer = await client.get(
        "/api/whatsapp/", params={"format": "csv", "state": "lost"}, headers=auth
    )
    assert_error(answer, 400, "validation_failed")
    answer = await client.get("/api/whatsapp/", params={"format": "xlsx"}, headers=auth)
    assert_error(answer, 400, "validation_failed")
    assert_error(await client.get("/api/whatsapp/", params={"format": "csv"}), 401, "token_missing")


async def asgi_body_parts(
    settings: Settings, clock: FrozenClock, auth: dict[str, str]
) -> list[bytes]:
    """The body's parts as the app hands them to the server (httpx's ASGI transport joins them
    into one): each ``http.response.body`` message."""
    app = create_app(settings, clock=clock)
    parts: list[bytes] = []
    status: list[int] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/whatsapp/",
        "raw_path": b"/api/whatsapp/",
        "root_path": "",
        "query_string": b"format=csv",
        "headers": [
            (b"host", b"herald.test"),
            (b"authorization", auth["Authorization"].encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("herald.test", 80),
    }

    requested = False
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # the client stays until the answer is complete
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body" and message.get("body"):
            parts.append(message["body"])

    async with app.router.lifespan_context(app):
        await app(scope, receive, send)
        done.set()
    assert status == [200]
    return parts


async def test_a_large_export_is_streamed_a_batch_at_a_time(
    settings: Settings,
    auth: dict[str, str],
    ana: User,
    db: DatabaseUnderTest,
    clock: FrozenClock,
) -> None:
    count = 2 * BATCH + 7
    start = clock.now() - timedelta(days=1)
    rows: list[dict[str, Any]] = [
        {"user_id": ana.id, "created_at": start + timedelta(seconds=n)} for n in range(count)
    ]
    await store_messages(db, rows)
    chunks = await asgi_body_parts(settings, clock, auth)
    # The header, then one chunk per batch read: never the whole file built at once.
    assert len(chunks) == 1 + 3
    sizes = [chunk.count(b"\r\n") for chunk in chunks]
    assert sizes == [1, BATCH, BATCH, 7]
    exported = parse(b"".join(chunks))
    assert len(exported) == count
    assert len({r["id"] for r in exported}) == count
