"""The console's pages over HTTP: the login redirect, the headers every page carries, user
scoping, the history's filters, failures explained in words, the local assets, and
``explain()`` itself.

Objects are made the way the other suites make them: templates approved in the database
(``tests.message.helpers``), everything else through the JSON API; message states the dispatcher
would set (failed, delivered, an error code) are written to the database directly.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select

from herald.config import Settings
from herald.console.explain import explain
from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.models import CallbackDelivery, CallbackEndpoint, User
from tests.conftest import DatabaseUnderTest, add_user, login, make_settings
from tests.console.helpers import (
    SESSION,
    console_session,
    csrf_of,
    element_text,
    expected_csrf,
    message_rows,
    send_bulk,
    send_one,
    set_message,
    submit_login,
)
from tests.conversation.helpers import Customers
from tests.message.helpers import approved_template

ANA_NUMBERS = ("21650111222", "21650111333", "21650111444", "21650111555")
BOB_NUMBER = "21698000111"
PAGES = (
    "/console/dashboard",
    "/console/templates",
    "/console/templates/new",
    "/console/templates/{template_id}",
    "/console/send",
    "/console/messages",
    "/console/messages/{message_id}",
    "/console/groups/{group_id}",
    "/console/channels",
    "/console/keys",
    "/console/callbacks",
    "/console/conversations",
    "/console/conversations/{number}",
)
WORDS_131026 = (
    "WhatsApp could not deliver it: the number may not be on WhatsApp, or the "
    "recipient's app is too old to receive it."
)
WORDS_PERMISSION = "The channel's access token lacks a permission this needs."
NOBODYS_GROUP = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def settings(db: DatabaseUnderTest, data_dir: Path) -> Settings:
    # A few dozen API calls in a moment; the per-user budget is not under test here.
    return make_settings(db, data_dir, rate_limit_burst=10_000)


@dataclass
class Owned:
    """One user's objects, as the API (and a finished review) left them."""

    user: User
    auth: dict[str, str]
    template_id: int
    template_name: str
    draft_id: int
    message_id: int
    message_group_id: str
    number: str
    group_id: str
    bulk_ids: list[int]
    key_name: str
    callback_url: str


async def make_owned(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    settings: Settings,
    clock: FrozenClock,
    user: User,
    prefix: str,
    numbers: tuple[str, ...],
) -> Owned:
    auth = {"Authorization": f"Bearer {await login(client, user.email)}"}
    name = f"{prefix}_order"
    template = await approved_template(db, user, settings, clock.now(), name=name)
    draft = await client.post(
        "/api/v2/whatsapp/templates",
        json={
            "name": f"{prefix}_draft",
            "language": "en",
            "category": "UTILITY",
            "body": "Hi {{1}}",
        },
        headers=auth,
    )
    assert draft.status_code == 201, draft.text
    message = await send_one(client, auth, template.id, numbers[0])
    customers = await Customers.of(client, db, clock, template)
    await customers.write(numbers[0], f"{prefix} customer writes")
    group = await send_bulk(client, auth, template.id, list(numbers[1:3]))
    listed = await client.get(
        "/api/whatsapp/", params={"whatsapp_bulk_group_id": group}, headers=auth
    )
    bulk_ids = [item["id"] for item in listed.json()["data"]["items"]]
    key_name = f"{prefix} shop key"
    key = await client.post(
        "/api/v2/secret-keys",
        json={
            "platform_type": "woocommerce",
            "base_uri": "https://shop.example.com",
            "name": key_name,
        },
        headers=auth,
    )
    assert key.status_code == 201, key.text
    callback_url = f"https://93.184.215.14/{prefix}-hook"
    callback = await client.post("/api/v2/webhooks", json={"url": callback_url}, headers=auth)
    assert callback.status_code == 201, callback.text
    return Owned(
        user=user,
        auth=auth,
        template_id=template.id,
        template_name=name,
        draft_id=draft.json()["data"]["id"],
        message_id=message["id"],
        message_group_id=message["whatsapp_bulk_group_id"],
        number=numbers[0],
        group_id=group,
        bulk_ids=bulk_ids,
        key_name=key_name,
        callback_url=callback_url,
    )


@pytest.fixture
async def anas(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    settings: Settings,
    clock: FrozenClock,
    ana: User,
) -> Owned:
    return await make_owned(client, db, settings, clock, ana, "anas", ANA_NUMBERS)


