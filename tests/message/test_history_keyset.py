"""History walked by id (``before_id``, Herald's addition): the same messages in the same order
as page after page, with every filter, never another user's, and never mixed with a page
number."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from herald.config import Settings
from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.kit.jsend import Success
from herald.kit.pagination import MAX_ID, KeysetPage
from herald.message.repository import _history_statements
from herald.message.schemas import MessageOut
from herald.models import Template, User
from tests.conftest import DatabaseUnderTest, assert_error
from tests.message.helpers import approved_template
from tests.message.test_history import SAM, history, send

Documented = Success[KeysetPage[MessageOut]]


@pytest.fixture
async def template(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> Template:
    return await approved_template(db, ana, settings, clock.now())


async def bulk(client: httpx.AsyncClient, auth: dict[str, str], template: Template, n: int) -> str:
    recipients = [{**SAM, "to": f"2169681{k:04d}"} for k in range(n)]
    answer = await client.post(
        f"/api/v2/whatsapp/templates/{template.id}/send-bulk",
        json={"recipients": recipients},
        headers=auth,
    )
    assert answer.status_code == 202, answer.text
    group: str = answer.json()["data"]["whatsapp_bulk_group_id"]
    return group


async def by_pages(client: httpx.AsyncClient, auth: dict[str, str], **params: Any) -> list[int]:
    ids: list[int] = []
    page = 1
    while True:
        data = (await history(client, auth, page=page, **params))["data"]
        if not data["items"]:
            return ids
        ids += [item["id"] for item in data["items"]]
        page += 1


async def by_cursor(
    client: httpx.AsyncClient, auth: dict[str, str], limit: int, **params: Any
) -> tuple[list[int], list[dict[str, Any]]]:
    """Every id, following ``next_before_id`` from the first page; and each page's pagination.
    Each answer is held to the documented model (the endpoint writes its JSON by hand)."""
    body = await history(client, auth, limit=limit, **params)
    data = body["data"]
    ids = [item["id"] for item in data["items"]]
    seen = [data["pagination"]]
    while (cursor := data["pagination"]["next_before_id"]) is not None:
        assert cursor == ids[-1]
        body = await history(client, auth, limit=limit, before_id=cursor, **params)
        assert Documented.model_validate(body).model_dump(mode="json") == body
        data = body["data"]
        ids += [item["id"] for item in data["items"]]
        seen.append(data["pagination"])
        assert len(seen) < 50, "the walk does not end"
    return ids, seen


@pytest.mark.parametrize("count", [7, 6])  # a short last page; a full one, then an empty one
async def test_following_next_before_id_walks_the_pages_order(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template, count: int
) -> None:
    for _ in range(count):
        await send(client, auth, template)
    expected = await by_pages(client, auth, limit=3)
    assert len(expected) == count
    assert expected == sorted(expected, reverse=True)
    walked, paginations = await by_cursor(client, auth, 3)
    assert walked == expected
    assert paginations[0] == {
        "page": 1,
        "limit": 3,
        "total": count,
        "pages": 3 if count == 7 else 2,
        "next_before_id": expected[2],
    }
    # Pages asked for by id: no page number, the whole list's total.
    for pagination in paginations[1:]:
        assert pagination["page"] is None
        assert (pagination["total"], pagination["pages"]) == (count, paginations[0]["pages"])
    assert paginations[-1]["next_before_id"] is None
    if count == 6:  # the second page was full: it could not know that nothing follows
        assert len(paginations) == 3
        assert paginations[1]["next_before_id"] == expected[-1]


async def test_page_mode_says_where_the_next_page_starts(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template
) -> None:
    ids = [await send(client, auth, template) for _ in range(5)][::-1]
    full = (await history(client, auth, page=2, limit=2))["data"]
    assert full["pagination"] == {
        "page": 2,
        "limit": 2,
        "total": 5,
        "pages": 3,
        "next_before_id": ids[3],
    }
    following = (await history(client, auth, before_id=ids[3], limit=2))["data"]
    assert [item["id"] for item in following["items"]] == [ids[4]]
    assert (await history(client, auth, page=3, limit=2))["data"]["pagination"][
        "next_before_id"
    ] is None
    assert (await history(client, auth, page=9, limit=2))["data"]["pagination"][
        "next_before_id"
    ] is None
    # page=1 is allowed with a cursor (it is the default), under either name.
    for name in ("page", "currentPage"):
        same = (await history(client, auth, before_id=ids[3], limit=2, **{name: 1}))["data"]
        assert same == following


async def test_a_cursor_combines_with_the_state_and_bulk_group_filters(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template, db: DatabaseUnderTest
) -> None:
    await send(client, auth, template)
    group = await bulk(client, auth, template, 5)
    await send(client, auth, template)
    other_group = await bulk(client, auth, template, 3)
    await send(client, auth, template)
    everything = await by_pages(client, auth, limit=100)
    assert len(everything) == 11
    failed = everything[::2]
    async with db.engine.begin() as connection:
        for message_id in failed:
            await connection.execute(
                text("UPDATE messages SET state = 'failed' WHERE id = :id"), {"id": message_id}
            )
    in_group = await by_pages(client, auth, limit=2, whatsapp_bulk_group_id=group)
    assert len(in_group) == 5
    walked, paginations = await by_cursor(client, auth, 2, whatsapp_bulk_group_id=group)
    assert walked == in_group
    assert {p["total"] for p in paginations} == {5}  # the group's, not the user's
    assert not set(walked) & set(await by_pages(client, auth, whatsapp_bulk_group_id=other_group))
    walked, paginations = await by_cursor(client, auth, 2, state="failed")
    assert walked == failed
    assert {p["total"] for p in paginations} == {len(failed)}
    both, _ = await by_cursor(client, auth, 1, state="failed", whatsapp_bulk_group_id=group)
    assert both == [i for i in in_group if i in failed]
    assert both  # the combination is not vacuous
    # A cursor inside the list: exactly the older ones that match.
    middle = in_group[1]
    after = (await history(client, auth, before_id=middle, whatsapp_bulk_group_id=group))["data"]
    assert [item["id"] for item in after["items"]] == in_group[2:]
    assert after["pagination"]["next_before_id"] is None


async def test_another_users_messages_never_appear_and_their_ids_only_bound_the_list(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    bob_auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    async with session_factory(db.engine)() as session:
        bob = (
            await session.execute(select(User).where(User.email == "bob@example.com"))
        ).scalar_one()
    bob_template = await approved_template(db, bob, settings, clock.now())
    anas: list[int] = []
    bobs: list[int] = []
    for _ in range(4):  # interleaved ids
        anas.append(await send(client, auth, template))
        bobs.append(await send(client, bob_auth, bob_template))
    anas.reverse()
    walked, _ = await by_cursor(client, auth, 1)
    assert walked == anas
    # Bob's id as a cursor: Ana's messages older than that number, nothing of Bob's.
    bounded = (await history(client, auth, before_id=bobs[2]))["data"]
    assert [item["id"] for item in bounded["items"]] == [i for i in anas if i < bobs[2]]
    assert bounded["pagination"]["total"] == 4
    # An id no message has: a number like any other.
    beyond = (await history(client, auth, before_id=MAX_ID))["data"]
    assert [item["id"] for item in beyond["items"]] == anas
    assert (await history(client, auth, before_id=1))["data"]["items"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"before_id": 5, "page": 2}, "page"),
        ({"before_id": 5, "currentPage": 3}, "currentPage"),
        ({"before_id": 0}, "before_id"),
        ({"before_id": -4}, "before_id"),
        ({"before_id": MAX_ID + 1}, "before_id"),
        ({"before_id": "abc"}, "before_id"),
        ({"before_id": "1.5"}, "before_id"),
        ({"before_id": ""}, "before_id"),
    ],
)
async def test_bad_cursors_are_refused(
    client: httpx.AsyncClient, auth: dict[str, str], params: dict[str, Any], field: str
) -> None:
    answer = await client.get("/api/whatsapp/", params=params, headers=auth)
    body = assert_error(answer, 400, "validation_failed")
    assert [error["field"] for error in body["data"]["errors"]] == [field]  # type: ignore[index]


@pytest.mark.parametrize("with_caller", [False, True], ids=["read-caller", "remembered-caller"])
async def test_the_cursor_page_reads_a_range_of_the_index(
    db: DatabaseUnderTest, with_caller: bool
) -> None:
    """The statement the history runs: the page's ids come from an index range that starts
    at the cursor, not from a walk past an offset (the timing at a million rows is the
    benchmark's: docs/benchmarks.md), with or without the caller's state beside it."""
    page, _ = _history_statements(("before_id",), with_caller)
    bound = page.params(user_id=1, limit=20, before_id=1000)
    if db.kind == "postgresql":
        # The planner's choice on a table this small follows its size and statistics, which
        # earlier tests' rows leave behind (their dead rows still fill pages after ANALYZE: the
        # full suite once saw the primary key read instead): make the table as it is now
        # (empty), as at a fresh start. VACUUM runs outside a transaction.
        async with db.engine.connect() as autocommit:
            await autocommit.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE messages"))
    async with db.engine.connect() as connection:
        sql = str(bound.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        if db.kind == "postgresql":
            # And prefer an ordered index read to a sort, as it does at scale.
            await connection.execute(text("SET enable_seqscan = off"))
            await connection.execute(text("SET enable_sort = off"))
            plan = (await connection.exec_driver_sql(f"EXPLAIN {sql}")).scalars().all()
        else:
            plan = [
                row[-1] for row in await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
            ]
    rendered = "\n".join(plan)
    if db.kind == "postgresql":
        assert "Seq Scan" not in rendered, rendered
        # The cursor is part of the index condition (a range of the index), whichever way the
        # planner reads it on a table this small: an index-only scan backward at a million
        # rows, a bitmap scan of the same index here.
        assert "ix_messages_user_id_id" in rendered, rendered
        assert "Index Cond: ((user_id = 1) AND (id < 1000))" in rendered, rendered
    else:
        assert "COVERING INDEX ix_messages_user_id_id (user_id=? AND id<?)" in rendered, rendered
