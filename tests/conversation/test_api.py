"""The conversations API: the list (order, cursor, unread, the window), one conversation's
messages in and out interleaved, marking read, and what another user never sees."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from herald.config import Settings
from herald.kit.clock import FrozenClock
from herald.kit.cursor import encode_cursor
from herald.models import User
from tests.conftest import DatabaseUnderTest, assert_error, login
from tests.conversation.helpers import Customers
from tests.message.helpers import SAM, approved_template, send_path

CONVERSATIONS = "/api/v2/whatsapp/conversations"
SAM_NUMBER = SAM["to"]


@pytest.fixture
async def customers(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> Customers:
    template = await approved_template(db, ana, settings, clock.now())
    customers = await Customers.of(client, db, clock, template)
    customers.template_path = send_path(template)  # type: ignore[attr-defined]
    return customers


async def ana_again(client: httpx.AsyncClient) -> dict[str, str]:
    """A new token: the clock moved past the last one's hour."""
    return {"Authorization": f"Bearer {await login(client, 'ana@example.com')}"}


async def send(client: httpx.AsyncClient, customers: Customers, auth: dict[str, str]) -> int:
    path: str = customers.template_path  # type: ignore[attr-defined]
    answer = await client.post(path, json=SAM, headers=auth)
    assert answer.status_code == 202, answer.text
    message_id: int = answer.json()["data"]["message"]["id"]
    return message_id


async def listed(client: httpx.AsyncClient, auth: dict[str, str], **params: Any) -> dict[str, Any]:
    answer = await client.get(CONVERSATIONS, params=params, headers=auth)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