@pytest.fixture
async def bobs(
    client: httpx.AsyncClient, db: DatabaseUnderTest, settings: Settings, clock: FrozenClock
) -> Owned:
    bob = await add_user(db, "bob@example.com", now=clock.now())
    numbers = (BOB_NUMBER, "21698000222", "21698000333")
    return await make_owned(client, db, settings, clock, bob, "bobs", numbers)


def page_paths(owned: Owned) -> list[str]:
    return [
        p.format(
            template_id=owned.template_id,
            message_id=owned.message_id,
            group_id=owned.group_id,
            number=owned.number,
        )
        for p in PAGES
    ]


def assert_console_page(answer: httpx.Response, status: int = 200) -> None:
    """A page as every console page must be: HTML, never cached or framed, a strict CSP."""
    assert answer.status_code == status, (answer.url, answer.status_code, answer.text[:500])
    assert answer.headers["content-type"].startswith("text/html"), answer.url
    assert answer.headers["cache-control"] == "no-store", answer.url
    policy = answer.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives["default-src"] == ["'self'"], policy
    assert directives["script-src"] == ["'self'"], policy
    assert directives["frame-ancestors"] == ["'none'"], policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert answer.headers["x-frame-options"] == "DENY"


# --- without a session ------------------------------------------------------------------------


async def test_every_page_without_a_session_redirects_to_the_login_form(
    client: httpx.AsyncClient, anas: Owned
) -> None:
    for path in [*page_paths(anas), "/console/messages?state=failed&phone_number=216"]:
        answer = await client.get(path)
        assert answer.status_code == 303, (path, answer.status_code)
        assert answer.headers["location"] == f"/console/login?{urlencode({'next': path})}", path
        assert not answer.headers.get_list("set-cookie"), path  # no cookie, nothing to clear
        assert anas.template_name not in answer.text, path
    # The same ids that open with a session (the control for the redirects above).
    await console_session(client, anas.user.email)
    for path in page_paths(anas):
        assert (await client.get(path)).status_code == 200, path


async def test_the_login_redirect_comes_back_to_the_page_asked_for(
    client: httpx.AsyncClient, anas: Owned
) -> None:
    wanted = f"/console/messages/{anas.message_id}"
    sent = await client.get(wanted)
    assert (
        sent.headers["location"] == f"/console/login?next=%2Fconsole%2Fmessages%2F{anas.message_id}"
    )
    form = await client.get(sent.headers["location"])
    assert f'name="next" value="{wanted}"' in form.text
    answer = await submit_login(client, anas.user.email, next_path=wanted)
    assert (answer.status_code, answer.headers["location"]) == (303, wanted)
    page = await client.get(wanted)
    assert page.status_code == 200, page.text
    assert f"Message {anas.message_id}" in page.text


# --- with a session -------------------------------------------------------------------------


async def test_every_page_with_a_session_is_html_with_no_store_a_csp_and_the_csrf_token(
    client: httpx.AsyncClient, anas: Owned
) -> None:
    csrf = await console_session(client, anas.user.email)
    assert csrf == expected_csrf(client.cookies[SESSION])
    for path in page_paths(anas):
        answer = await client.get(path)
        assert_console_page(answer)
        assert csrf_of(answer) == csrf, path
        assert anas.user.email in answer.text, path  # the logout form names who is logged in
        assert '<form class="logout" method="post" action="/console/logout">' in answer.text, path


async def test_pages_show_the_users_own_objects(client: httpx.AsyncClient, anas: Owned) -> None:
    await console_session(client, anas.user.email)
    templates = (await client.get("/console/templates")).text
    assert f'href="/console/templates/{anas.template_id}">anas_order</a>' in templates
    assert f'href="/console/templates/{anas.draft_id}">anas_draft</a>' in templates
    drafts = (await client.get("/console/templates", params={"state": "DRAFT"})).text
    assert "anas_draft" in drafts
    assert "anas_order" not in drafts
    by_name = (await client.get("/console/templates", params={"name": "anas_order"})).text
    assert "anas_order" in by_name
    assert "anas_draft" not in by_name
    one = (await client.get(f"/console/templates/{anas.template_id}")).text
    assert "<h1>anas_order</h1>" in one
    assert f'href="/console/send?template_id={anas.template_id}"' in one
    send = (await client.get("/console/send", params={"template_id": anas.template_id})).text
    assert re.search(rf'<option value="{anas.template_id}"[^>]*selected>anas_order \(en\)', send)
    assert "anas_draft" not in send  # only approved templates can be sent
    history = await client.get("/console/messages")
    assert set(message_rows(history)) == {anas.message_id, *anas.bulk_ids}
    message = (await client.get(f"/console/messages/{anas.message_id}")).text
    assert f"+{anas.number} (TN)" in message
    assert f'href="/console/groups/{anas.message_group_id}"' in message
    group = await client.get(f"/console/groups/{anas.group_id}")
    assert element_text(group, r'<span id="group-total">(.*?)</span>') == "2"
    assert """data-counts='{"queued": 2}'""" in group.text
    channel = (await client.get("/console/channels")).text
    assert str(100_000_000_000 + anas.user.id) in channel
    assert "built-in emulator" in channel
    keys = (await client.get("/console/keys")).text
    assert "anas shop key" in keys
    callbacks = (await client.get("/console/callbacks")).text
    assert anas.callback_url in callbacks


