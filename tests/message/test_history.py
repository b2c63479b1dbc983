"""History answers (spec/api.md §5): items rendered as the message model renders them, the
total beside every page, and authentication checked on each page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from herald.db import session_factory
from herald.deps import get_read_session
from herald.kit.clock import FrozenClock, iso_utc
from herald.message.output import _when
from herald.models import Template, User
from tests.conftest import DatabaseUnderTest, assert_error
from tests.message.helpers import SAM

# Assigns the transaction an id if it has none: equal within one transaction, not across two.
XID = "SELECT pg_current_xact_id()::text"


async def send(client: httpx.AsyncClient, auth: dict[str, str], template: Template) -> int:
    answer = await client.post(
        f"/api/v2/whatsapp/templates/{template.id}/send", json=SAM, headers=auth
    )
    assert answer.status_code == 202, answer.text
    message_id: int = answer.json()["data"]["message"]["id"]
    return message_id


async def history(client: httpx.AsyncClient, auth: dict[str, str], **params: Any) -> dict[str, Any]:
    answer = await client.get("/api/whatsapp/", params=params, headers=auth)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_each_item_is_the_message_as_its_own_route_renders_it(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    clock: FrozenClock,
) -> None:
    plain = await send(client, auth, template)
    failed = await send(client, auth, template)
    delivered = await send(client, auth, template)
    moment = clock.now() + timedelta(minutes=3)
    async with db.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE messages SET state = 'failed', error_code = '131026', "
                "error_title = 'Message undeliverable', error_detail = NULL, failed_at = :at, "
                "provider_message_id = 'wamid.failed' WHERE id = :id"
            ),
            {"at": moment, "id": failed},
        )
        await connection.execute(
            text(
                "UPDATE messages SET state = 'read', sent_at = :at, delivered_at = :at, "
                "read_at = :at, scheduled_at = :at, provider_message_id = 'wamid.read' "
                "WHERE id = :id"
            ),
            {"at": moment, "id": delivered},
        )
    body = await history(client, auth)
    assert body["status"] == "success"
    assert body["message"] == "Messages"
    assert body["data"]["pagination"] == {
        "page": 1,
        "limit": 20,
        "total": 3,
        "pages": 1,
        "next_before_id": None,
    }
    assert [item["id"] for item in body["data"]["items"]] == [delivered, failed, plain]
    for item in body["data"]["items"]:
        one = await client.get(f"/api/whatsapp/{item['id']}/", headers=auth)
        assert list(item.items()) == list(one.json()["data"].items())  # values and key order
    failed_item = body["data"]["items"][1]
    assert failed_item["error"] == {
        "code": "131026",
        "title": "Message undeliverable",
        "detail": None,
    }
    assert failed_item["failed_at"] == moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["data"]["items"][0]["sent_date"] == failed_item["failed_at"]


@pytest.mark.parametrize("filtered", [False, True])
async def test_a_page_past_the_end_is_empty_and_still_has_the_total(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template, filtered: bool
) -> None:
    for _ in range(3):
        await send(client, auth, template)
    params: dict[str, Any] = {"state": "queued"} if filtered else {}
    body = await history(client, auth, page=3, limit=2, **params)
    assert body["data"] == {
        "items": [],
        "pagination": {"page": 3, "limit": 2, "total": 3, "pages": 2, "next_before_id": None},
    }
    last = await history(client, auth, page=2, limit=2, **params)
    assert len(last["data"]["items"]) == 1
    assert last["data"]["pagination"]["total"] == 3


async def test_no_messages_is_an_empty_first_page(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = await history(client, auth)
    assert body["data"] == {
        "items": [],
        "pagination": {"page": 1, "limit": 20, "total": 0, "pages": 0, "next_before_id": None},
    }


async def test_a_user_disabled_between_two_pages_is_refused_the_second(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    ana: User,
) -> None:
    await send(client, auth, template)
    await history(client, auth)
    async with db.engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET is_disabled = :yes WHERE id = :id"), {"yes": True, "id": ana.id}
        )
    assert_error(await client.get("/api/whatsapp/", headers=auth), 401, "token_invalid")


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"is_disabled": True}, 401, "token_invalid"),
        ({"has_api_access": False}, 403, "api_access_disabled"),
        ({"tokens_valid_after": datetime(2030, 1, 1, tzinfo=UTC)}, 401, "token_invalid"),
    ],
)
@pytest.mark.parametrize("empty", [False, True], ids=["page", "empty-page"])
async def test_a_caller_remembered_by_the_process_is_confirmed_by_the_read_itself(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    db: DatabaseUnderTest,
    ana: User,
    change: dict[str, Any],
    status: int,
    code: str,
    empty: bool,
) -> None:
    """After one read the process remembers the caller and reads the page without reading
    them first; the page's statement (or, for an empty page, the total's) returns their state,
    and a change since refuses them as a fresh read would, every time after."""
    await send(client, auth, template)
    params = {"state": "failed"} if empty else {}
    first = await history(client, auth, **params)
    again = await history(client, auth, **params)  # remembered
    assert again == first
    async with db.engine.begin() as connection:
        await connection.execute(
            User.__table__.update().where(User.__table__.c.id == ana.id).values(**change)
        )
    for _ in range(2):
        answer = await client.get("/api/whatsapp/", params=params, headers=auth)
        assert_error(answer, status, code)


async def test_a_read_session_on_postgresql_runs_each_statement_on_its_own(
    db: DatabaseUnderTest,
) -> None:
    """No BEGIN and no ROLLBACK around a read-only route's statements (deps.ReadSessionDep)."""
    if db.kind != "postgresql":
        pytest.skip("SQLite starts no transaction for reads anyway")
    async with session_factory(db.engine)() as plain:
        same = [(await plain.execute(text(XID))).scalar_one() for _ in range(2)]
    async with session_factory(db.engine)() as session:
        read = await get_read_session(session)
        apart = [(await read.execute(text(XID))).scalar_one() for _ in range(2)]
    assert same[0] == same[1]  # one transaction
    assert apart[0] != apart[1]  # a transaction per statement


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 1, 18, 5, 9, 999_999, tzinfo=UTC),
        datetime(2026, 12, 1, 20, 5, 9, tzinfo=timezone(timedelta(hours=2))),
        datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
    ],
)
def test_history_times_are_written_as_every_other_time(moment: datetime) -> None:
    assert _when(moment) == iso_utc(moment)