async def every_page(
    client: httpx.AsyncClient, auth: dict[str, str], path: str, limit: int
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        answer = await client.get(path, params=params, headers=auth)
        assert answer.status_code == 200, answer.text
        page = answer.json()["data"]
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["pagination"]["next_cursor"]
        if cursor is None:
            return items


async def test_the_list_shows_who_wrote_last_first_and_pages_without_gaps(
    client: httpx.AsyncClient, customers: Customers, auth: dict[str, str], clock: FrozenClock
) -> None:
    numbers = [f"2169681{n:04d}" for n in range(7)]
    for number in numbers:
        await customers.write(number, f"hello from {number}")
        clock.advance(timedelta(minutes=1))
    # The first customer writes again: they go to the top.
    await customers.write(numbers[0], "still there?")
    expected = [numbers[0], *reversed(numbers[1:])]

    assert [c["phone_number"] for c in (await listed(client, auth))["items"]] == expected
    for limit in (1, 2, 3, 7, 100):
        paged = await every_page(client, auth, CONVERSATIONS, limit)
        assert [c["phone_number"] for c in paged] == expected
    first = await listed(client, auth, limit=3)
    assert first["pagination"]["total"] == 7
    assert first["pagination"]["limit"] == 3
    top = first["items"][0]
    assert top["unread_count"] == 2
    # The customer's first message made them a contact, named from their WhatsApp profile.
    assert top["contact"]["name"] == "Customer"
    assert top["last_message"]["direction"] == "in"
    assert top["last_message"]["text"] == "still there?"
    assert top["last_message"]["type"] == "text"


async def test_unread_counts_and_the_unread_filter(
    client: httpx.AsyncClient, customers: Customers, auth: dict[str, str], clock: FrozenClock
) -> None:
    await customers.write("21696810001", "one")
    await customers.write("21696810001", "two")
    # Read long ago: more than 30 days on, it is marked read in Herald only (no receipt).
    clock.advance(timedelta(days=31))
    auth = await ana_again(client)
    await customers.write("21696810002", "three")
    counts = {c["phone_number"]: c["unread_count"] for c in (await listed(client, auth))["items"]}
    assert counts == {"21696810001": 2, "21696810002": 1}

    answer = await client.post(f"{CONVERSATIONS}/21696810001/read", headers=auth)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == {
        "phone_number": "21696810001",
        "marked_read": 2,
        "read_receipt_for": None,
    }
    unread = await listed(client, auth, unread="true")
    assert [c["phone_number"] for c in unread["items"]] == ["21696810002"]
    assert unread["pagination"]["total"] == 1
    counts = {c["phone_number"]: c["unread_count"] for c in (await listed(client, auth))["items"]}
    assert counts == {"21696810001": 0, "21696810002": 1}
    messages = await every_page(client, auth, f"{CONVERSATIONS}/21696810001/messages", 10)
    assert all(m["read_at"] is not None for m in messages)
    # Again: nothing left to mark.
    again = await client.post(f"{CONVERSATIONS}/21696810001/read", headers=auth)
    assert again.json()["data"]["marked_read"] == 0


async def test_a_receipt_the_provider_cannot_take_leaves_the_messages_unread(
    client: httpx.AsyncClient, customers: Customers, auth: dict[str, str]
) -> None:
    """The plain test app's channel points at a closed port: the receipt cannot leave."""
    await customers.write("21696810001", "where is my parcel?")
    answer = await client.post(f"{CONVERSATIONS}/21696810001/read", headers=auth)
    assert_error(answer, 503, "provider_unavailable")
    [conversation] = (await listed(client, auth))["items"]
    assert conversation["unread_count"] == 1
    [message] = await every_page(client, auth, f"{CONVERSATIONS}/21696810001/messages", 10)
    assert message["read_at"] is None


async def test_the_window_is_open_for_24_hours_after_the_last_message(
    client: httpx.AsyncClient, customers: Customers, auth: dict[str, str], clock: FrozenClock
) -> None:
    written_at = clock.now()
    await customers.write(SAM_NUMBER, "hi")
    [conversation] = (await listed(client, auth))["items"]
    assert conversation["window_open"] is True
    expires = (written_at + timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert conversation["window_expires_at"] == expires
    assert conversation["last_inbound_at"] == written_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    clock.advance(timedelta(hours=23, minutes=59))
    auth = await ana_again(client)
    assert (await listed(client, auth))["items"][0]["window_open"] is True
    clock.advance(timedelta(minutes=1))
    [closed] = (await listed(client, auth))["items"]
    assert closed["window_open"] is False
    assert closed["window_expires_at"] == expires


async def test_messages_in_and_out_are_interleaved_newest_first(
    client: httpx.AsyncClient, customers: Customers, auth: dict[str, str], clock: FrozenClock
) -> None:
    first = await send(client, customers, auth)
    clock.advance(timedelta(minutes=1))
    await customers.write(SAM_NUMBER, "where is my parcel?")
    clock.advance(timedelta(minutes=1))
    await customers.write(SAM_NUMBER, "hello?")
    clock.advance(timedelta(minutes=1))
    second = await send(client, customers, auth)
    clock.advance(timedelta(minutes=1))
    await customers.write(SAM_NUMBER, "thanks")

    path = f"{CONVERSATIONS}/{SAM_NUMBER}/messages"
    whole = await every_page(client, auth, path, 100)
    shape = [(m["direction"], m["text"] or m["template_name"]) for m in whole]
    assert shape == [
        ("in", "thanks"),
        ("out", "order_confirmed"),
        ("in", "hello?"),
        ("in", "where is my parcel?"),
        ("out", "order_confirmed"),
    ]
    assert [m["id"] for m in whole if m["direction"] == "out"] == [second, first]
    outbound = whole[1]
    assert outbound["type"] == "template"
    assert outbound["status"] == "queued"
    assert outbound["media"] is None
    inbound = whole[0]
    assert (inbound["type"], inbound["status"], inbound["read_at"]) == ("text", None, None)
    for limit in (1, 2, 3, 4):
        assert await every_page(client, auth, path, limit) == whole
    page = (await client.get(path, params={"limit": 2}, headers=auth)).json()["data"]
    assert page["pagination"]["total"] == 5

    [conversation] = (await listed(client, auth))["items"]
    assert conversation["last_message"]["direction"] == "in"
    clock.advance(timedelta(minutes=1))
    third = await send(client, customers, auth)
    [conversation] = (await listed(client, auth))["items"]
    last = conversation["last_message"]
    assert (last["direction"], last["id"], last["type"]) == ("out", third, "template")
    assert last["text"] == "order_confirmed"


async def test_a_number_written_to_only_has_messages_and_nothing_to_read(
    client: httpx.AsyncClient, customers: Customers, auth: dict[str, str]
) -> None:
    await send(client, customers, auth)
    assert (await listed(client, auth))["items"] == []  # not a conversation until they write
    messages = await every_page(client, auth, f"{CONVERSATIONS}/+{SAM_NUMBER}/messages", 10)
    assert [m["direction"] for m in messages] == ["out"]
    answer = await client.post(f"{CONVERSATIONS}/{SAM_NUMBER}/read", headers=auth)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["marked_read"] == 0


async def test_unknown_numbers_and_other_users_conversations_are_not_found(
    client: httpx.AsyncClient,
    customers: Customers,
    auth: dict[str, str],
    bob_auth: dict[str, str],
) -> None:
    await customers.write(SAM_NUMBER, "hi")
    for path in (f"{CONVERSATIONS}/21696819999/messages", f"{CONVERSATIONS}/{SAM_NUMBER}/messages"):
        headers = bob_auth if SAM_NUMBER in path else auth
        assert_error(await client.get(path, headers=headers), 404, "conversation_not_found")
    assert_error(
        await client.post(f"{CONVERSATIONS}/{SAM_NUMBER}/read", headers=bob_auth),
        404,
        "conversation_not_found",
    )
    assert (await listed(client, bob_auth))["items"] == []
    assert (await listed(client, auth))["pagination"]["total"] == 1
    # Bob's failed read changed nothing of ana's.
    assert (await listed(client, auth))["items"][0]["unread_count"] == 1


async def test_bad_numbers_and_cursors_are_refused(
    client: httpx.AsyncClient, customers: Customers, auth: dict[str, str]
) -> None:
    await customers.write(SAM_NUMBER, "hi")
    assert_error(
        await client.get(f"{CONVERSATIONS}/not-a-number/messages", headers=auth),
        400,
        "invalid_phone_number",
    )
    made_up = (
        "garbage",
        encode_cursor("m", 1, 2),  # another list's
        encode_cursor("c", "2026-01-01T00:00:00", 1),  # a time without its zone
        encode_cursor("c", "2026-01-01T00:00:00+00:00", 2**64),  # beyond any id
        encode_cursor("c", "yesterday", 1),
        encode_cursor("c", "2026-01-01T00:00:00+00:00", True),
    )
    for cursor in made_up:
        answer = await client.get(CONVERSATIONS, params={"cursor": cursor}, headers=auth)
        assert_error(answer, 400, "validation_failed")
    path = f"{CONVERSATIONS}/{SAM_NUMBER}/messages"
    for cursor in ("garbage", encode_cursor("m", -1, 2), encode_cursor("m", 1, 2**63)):
        answer = await client.get(path, params={"cursor": cursor}, headers=auth)
        assert_error(answer, 400, "validation_failed")
    assert_error(
        await client.get(CONVERSATIONS, params={"limit": 101}, headers=auth),
        400,
        "validation_failed",
    )