async def test_another_users_objects_are_missing_and_never_listed(
    client: httpx.AsyncClient, anas: Owned, bobs: Owned
) -> None:
    await console_session(client, anas.user.email)
    missing = {
        "template": [f"/console/templates/{i}" for i in (bobs.template_id, bobs.draft_id)],
        "message": [f"/console/messages/{i}" for i in (bobs.message_id, *bobs.bulk_ids)],
        "bulk group": [f"/console/groups/{bobs.group_id}"],
        "conversation": [f"/console/conversations/{BOB_NUMBER}"],
    }
    nobodys = {
        "template": ["/console/templates/999999999"],
        "message": ["/console/messages/999999999"],
        "bulk group": [f"/console/groups/{NOBODYS_GROUP}"],
        "conversation": ["/console/conversations/21699999999", "/console/conversations/x"],
    }
    for what in missing:
        for path in missing[what] + nobodys[what]:
            answer = await client.get(path)
            assert_console_page(answer, 404)
            assert f"<h1>No such {what}</h1>" in answer.text, path
            for secret in ("bobs_order", "bobs_draft", BOB_NUMBER, "bob@example.com"):
                assert secret not in answer.text, (path, secret)
    # The lists: ana's own rows, never bob's, even when asked for by his ids.
    pages = {
        "/console/templates": "anas_order",
        "/console/send": "anas_order",
        "/console/messages": ANA_NUMBERS[0],
        "/console/keys": "anas shop key",
        "/console/callbacks": anas.callback_url,
        "/console/channels": str(100_000_000_000 + anas.user.id),
        "/console/conversations": ANA_NUMBERS[0],
    }
    bobs_things = (
        "bobs_order",
        "bobs_draft",
        BOB_NUMBER,
        "bobs shop key",
        "bobs customer writes",
        bobs.callback_url,
        bobs.group_id,
        str(100_000_000_000 + bobs.user.id),
        "bob@example.com",
    )
    for path, own in pages.items():
        text = (await client.get(path)).text
        assert own in text, path
        for thing in bobs_things:
            assert thing not in text, (path, thing)
    bobs_ids = {bobs.message_id, *bobs.bulk_ids}
    for query in (
        {"whatsapp_bulk_group_id": bobs.group_id},
        {"template_id": str(bobs.template_id)},
        {"phone_number": BOB_NUMBER},
    ):
        answer = await client.get("/console/messages", params=query)
        assert answer.status_code == 200, answer.text
        assert not set(message_rows(answer)) & bobs_ids, query
        assert message_rows(answer) == {}, query
    everything = message_rows(await client.get("/console/messages"))
    assert set(everything) == {anas.message_id, *anas.bulk_ids}


async def test_what_a_user_typed_is_escaped(
    client: httpx.AsyncClient, ana: User, auth: dict[str, str]
) -> None:
    name = '<img src=x onerror="alert(1)">'
    made = await client.post(
        "/api/v2/secret-keys",
        json={"platform_type": "woocommerce", "base_uri": "https://shop.example.com", "name": name},
        headers=auth,
    )
    assert made.status_code == 201, made.text
    await console_session(client, ana.email)
    page = await client.get("/console/keys")
    assert page.status_code == 200
    assert "<img src=x" not in page.text
    assert "&lt;img src=x" in page.text
    searched = await client.get("/console/templates", params={"name": '"><script>x()</script>'})
    assert searched.status_code == 200
    assert "<script>x()" not in searched.text


