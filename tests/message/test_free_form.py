"""Free-form sends (``POST /api/v2/whatsapp/messages``): each type stored as the dispatcher
reads it, every rule of Meta's refused with its code, the customer's window read from the
database (409 window_closed, nothing stored), opt-outs, media and replies scoped to the caller,
idempotency."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from herald.channel import service as channels
from herald.channel.defaults import emulator_defaults
from herald.config import Settings
from herald.db import session_factory
from herald.kit.clock import FrozenClock, iso_utc
from herald.kit.crypto import Cipher
from herald.meta_webhook.processor import process_pending
from herald.models import Channel, InboundMessage, Message, User
from tests.conftest import DatabaseUnderTest, add_user, assert_error, count_rows, login
from tests.conversation.test_window import CUSTOMER, written
from tests.media import files
from tests.media.test_endpoints import uploaded
from tests.meta_webhook.test_endpoints import sign
from tests.meta_webhook.test_failed_status import delivery

SEND = "/api/v2/whatsapp/messages"
TO = {"to": CUSTOMER, "country_code": "TN"}
TEXT = {**TO, "type": "text", "text": {"body": "It left the warehouse this morning."}}
BUTTONS = {
    "type": "button",
    "body": {"text": "Shall we deliver tomorrow?"},
    "action": {
        "buttons": [
            {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
            {"type": "reply", "reply": {"id": "later", "title": "Later"}},
        ]
    },
}
LIST = {
    "type": "list",
    "header": {"type": "text", "text": "Delivery"},
    "body": {"text": "Pick a slot"},
    "footer": {"text": "Any time works"},
    "action": {
        "button": "Slots",
        "sections": [
            {"title": "Morning", "rows": [{"id": "m1", "title": "8-10", "description": "Early"}]},
            {"title": "Afternoon", "rows": [{"id": "a1", "title": "14-16"}]},
        ],
    },
}


async def channel_of(
    db: DatabaseUnderTest, user: User, settings: Settings, clock: FrozenClock
) -> Channel:
    async with session_factory(db.engine)() as session:
        channel = await channels.ensure_default(
            session,
            user.id,
            emulator_defaults(settings),
            Cipher(settings.resolved_encryption_keys()),
            clock.now(),
        )
        await session.commit()
        return channel


async def customer_writes(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    channel: Channel,
    clock: FrozenClock,
    wamid: str = "wamid.in-1",
    sender: str = CUSTOMER,
) -> int:
    """The customer's message reaches Herald (a signed webhook, processed at ``clock``'s now):
    their window opens. Returns the inbound message's id."""
    value = written(
        channel.phone_number_id,
        wamid,
        "where is my parcel?",
        "Sam",
        sent_at=int(clock.now().timestamp()),  # Meta's time of writing: the window runs from it
    )
    value["messages"][0]["from"] = value["contacts"][0]["wa_id"] = sender
    body = delivery(channel.waba_id, [("messages", value)])
    answer = await client.post("/webhooks/whatsapp", content=body, headers=sign(body))
    assert answer.is_success, answer.text
    assert await process_pending(session_factory(db.engine), clock) == 1
    async with session_factory(db.engine)() as session:
        found = await session.scalar(
            select(InboundMessage.id).where(InboundMessage.provider_message_id == wamid)
        )
    assert found is not None
    return int(found)


