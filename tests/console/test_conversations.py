"""The console's conversations: the list (unread badges, the window's state), one
conversation as a chat (bubbles in and out, media through Herald's content route, status
ticks), the reply box while the window is open and the template picker once it is closed."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from herald.config import Settings
from herald.kit.clock import FrozenClock
from herald.models import InboundMessage, Template, User
from tests.conftest import DatabaseUnderTest, login, make_settings
from tests.console.helpers import console_session, send_one, set_message
from tests.conversation.helpers import Customers
from tests.media import files
from tests.message.helpers import approved_template

CUSTOMER = "21696816277"
OTHER = "21650111222"


@pytest.fixture
def settings(db: DatabaseUnderTest, data_dir: Path) -> Settings:
    return make_settings(db, data_dir, rate_limit_burst=10_000)


@pytest.fixture
async def template(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> Template:
    return await approved_template(db, ana, settings, clock.now())


@pytest.fixture
async def customers(
    client: httpx.AsyncClient, db: DatabaseUnderTest, clock: FrozenClock, template: Template
) -> Customers:
    return await Customers.of(client, db, clock, template)


async def relog(client: httpx.AsyncClient, ana: User) -> None:
    """A new console session: the clock moved past the last one's lifetime."""
    client.cookies.clear()
    await console_session(client, ana.email)


def bubbles(page: httpx.Response) -> list[tuple[str, str]]:
    """Each message of the chat, oldest first: its direction and its text (or template)."""
    found = re.findall(
        r'<div class="msg (in|out)".*?<div class="bubble">(.*?)<div class="meta">', page.text, re.S
    )
    return [(d, " ".join(html.unescape(re.sub(r"<[^>]+>", " ", b)).split())) for d, b in found]


async def test_the_list_shows_unread_badges_and_the_window(
    client: httpx.AsyncClient,
    customers: Customers,
    ana: User,
    clock: FrozenClock,
) -> None:
    await customers.write(OTHER, "hello")
    clock.advance(timedelta(hours=1))
    await customers.write(CUSTOMER, "where is my parcel?")
    await customers.write(CUSTOMER, "hello?")
    await console_session(client, ana.email)
    page = await client.get("/console/conversations")
    assert page.status_code == 200, page.text
    assert page.text.index(f"+{CUSTOMER}") < page.text.index(f"+{OTHER}")
    assert '<span class="unread" aria-label="2 unread">2</span>' in page.text
    assert page.text.count("Window open") == 2
    assert "hello?" in page.text
    assert 'aria-current="page">Conversations</a>' in page.text  # in the navigation

    clock.advance(timedelta(hours=23, minutes=30))  # the first customer's window closed
    await relog(client, ana)
    page = await client.get("/console/conversations")
    assert page.text.count("Window open") == 1
    assert page.text.count("Window closed") == 1
    only_unread = await client.get("/console/conversations", params={"unread": "true"})
    assert only_unread.status_code == 200
    assert f"+{CUSTOMER}" in only_unread.text
    garbage = await client.get("/console/conversations", params={"cursor": "garbage"})
    assert garbage.status_code == 200  # the first page instead


async def test_a_conversation_is_a_chat_with_ticks_media_and_a_reply_box(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    customers: Customers,
    template: Template,
    ana: User,
    clock: FrozenClock,
) -> None:
    auth = {"Authorization": f"Bearer {await login(client, ana.email)}"}
    first = await send_one(client, auth, template.id, CUSTOMER)
    await set_message(db, first["id"], state="read")
    clock.advance(timedelta(minutes=1))
    await customers.write(CUSTOMER, "where is my parcel?")
    clock.advance(timedelta(minutes=1))
    await customers.write(CUSTOMER, "photo")
    clock.advance(timedelta(minutes=1))
    second = await send_one(client, auth, template.id, CUSTOMER)
    await set_message(db, second["id"], state="delivered")
    uploaded = await client.post(
        "/api/v2/whatsapp/media",
        files={"file": ("a.pdf", files.pdf(), "application/pdf")},
        headers=auth,
    )
    media_id = uploaded.json()["data"]["media_id"]
    async with db.engine.begin() as connection:  # as the media download leaves it
        await connection.execute(
            update(InboundMessage)
            .where(InboundMessage.text == "photo")
            .values(kind="document", text=None, media_id=media_id, media_status="stored")
        )

    await console_session(client, ana.email)
    page = await client.get(f"/console/conversations/{CUSTOMER}")
    assert page.status_code == 200, page.text
    assert bubbles(page)[0] == ("out", "Template order_confirmed")
    assert [d for d, _ in bubbles(page)] == ["out", "in", "in", "out"]
    assert bubbles(page)[1] == ("in", "where is my parcel?")
    assert f'<a href="/api/v2/whatsapp/media/{media_id}/content">document file</a>' in page.text
    assert 'class="ticks tick-read" data-status="read"' in page.text
    assert 'class="ticks tick-delivered" data-status="delivered"' in page.text
    assert re.search(r"Window open: 23 h 5\d min left", page.text)
    assert re.search(r'<form id="reply-form" class="stack reply" data-country="TN"', page.text)
    assert re.search(r'<section id="template-picker" hidden>', page.text)
    # The console's session reads the media's content route like any API route (a GET).
    api = await client.get(f"/api/v2/whatsapp/media/{media_id}")
    assert api.status_code == 200


async def test_a_closed_window_offers_the_templates_instead_of_a_reply(
    client: httpx.AsyncClient,
    customers: Customers,
    template: Template,
    ana: User,
    clock: FrozenClock,
) -> None:
    await customers.write(CUSTOMER, "hi")
    clock.advance(timedelta(hours=24))
    await console_session(client, ana.email)
    page = await client.get(f"/console/conversations/+{CUSTOMER}")
    assert page.status_code == 200, page.text
    assert "Window closed: only templates may be sent" in page.text
    assert re.search(r'<form id="reply-form"[^>]* hidden', page.text)
    link = f"/console/send?template_id={template.id}&amp;to={CUSTOMER}&amp;country_code=TN"
    assert link in page.text
    send = await client.get(html.unescape(link))
    assert f'value="{CUSTOMER}"' in send.text
    assert f'<option value="{template.id}"' in send.text
    assert re.search(rf'<option value="{template.id}"[^>]* selected', send.text)