# --- the history's filters ------------------------------------------------------------------


@dataclass
class History:
    """Ana's five messages: m1, m2 by template A; m3, m4, m5 by template B (m4 and m5 a bulk
    group), on four days of January 2026, m1 failed and m2 delivered."""

    a: int
    b: int
    m: dict[int, int]
    group_id: str


async def at(db: DatabaseUnderTest, message_id: int, day: int, **values: object) -> None:
    await set_message(db, message_id, created_at=datetime(2026, 1, day, 9, 0, tzinfo=UTC), **values)


@pytest.fixture
async def history(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    settings: Settings,
    clock: FrozenClock,
    ana: User,
    auth: dict[str, str],
) -> History:
    a = await approved_template(db, ana, settings, clock.now(), name="template_a")
    b = await approved_template(db, ana, settings, clock.now(), name="template_b")
    m1 = (await send_one(client, auth, a.id, ANA_NUMBERS[0]))["id"]
    m2 = (await send_one(client, auth, a.id, ANA_NUMBERS[1]))["id"]
    m3 = (await send_one(client, auth, b.id, ANA_NUMBERS[0]))["id"]
    group = await send_bulk(client, auth, b.id, [ANA_NUMBERS[2], ANA_NUMBERS[3]])
    listed = await client.get(
        "/api/whatsapp/", params={"whatsapp_bulk_group_id": group}, headers=auth
    )
    m4, m5 = sorted(item["id"] for item in listed.json()["data"]["items"])
    now = clock.now()
    await at(db, m1, 1, state="failed", error_code="131026", failed_at=now)
    await at(db, m2, 2, state="delivered", sent_at=now, delivered_at=now)
    await at(db, m3, 3)
    await at(db, m4, 4)
    await at(db, m5, 4)
    await console_session(client, ana.email)
    return History(a=a.id, b=b.id, m={1: m1, 2: m2, 3: m3, 4: m4, 5: m5}, group_id=group)


async def shown(client: httpx.AsyncClient, history: History, **query: str) -> set[int]:
    """Which of the five (by number 1-5) the history page shows for this query."""
    answer = await client.get("/console/messages", params=query)
    assert_console_page(answer)
    number = {message_id: n for n, message_id in history.m.items()}
    rows = message_rows(answer)
    assert set(rows) <= set(number), rows
    return {number[i] for i in rows}


async def test_the_history_filters_narrow_the_list(
    client: httpx.AsyncClient, history: History
) -> None:
    cases: list[tuple[dict[str, str], set[int]]] = [
        ({}, {1, 2, 3, 4, 5}),
        ({"state": "failed"}, {1}),
        ({"state": "delivered"}, {2}),
        ({"state": "queued"}, {3, 4, 5}),
        ({"state": "read"}, set()),
        ({"template_id": str(history.a)}, {1, 2}),
        ({"template_id": str(history.b)}, {3, 4, 5}),
        ({"phone_number": ANA_NUMBERS[0]}, {1, 3}),
        ({"phone_number": "+216 50-111-222"}, {1, 3}),
        ({"phone_number": ANA_NUMBERS[2]}, {4}),
        ({"whatsapp_bulk_group_id": history.group_id}, {4, 5}),
        ({"from": "2026-01-02T00:00"}, {2, 3, 4, 5}),
        ({"to": "2026-01-02T23:59"}, {1, 2}),
        ({"from": "2026-01-02T00:00", "to": "2026-01-03T23:59"}, {2, 3}),
        ({"from": "2026-01-02T09:00"}, {2, 3, 4, 5}),  # inclusive
        ({"from": "2026-01-02T09:00:01"}, {3, 4, 5}),
        ({"from": "2026-01-02T10:30:00+02:00"}, {2, 3, 4, 5}),  # 08:30 UTC, before m2
        ({"from": "2026-01-02T11:30:00+02:00"}, {3, 4, 5}),  # 09:30 UTC, after m2
        ({"from": "2026-01-02T09:00:00Z", "to": "2026-01-02T09:00:00Z"}, {2}),
        ({"state": "queued", "template_id": str(history.b), "from": "2026-01-04T00:00"}, {4, 5}),
        ({"state": "failed", "template_id": str(history.b)}, set()),
    ]
    for query, expected in cases:
        assert await shown(client, history, **query) == expected, query