@pytest.fixture
async def channel(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> Channel:
    return await channel_of(db, ana, settings, clock)


@pytest.fixture
async def inbound_id(
    client: httpx.AsyncClient, db: DatabaseUnderTest, channel: Channel, clock: FrozenClock
) -> int:
    """The customer wrote: ana's window with them is open."""
    return await customer_writes(client, db, channel, clock)


async def stored(db: DatabaseUnderTest) -> list[Message]:
    async with session_factory(db.engine)() as session:
        return list((await session.scalars(select(Message).order_by(Message.id))).all())


async def test_a_text_reply_is_queued_with_its_type_and_the_wamid_it_answers(
    client: httpx.AsyncClient, auth: dict[str, str], db: DatabaseUnderTest, inbound_id: int
) -> None:
    answer = await client.post(SEND, json={**TEXT, "reply_to": inbound_id}, headers=auth)
    assert answer.status_code == 202, answer.text
    data = answer.json()["data"]
    message = data["message"]
    assert data["whatsapp_bulk_group_id"] == message["whatsapp_bulk_group_id"]
    assert message["type"] == "text"
    assert message["template_id"] is None
    assert message["template_name"] == ""
    assert message["state"] == "queued"
    assert message["phone_number"] == CUSTOMER
    [row] = await stored(db)
    assert row.kind == "text"
    assert row.template_id is None
    assert row.content == {
        "text": {"body": "It left the warehouse this morning.", "preview_url": False},
        "reply_to": inbound_id,
        "context_message_id": "wamid.in-1",
    }
    one = await client.get(f"/api/whatsapp/{message['id']}/", headers=auth)
    assert one.json()["data"] == message
    listed = await client.get("/api/whatsapp/", headers=auth)
    assert listed.json()["data"]["items"] == [message]


@pytest.mark.parametrize(
    ("kind", "part", "content"),
    [
        ("text", {"body": "See https://example.com", "preview_url": True}, None),
        (
            "image",
            {"link": "https://example.com/parcel.png", "caption": "Your parcel"},
            {"link": "https://example.com/parcel.png", "caption": "Your parcel"},
        ),
        (
            "video",
            {"link": "https://example.com/clip.mp4"},
            {"link": "https://example.com/clip.mp4"},
        ),
        (
            "audio",
            {"link": "https://example.com/note.ogg"},
            {"link": "https://example.com/note.ogg"},
        ),
        (
            "document",
            {"link": "https://example.com/i.pdf", "filename": "invoice.pdf"},
            {"link": "https://example.com/i.pdf", "filename": "invoice.pdf"},
        ),
        ("interactive", BUTTONS, None),
        ("interactive", LIST, None),
    ],
    ids=["text", "image", "video", "audio", "document", "buttons", "list"],
)
async def test_each_type_is_stored_with_its_parts(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    inbound_id: int,
    kind: str,
    part: dict[str, Any],
    content: dict[str, Any] | None,
) -> None:
    answer = await client.post(SEND, json={**TO, "type": kind, kind: part}, headers=auth)
    assert answer.status_code == 202, answer.text
    assert answer.json()["data"]["message"]["type"] == kind
    [row] = await stored(db)
    assert row.kind == kind
    assert row.header_media_id is None
    if kind == "text":
        assert row.content == {"text": part}
    elif kind == "interactive":
        parts = row.content["interactive"]
        assert parts["type"] == part["type"]
        assert parts["body"] == part["body"]["text"]
        if part["type"] == "button":
            assert parts["action"] == {
                "buttons": [{"id": "yes", "title": "Yes"}, {"id": "later", "title": "Later"}]
            }
        else:
            assert parts["header"] == "Delivery"
            assert parts["footer"] == "Any time works"
            assert parts["action"] == LIST["action"]
    else:
        assert row.content == {"media": content}


async def test_a_file_by_media_id_is_the_callers_and_of_a_kind_the_type_takes(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    bob_auth: dict[str, str],
    db: DatabaseUnderTest,
    inbound_id: int,
) -> None:
    photo = await uploaded(client, auth, files.png(), name="parcel.png")
    invoice = await uploaded(client, auth, files.pdf(), name="invoice.pdf")
    bobs = await uploaded(client, bob_auth, files.png(), name="bob.png")
    answer = await client.post(
        SEND, json={**TO, "type": "image", "image": {"media_id": photo}}, headers=auth
    )
    assert answer.status_code == 202, answer.text
    document = {"media_id": invoice, "caption": "April", "filename": "invoice-april.pdf"}
    answer = await client.post(
        SEND, json={**TO, "type": "document", "document": document}, headers=auth
    )
    assert answer.status_code == 202, answer.text
    rows = await stored(db)
    assert [(r.kind, r.header_media_id) for r in rows] == [("image", photo), ("document", invoice)]
    assert rows[1].content == {"media": document}

    body = assert_error(
        await client.post(
            SEND, json={**TO, "type": "image", "image": {"media_id": invoice}}, headers=auth
        ),
        400,
        "media_type_mismatch",
    )
    assert body["data"] == {"field": "image.media_id", "media_type": "document"}
    assert_error(
        await client.post(
            SEND, json={**TO, "type": "video", "video": {"media_id": photo}}, headers=auth
        ),
        400,
        "media_type_mismatch",
    )
    assert_error(
        await client.post(
            SEND, json={**TO, "type": "image", "image": {"media_id": bobs}}, headers=auth
        ),
        404,
        "media_not_found",
    )
    assert await count_rows(db, "messages") == 2


LONG = "x" * 4097


def interactive(**changes: Any) -> dict[str, Any]:
    return {**TO, "type": "interactive", "interactive": {**BUTTONS, **changes}}


def buttons(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"buttons": [{"type": "reply", "reply": {"id": i, "title": t}} for i, t in pairs]}


def rows(count: int, section_title: str | None = "S") -> dict[str, Any]:
    section: dict[str, Any] = {"rows": [{"id": f"r{n}", "title": f"R{n}"} for n in range(count)]}
    if section_title is not None:
        section["title"] = section_title
    return section


def a_list(*sections: dict[str, Any], button: str = "Slots") -> dict[str, Any]:
    return interactive(type="list", action={"button": button, "sections": list(sections)})


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({**TO, "type": "text"}, 400, "validation_failed"),  # the type's part is missing
        ({**TEXT, "image": {"link": "https://example.com/p.png"}}, 400, "validation_failed"),
        ({**TO, "type": "sticker", "text": {"body": "x"}}, 400, "validation_failed"),
        ({**TO, "type": "text", "text": {"body": LONG}}, 400, "validation_failed"),
        ({**TO, "type": "text", "text": {"body": "   "}}, 400, "validation_failed"),
        ({**TEXT, "colour": "red"}, 400, "validation_failed"),
        ({**TEXT, "to": "2169681"}, 400, "invalid_phone_number"),
        ({**TEXT, "reply_to": 0}, 400, "validation_failed"),
        ({**TO, "type": "image", "image": {}}, 400, "validation_failed"),
        (
            {**TO, "type": "image", "image": {"media_id": 1, "link": "https://example.com/p.png"}},
            400,
            "validation_failed",
        ),
        (
            {**TO, "type": "audio", "audio": {"link": "https://example.com/a.ogg", "caption": "x"}},
            400,
            "validation_failed",
        ),
        (
            {
                **TO,
                "type": "image",
                "image": {"link": "https://example.com/p.png", "filename": "p"},
            },
            400,
            "validation_failed",
        ),
        (
            {
                **TO,
                "type": "image",
                "image": {"link": "https://example.com/p.png", "caption": "c" * 1025},
            },
            400,
            "validation_failed",
        ),
        (
            {**TO, "type": "image", "image": {"link": "http://example.com/p.png"}},
            400,
            "media_link_invalid",
        ),
        (
            {**TO, "type": "video", "video": {"link": "https://10.0.0.7/v.mp4"}},
            400,
            "media_link_invalid",
        ),
        (
            {**TO, "type": "document", "document": {"link": "https://intranet/i.pdf"}},
            400,
            "media_link_invalid",
        ),
        (interactive(body={"text": "b" * 1025}), 400, "validation_failed"),
        (interactive(header={"type": "text", "text": "h" * 61}), 400, "validation_failed"),
        (interactive(header={"type": "image", "text": "h"}), 400, "validation_failed"),
        (interactive(footer={"text": "f" * 61}), 400, "validation_failed"),
        (interactive(type="carousel"), 400, "validation_failed"),
        (interactive(action=buttons()), 400, "validation_failed"),
        (
            interactive(action=buttons(("a", "A"), ("b", "B"), ("c", "C"), ("d", "D"))),
            400,
            "validation_failed",
        ),
        (interactive(action=buttons(("a", "A"), ("a", "B"))), 400, "validation_failed"),
        (interactive(action=buttons(("a", "Same"), ("b", "Same"))), 400, "validation_failed"),
        (interactive(action=buttons(("a", "t" * 21))), 400, "validation_failed"),
        (interactive(action=buttons(("i" * 257, "A"))), 400, "validation_failed"),
        (interactive(action={**buttons(("a", "A")), "button": "Slots"}), 400, "validation_failed"),
        (
            a_list(
                rows(6),
                {
                    **rows(5),
                    "title": "T",
                    "rows": [{"id": f"x{n}", "title": "X"} for n in range(5)],
                },
            ),
            400,
            "validation_failed",
        ),
        (a_list(rows(11)), 400, "validation_failed"),
        (a_list(rows(1, None), rows(1, None)), 400, "validation_failed"),
        (a_list(rows(2), rows(2)), 400, "validation_failed"),  # the same row ids twice
        (a_list(rows(1), button="b" * 21), 400, "validation_failed"),
        (a_list(*[rows(1, f"S{n}") for n in range(11)]), 400, "validation_failed"),
        (
            a_list({"title": "S", "rows": [{"id": "r", "title": "t" * 25}]}),
            400,
            "validation_failed",
        ),
        (
            a_list({"title": "S", "rows": [{"id": "r", "title": "t", "description": "d" * 73}]}),
            400,
            "validation_failed",
        ),
        (
            a_list({"title": "S", "rows": [{"id": "i" * 201, "title": "t"}]}),
            400,
            "validation_failed",
        ),
        (
            a_list({"title": "s" * 25, "rows": [{"id": "r", "title": "t"}]}),
            400,
            "validation_failed",
        ),
        (
            interactive(type="list", action={**buttons(("a", "A")), "sections": [rows(1)]}),
            400,
            "validation_failed",
        ),
    ],
)
async def test_each_rule_is_refused_with_its_code_and_nothing_is_stored(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    inbound_id: int,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    assert_error(await client.post(SEND, json=body, headers=auth), status, code)
    assert await count_rows(db, "messages") == 0


async def test_outside_the_window_nothing_is_queued(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    channel: Channel,
    clock: FrozenClock,
) -> None:
    never = assert_error(await client.post(SEND, json=TEXT, headers=auth), 409, "window_closed")
    assert never["data"] == {"window_expires_at": None}
    wrote_at = clock.now()
    await customer_writes(client, db, channel, clock)
    clock.advance(timedelta(hours=23, minutes=59))
    fresh = {"Authorization": f"Bearer {await login(client, 'ana@example.com')}"}
    inside = await client.post(SEND, json=TEXT, headers=fresh)
    assert inside.status_code == 202, inside.text
    clock.advance(timedelta(minutes=1))  # 24 h after the customer's message
    closed = assert_error(await client.post(SEND, json=TEXT, headers=fresh), 409, "window_closed")
    assert closed["data"] == {"window_expires_at": iso_utc(wrote_at + timedelta(hours=24))}
    keyed = {**fresh, "Idempotency-Key": "late-reply"}
    assert_error(await client.post(SEND, json=TEXT, headers=keyed), 409, "window_closed")
    assert await count_rows(db, "messages") == 1  # the one sent inside the window
    assert await count_rows(db, "idempotency_keys") == 0
    # Another customer's window is theirs alone.
    other = {**TEXT, "to": "21696816278"}
    assert_error(await client.post(SEND, json=other, headers=fresh), 409, "window_closed")


async def test_an_opted_out_recipient_is_refused_as_for_templates(
    client: httpx.AsyncClient, auth: dict[str, str], db: DatabaseUnderTest, inbound_id: int
) -> None:
    added = await client.post(
        "/api/v2/opt-outs", json={"number": CUSTOMER, "country_code": "TN"}, headers=auth
    )
    assert added.status_code == 201, added.text
    assert_error(await client.post(SEND, json=TEXT, headers=auth), 409, "recipient_opted_out")
    assert await count_rows(db, "messages") == 0


async def test_reply_to_is_one_of_this_customers_messages_to_the_caller(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    settings: Settings,
    channel: Channel,
    clock: FrozenClock,
    inbound_id: int,
) -> None:
    other = await customer_writes(client, db, channel, clock, "wamid.in-2", "21696816278")
    bob = await add_user(db, "bob@example.com")
    bobs_channel = await channel_of(db, bob, settings, clock)
    bobs = await customer_writes(client, db, bobs_channel, clock, "wamid.in-3")
    for reply_to in (other, bobs, 999_999):
        assert_error(
            await client.post(SEND, json={**TEXT, "reply_to": reply_to}, headers=auth),
            404,
            "reply_to_not_found",
        )
    assert await count_rows(db, "messages") == 0


async def test_without_a_channel_the_answer_is_the_template_sends_one(
    client: httpx.AsyncClient, auth: dict[str, str], db: DatabaseUnderTest
) -> None:
    assert_error(await client.post(SEND, json=TEXT, headers=auth), 409, "channel_missing")


async def test_an_idempotency_key_replays_the_first_answer(
    client: httpx.AsyncClient, auth: dict[str, str], db: DatabaseUnderTest, inbound_id: int
) -> None:
    keyed = {**auth, "Idempotency-Key": "reply-41"}
    first = await client.post(SEND, json=TEXT, headers=keyed)
    again = await client.post(SEND, json=TEXT, headers=keyed)
    in_body = await client.post(SEND, json={**TEXT, "idempotency_key": "reply-41"}, headers=auth)
    assert first.status_code == again.status_code == in_body.status_code == 202, first.text
    assert again.json() == first.json() == in_body.json()
    assert await count_rows(db, "messages") == 1
    other = {**TEXT, "text": {"body": "Another answer"}}
    body = assert_error(
        await client.post(SEND, json=other, headers=keyed), 409, "idempotency_conflict"
    )
    assert body["data"] == {"idempotency_key": "reply-41"}