async def test_filters_are_kept_in_the_form_and_an_empty_result_says_so(
    client: httpx.AsyncClient, history: History
) -> None:
    answer = await client.get(
        "/console/messages", params={"state": "read", "phone_number": "216501"}
    )
    assert_console_page(answer)
    assert '<option value="read" selected>read</option>' in answer.text
    assert 'name="phone_number" value="216501"' in answer.text
    assert message_rows(answer) == {}
    assert "No messages match these filters." in html.unescape(re.sub(r"<[^>]+>", "", answer.text))


async def test_malformed_filters_are_named_and_left_out(
    client: httpx.AsyncClient, history: History
) -> None:
    template_problem = "template_id must be a positive whole number"
    from_problem = "'from' must be a date and time"
    to_problem = "'to' must be a date and time"
    cases: list[tuple[dict[str, str], list[str], set[int]]] = [
        ({"template_id": "abc"}, [template_problem], {1, 2, 3, 4, 5}),
        ({"template_id": "0"}, [template_problem], {1, 2, 3, 4, 5}),
        ({"template_id": "-1"}, [template_problem], {1, 2, 3, 4, 5}),
        ({"template_id": "1.5"}, [template_problem], {1, 2, 3, 4, 5}),
        ({"template_id": "9" * 30}, [template_problem], {1, 2, 3, 4, 5}),
        ({"contact_id": "x"}, ["contact_id must be a positive whole number"], {1, 2, 3, 4, 5}),
        ({"from": "yesterday"}, [from_problem], {1, 2, 3, 4, 5}),
        ({"from": "2026-13-45"}, [from_problem], {1, 2, 3, 4, 5}),
        ({"to": "2026-01-02T25:00"}, [to_problem], {1, 2, 3, 4, 5}),
        # The good filters still apply beside a malformed one.
        ({"template_id": "abc", "state": "failed"}, [template_problem], {1}),
        ({"from": "soon", "template_id": str(history.b)}, [from_problem], {3, 4, 5}),
        ({"from": "x", "to": "y"}, [from_problem, to_problem], {1, 2, 3, 4, 5}),
    ]
    for query, problems, expected in cases:
        answer = await client.get("/console/messages", params=query)
        assert_console_page(answer)
        alert = re.search(r'<ul class="error" role="alert">(.*?)</ul>', answer.text, re.S)
        assert alert, (query, answer.text[:3000])
        listed = [html.unescape(p) for p in re.findall(r"<li>(.*?)</li>", alert.group(1))]
        assert listed == problems, query
        assert await shown(client, history, **query) == expected, query
    # Well-formed filters raise no problem.
    answer = await client.get("/console/messages", params={"template_id": str(history.a)})
    assert '<ul class="error"' not in answer.text


async def test_an_id_filter_of_unicode_digits_is_a_problem_not_a_500(
    client: httpx.AsyncClient, history: History
) -> None:
    """``str.isdigit`` is true for superscripts, which ``int()`` refuses."""
    for field in ("template_id", "contact_id"):
        for raw in ("²", "1²"):
            answer = await client.get("/console/messages", params={field: raw})
            assert answer.status_code == 200, (field, raw, answer.status_code, answer.text[:300])
            assert f"{field} must be a positive whole number" in answer.text, (field, raw)
            assert await shown(client, history, **{field: raw}) == {1, 2, 3, 4, 5}


async def test_a_from_or_to_beyond_the_representable_range_is_a_problem_not_a_500(
    client: httpx.AsyncClient, history: History
) -> None:
    """Valid ISO date-times whose UTC equivalent is before year 1 or after 9999."""
    for field, raw in (
        ("from", "0001-01-01T00:00:00+01:00"),
        ("to", "9999-12-31T23:59:59-01:00"),
    ):
        answer = await client.get("/console/messages", params={field: raw})
        assert answer.status_code == 200, (field, raw, answer.status_code, answer.text[:300])
        assert answer.headers["content-type"].startswith("text/html")


# --- failures explained ---------------------------------------------------------------------


async def test_a_failed_messages_error_is_explained_on_the_history_and_message_pages(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    settings: Settings,
    clock: FrozenClock,
    ana: User,
    auth: dict[str, str],
) -> None:
    template = await approved_template(db, ana, settings, clock.now())
    failures = {
        "131026": ("Message undeliverable", "The number is not on WhatsApp", WORDS_131026),
        "250": (None, None, WORDS_PERMISSION),
        "999999": ("Something odd", None, "WhatsApp said: Something odd."),
        "987654": (None, None, "Failed with code 987654."),
        "outcome_unknown": (None, None, explain("outcome_unknown")),
    }
    ids: dict[str, int] = {}
    for index, (code, (title, detail, _)) in enumerate(failures.items()):
        number = f"2165011100{index}"
        ids[code] = (await send_one(client, auth, template.id, number))["id"]
        await set_message(
            db,
            ids[code],
            state="failed",
            error_code=code,
            error_title=title,
            error_detail=detail,
            failed_at=clock.now(),
        )
    fine = (await send_one(client, auth, template.id, "21650111999"))["id"]
    await console_session(client, ana.email)
    rows = message_rows(await client.get("/console/messages"))
    assert set(rows) == {*ids.values(), fine}
    detail = re.compile(r'<span class="detail">(.*?)</span>', re.S)
    for code, (_, error_detail, words) in failures.items():
        found = detail.search(rows[ids[code]])
        assert found, rows[ids[code]]
        assert found.group(1).strip() == words, code
        assert 'data-state="failed"' in rows[ids[code]], code
        page = await client.get(f"/console/messages/{ids[code]}")
        assert_console_page(page)
        assert '<section id="message-error" aria-live="polite">' in page.text, code  # not hidden
        assert element_text(page, r'<p class="explained">(.*?)</p>') == words, code
        assert element_text(page, r'<code class="code">(.*?)</code>') == code
        shown_detail = element_text(page, r'<span class="detail">(.*?)</span>')
        assert shown_detail == (f": {error_detail}" if error_detail else ""), code
    # A message that did not fail has nothing to explain.
    assert detail.search(rows[fine]).group(1).strip() == ""  # type: ignore[union-attr]
    page = await client.get(f"/console/messages/{fine}")
    assert '<section id="message-error" aria-live="polite" hidden>' in page.text
    assert element_text(page, r'<p class="explained">(.*?)</p>') == ""


async def test_the_page_titles_are_plain_text(client: httpx.AsyncClient, anas: Owned) -> None:
    """What the browser shows in the tab: no markup, no data."""
    await console_session(client, anas.user.email)
    expected = {
        "/console/templates": "Templates",
        "/console/templates/new": "New template",
        f"/console/templates/{anas.template_id}": "anas_order",
        "/console/send": "Send a test message",
        "/console/messages": "Messages",
        f"/console/messages/{anas.message_id}": f"Message {anas.message_id}",
        f"/console/groups/{anas.group_id}": "Bulk group",
        "/console/channels": "Channels",
        "/console/keys": "Secret keys",
        "/console/callbacks": "Callbacks",
        "/console/login": "Log in",
        "/console/messages/999999999": "Not found",
    }
    for path, title in expected.items():
        page = await client.get(path)
        found = re.search(r"<title>(.*?)</title>", page.text, re.S)
        assert found, path
        assert found.group(1).strip() == f"{title} · Herald console", (path, found.group(1)[:200])


# --- assets: all local ----------------------------------------------------------------------


async def test_the_static_assets_are_served_without_a_session(
    client: httpx.AsyncClient, db: DatabaseUnderTest
) -> None:
    css = await client.get("/console/static/console.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert css.text.strip()
    script = await client.get("/console/static/console.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "X-CSRF-Token" in script.text
    icon = await client.get("/console/static/favicon.svg")
    assert icon.status_code == 200
    assert (await client.get("/console/static/nothing.js")).status_code == 404
    outside = await client.get("/console/static/../endpoints.py")
    assert outside.status_code == 404
    assert "install_console" not in outside.text


_LINK = re.compile(r"""\b(src|href|action)\s*=\s*["']?([^"'\s>]*)""", re.I)


async def test_pages_reference_nothing_outside_this_host(
    client: httpx.AsyncClient, anas: Owned
) -> None:
    await console_session(client, anas.user.email)
    local: set[str] = set()
    for path in [*page_paths(anas), "/console/login"]:
        page = await client.get(path)
        assert page.status_code == 200, path
        links = _LINK.findall(page.text)
        assert any(kind == "src" for kind, _ in links), path  # the check sees the script tag
        for kind, target in links:
            assert not re.match(r"(?i)^(https?:)?//", target), (path, kind, target)
            assert not target.lower().startswith(("javascript:", "data:")), (path, kind, target)
            if target.startswith("/console/static/"):
                local.add(target)
    assert local == {
        "/console/static/console.css",
        "/console/static/console.js",
        "/console/static/favicon.svg",
        "/console/static/conversations.js",
    }
    for asset in local:
        assert (await client.get(asset)).status_code == 200, asset
    # The scripts talk only to this host too.
    for name in ("console.js", "conversations.js"):
        script = (await client.get(f"/console/static/{name}")).text
        assert not re.search(r"""fetch\(\s*["'`]https?:""", script)
        assert not re.search(r"""["'`]https?://(?!www\.w3\.org/2000/svg)""", script)


async def test_the_session_cookie_opens_pages_within_its_lifetime_only(
    client: httpx.AsyncClient, anas: Owned, clock: FrozenClock
) -> None:
    await console_session(client, anas.user.email)
    clock.advance(timedelta(seconds=3599))
    assert (await client.get(f"/console/messages/{anas.message_id}")).status_code == 200
    clock.advance(timedelta(seconds=1))
    answer = await client.get(f"/console/messages/{anas.message_id}")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/login?next=")


# --- explain() ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("131026", WORDS_131026),
        ("131047", "More than 24 hours have passed since the customer last replied"),
        ("window_closed", "More than 24 hours have passed since the customer last replied"),
        ("131050", "the number is now on your opt-out list"),
        ("130429", "The number sent faster than its throughput allows."),
        ("132001", "does not exist in this language at WhatsApp"),
        ("190", "The channel's access token expired or was revoked"),
        ("10", WORDS_PERMISSION),
        ("0", "WhatsApp refused the channel's credentials."),
        ("outcome_unknown", "Herald does not send it again blindly"),
        ("deadline", "until the send deadline passed"),
        ("auth", "the operator must fix the channel"),
    ],
)
def test_explain_gives_words_for_known_codes(code: str, words: str) -> None:
    said = explain(code)
    assert said is not None
    assert words in said
    # A known code's own words win over the provider's title.
    assert explain(code, "Some provider title") == said


@pytest.mark.parametrize("code", ["200", "201", "250", "299"])
def test_explain_covers_the_permission_range(code: str) -> None:
    assert explain(code) == WORDS_PERMISSION
    assert explain(code, "Permission denied") == WORDS_PERMISSION


@pytest.mark.parametrize("code", ["199", "300", "2000", "-250", "2.5e2"])
def test_explain_does_not_stretch_the_range(code: str) -> None:
    assert explain(code) == f"Failed with code {code}."


def test_explain_an_unknown_code_with_and_without_a_title() -> None:
    assert explain("999999", "Rate limit hit") == "WhatsApp said: Rate limit hit."
    assert explain("999999") == "Failed with code 999999."
    assert explain("999999", "") == "Failed with code 999999."
    assert explain("weird_kind", None) == "Failed with code weird_kind."


def test_explain_nothing_for_no_code() -> None:
    assert explain(None) is None
    assert explain("") is None
    assert explain(None, "A title without a code") is None


async def test_the_callbacks_page_counts_deliveries_set_aside(
    client: httpx.AsyncClient, db: DatabaseUnderTest, clock: FrozenClock, anas: Owned, bobs: Owned
) -> None:
    """Written as the sender leaves them: given up (``delivered`` false) with the last error."""
    async with session_factory(db.engine)() as session:
        endpoint = (
            await session.execute(
                select(CallbackEndpoint).where(CallbackEndpoint.user_id == anas.user.id)
            )
        ).scalar_one()
        for state, error in (("sent", "url: old error"), ("delivered", "url: last error")):
            session.add(
                CallbackDelivery(
                    endpoint_id=endpoint.id,
                    message_id=anas.message_id,
                    state=state,
                    created_at=clock.now(),
                    next_attempt_at=clock.now(),
                    attempts=5,
                    last_error=error,
                    done_at=clock.now(),
                    delivered=False,
                )
            )
        await session.commit()
    await console_session(client, anas.user.email)
    page = await client.get("/console/callbacks")
    assert_console_page(page)
    cell = element_text(page, r'<td class="set-aside">(.*?)</td>')
    assert "2" in cell
    assert "url: last error" in cell
    assert "old error" not in cell
    await console_session(client, bobs.user.email)
    bobs_page = await client.get("/console/callbacks")
    assert element_text(bobs_page, r'<td class="set-aside">(.*?)</td>') == "none"
    assert "url: last error" not in bobs_page.text
