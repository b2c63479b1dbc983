"""Another user's object is a 404 on every route that names one, and the call changes nothing.

Bob owns one object of every kind; Ana, authenticated as herself, calls every route that takes
an object id in its path with Bob's ids. The list of such routes is derived from ``ROUTERS``: a
new route with a path parameter fails ``test_every_route_with_a_path_parameter_is_covered``
until it is added to ``CASES``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from herald.api import ROUTERS
from herald.config import Settings
from herald.kit.clock import FrozenClock, iso_utc
from herald.media.storage import open_store
from herald.models import Base, MediaAsset, User
from tests.conftest import DatabaseUnderTest, add_user, assert_error, login, make_settings
from tests.conversation.helpers import Customers
from tests.media import files
from tests.message.helpers import approved_template

PDF = ("a.pdf", b"%PDF-1.7\n" + files.pdf(1024), "application/pdf")
BOB_NUMBERS = {
    "contact": "21696816277",
    "single": "21698000111",
    "scheduled": "21698000222",
    "bulk": ("21698000333", "21698000444"),
    "opt_out": "21698000555",
    "conversation": "21698000666",
}
ANA_NUMBERS = {
    "contact": "21650111222",
    "single": "21650111333",
    "scheduled": "21650111444",
    "bulk": ("21650111555", "21650111666"),
    "opt_out": "21650333444",
    "conversation": "21650333555",
}
# Ids and numbers nobody has: a refused call must look exactly like a call for one of these.
NOBODYS = {
    "contact_id": 999_999_999,
    "template_id": 999_999_999,
    "message_id": 999_999_999,
    "group_id": "00000000-0000-4000-8000-000000000000",
    "media_id": 999_999_999,
    "number": "21699999999",
    "key_id": 999_999_999,
    "callback_id": 999_999_999,
    "phone_number": "21699999999",
    "channel_id": 999_999_999,
}
SHOP = {"platform_type": "woocommerce", "base_uri": "https://shop.example.com", "name": "x"}
CALLBACK = {"url": "https://93.184.215.14/hook"}
# Tables that hold a user's objects, each with a ``user_id`` column.
OWNED_TABLES = (
    "contacts",
    "templates",
    "messages",
    "media_assets",
    "opt_outs",
    "secret_keys",
    "callback_endpoints",
    "channels",
    "conversations",
    "inbound_messages",
)


@dataclass
class Objects:
    """One user's objects, as the API created them."""

    user: User
    auth: dict[str, str]
    contact_id: int = 0
    draft_template_id: int = 0
    template_id: int = 0  # APPROVED
    document_template_id: int = 0  # APPROVED, DOCUMENT header
    message_id: int = 0
    scheduled_message_id: int = 0
    bulk_group_id: str = ""
    media_id: int = 0
    opt_out_number: str = ""
    secret_key_id: int = 0
    callback_id: int = 0
    conversation_number: str = ""  # a customer who wrote to the user
    channel_id: int = 0  # the user's (default) channel
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    ana: Objects
    bob: Objects


def created(answer: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def send_body(number: str = "21696816277", **extra: Any) -> dict[str, Any]:
    return {"to": number, "country_code": "TN", "body_params": ["Sam", "ORD-1"], **extra}


async def make_objects(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    settings: Settings,
    clock: FrozenClock,
    user: User,
    auth: dict[str, str],
    numbers: dict[str, Any],
) -> Objects:
    """Every kind of object for ``user``, through the API (templates approved in the DB)."""
    objects = Objects(user=user, auth=auth)
    objects.contact_id = created(
        await client.post(
            "/api/contacts/",
            json={"number": numbers["contact"], "country_code": "TN", "firstname": "Sam"},
            headers=auth,
        )
    )["id"]
    objects.draft_template_id = created(
        await client.post(
            "/api/v2/whatsapp/templates",
            json={"name": "draft_one", "language": "en", "category": "UTILITY", "body": "Hi {{1}}"},
            headers=auth,
        )
    )["id"]
    template = await approved_template(db, user, settings, clock.now())
    objects.template_id = template.id
    assert template.channel_id is not None
    objects.channel_id = template.channel_id
    customers = await Customers.of(client, db, clock, template)
    await customers.write(numbers["conversation"], "where is my parcel?")
    objects.conversation_number = numbers["conversation"]
    objects.document_template_id = (
        await approved_template(
            db, user, settings, clock.now(), name="invoice", header_format="DOCUMENT"
        )
    ).id
    objects.media_id = created(
        await client.post("/api/v2/whatsapp/media", files={"file": PDF}, headers=auth)
    )["media_id"]
    objects.opt_out_number = created(
        await client.post(
            "/api/v2/opt-outs",
            json={"number": numbers["opt_out"], "country_code": "TN"},
            headers=auth,
        )
    )["number"]
    objects.secret_key_id = created(
        await client.post("/api/v2/secret-keys", json=SHOP, headers=auth)
    )["id"]
    objects.callback_id = created(
        await client.post("/api/v2/webhooks", json=CALLBACK, headers=auth)
    )["id"]
    sent = created(
        await client.post(
            f"/api/v2/whatsapp/templates/{objects.template_id}/send",
            json=send_body(numbers["single"]),
            headers=auth,
        ),
        202,
    )
    objects.message_id = sent["message"]["id"]
    scheduled = created(
        await client.post(
            f"/api/v2/whatsapp/templates/{objects.template_id}/send",
            json=send_body(numbers["scheduled"], send_at=iso_utc(clock.now() + timedelta(hours=1))),
            headers=auth,
        ),
        202,
    )
    assert scheduled["message"]["scheduled_at"] is not None
    objects.scheduled_message_id = scheduled["message"]["id"]
    bulk = created(
        await client.post(
            f"/api/v2/whatsapp/templates/{objects.template_id}/send-bulk",
            json={
                "recipients": [
                    {"to": n, "country_code": "TN", "body_params": ["Sam", "B"]}
                    for n in numbers["bulk"]
                ]
            },
            headers=auth,
        ),
        202,
    )
    assert bulk["queued"] == 2
    objects.bulk_group_id = bulk["whatsapp_bulk_group_id"]
    group = await client.get(
        "/api/whatsapp/", params={"whatsapp_bulk_group_id": objects.bulk_group_id}, headers=auth
    )
    objects.extra["bulk"] = [item["id"] for item in group.json()["data"]["items"]]
    assert len(objects.extra["bulk"]) == 2
    return objects


@pytest.fixture
def settings(db: DatabaseUnderTest, data_dir: Path) -> Settings:
    # Ana makes about a hundred calls in a moment; the per-user budget is not under test here.
    return make_settings(db, data_dir, rate_limit_burst=10_000)


@pytest.fixture
async def world(
    client: httpx.AsyncClient,
    db: DatabaseUnderTest,
    settings: Settings,
    clock: FrozenClock,
    ana: User,
    auth: dict[str, str],
) -> World:
    bob = await add_user(db, "bob@example.com", now=clock.now())
    bob_auth = {"Authorization": f"Bearer {await login(client, bob.email)}"}
    return World(
        ana=await make_objects(client, db, settings, clock, ana, auth, ANA_NUMBERS),
        bob=await make_objects(client, db, settings, clock, bob, bob_auth, BOB_NUMBERS),
    )


# --- the table: every route with a path parameter ------------------------------------------


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    code: str
    # Path parameters to try (Bob's ids), and the body the route needs to get past validation.
    params: Callable[[World], list[dict[str, Any]]]
    body: Callable[[World], dict[str, Any] | None] = lambda _: None


def _contact(w: World) -> list[dict[str, Any]]:
    return [{"contact_id": w.bob.contact_id}]


def _templates(w: World) -> list[dict[str, Any]]:
    ids = (w.bob.draft_template_id, w.bob.template_id, w.bob.document_template_id)
    return [{"template_id": i} for i in ids]


def _messages(w: World) -> list[dict[str, Any]]:
    ids = (w.bob.message_id, w.bob.scheduled_message_id, *w.bob.extra["bulk"])
    return [{"message_id": i} for i in ids]


def _media(w: World) -> list[dict[str, Any]]:
    return [{"media_id": w.bob.media_id}]


def _callback(w: World) -> list[dict[str, Any]]:
    return [{"callback_id": w.bob.callback_id}]


def _channel(w: World) -> list[dict[str, Any]]:
    return [{"channel_id": w.bob.channel_id}]


def _conversations(w: World) -> list[dict[str, Any]]:
    """A customer who wrote to Bob, and one Bob only wrote to."""
    return [{"phone_number": w.bob.conversation_number}, {"phone_number": BOB_NUMBERS["single"]}]


CASES = (
    Case("GET", "/api/contacts/{contact_id}/", "contact_not_found", _contact),
    Case(
        "PUT",
        "/api/contacts/{contact_id}/",
        "contact_not_found",
        _contact,
        lambda _: {"firstname": "Mallory", "tags": ["stolen"]},
    ),
    Case("DELETE", "/api/contacts/{contact_id}/", "contact_not_found", _contact),
    Case("GET", "/api/whatsapp/templates/{template_id}/", "template_not_found", _templates),
    Case("GET", "/api/v2/whatsapp/templates/{template_id}", "template_not_found", _templates),
    Case("POST", "/api/whatsapp/templates/{template_id}/submit/", "template_not_found", _templates),
    Case(
        "POST", "/api/v2/whatsapp/templates/{template_id}/submit", "template_not_found", _templates
    ),
    Case("DELETE", "/api/v2/whatsapp/templates/{template_id}", "template_not_found", _templates),
    Case(
        "POST",
        "/api/v2/whatsapp/templates/{template_id}/send",
        "template_not_found",
        _templates,
        lambda _: send_body(),
    ),
    Case(
        "POST",
        "/api/whatsapp/templates/{template_id}/send/",
        "template_not_found",
        _templates,
        lambda w: {"contact_id": w.ana.contact_id, "body_params": ["Sam", "ORD-1"]},
    ),
    Case(
        "POST",
        "/api/v2/whatsapp/templates/{template_id}/send-bulk",
        "template_not_found",
        _templates,
        lambda _: {"recipients": [send_body()]},
    ),
    Case("GET", "/api/whatsapp/{message_id}/", "message_not_found", _messages),
    Case("DELETE", "/api/whatsapp/{message_id}/", "message_not_found", _messages),
    Case(
        "GET",
        "/api/v2/whatsapp/bulk-groups/{group_id}",
        "bulk_group_not_found",
        lambda w: [{"group_id": w.bob.bulk_group_id}],
    ),
    Case("GET", "/api/v2/whatsapp/media/{media_id}", "media_not_found", _media),
    Case("GET", "/api/v2/whatsapp/media/{media_id}/content", "media_not_found", _media),
    Case("DELETE", "/api/v2/whatsapp/media/{media_id}", "media_not_found", _media),
    Case(
        "DELETE",
        "/api/v2/opt-outs/{number}",
        "opt_out_not_found",
        lambda w: [{"number": w.bob.opt_out_number}, {"number": "+" + w.bob.opt_out_number}],
    ),
    Case(
        "DELETE",
        "/api/v2/secret-keys/{key_id}",
        "secret_key_not_found",
        lambda w: [{"key_id": w.bob.secret_key_id}],
    ),
    Case("GET", "/api/v2/webhooks/{callback_id}", "callback_not_found", _callback),
    Case(
        "POST",
        "/api/v2/webhooks/{callback_id}/rotate-secret",
        "callback_not_found",
        _callback,
        lambda _: {"secret": "mallory-secret-0123456789"},
    ),
    Case("DELETE", "/api/v2/webhooks/{callback_id}", "callback_not_found", _callback),
    Case("GET", "/api/v2/webhooks/{callback_id}/deliveries", "callback_not_found", _callback),
    Case("GET", "/api/v2/channels/{channel_id}", "channel_not_found", _channel),
    Case("PUT", "/api/v2/channels/{channel_id}/default", "channel_not_found", _channel),
    Case(
        "GET",
        "/api/v2/whatsapp/conversations/{phone_number}/messages",
        "conversation_not_found",
        _conversations,
    ),
    Case(
        "POST",
        "/api/v2/whatsapp/conversations/{phone_number}/read",
        "conversation_not_found",
        _conversations,
    ),
    Case(
        "GET",
        "/api/v2/channels/{channel_id}/health",
        "channel_not_found",
        lambda w: [{"channel_id": w.bob.channel_id}],
    ),
)


def api_routes() -> list[APIRoute]:
    return [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]


def test_every_route_with_a_path_parameter_is_covered() -> None:
    covered = {(case.method, case.path) for case in CASES}
    with_params = {
        (method, route.path_format): route.name  # the path without its parameters' convertors
        for route in api_routes()
        if "{" in route.path
        for method in route.methods
    }
    assert with_params, "ROUTERS has no route with a path parameter: the scan is broken"
    missing = sorted(
        f"{name} ({m} {p})" for (m, p), name in with_params.items() if (m, p) not in covered
    )
    assert not missing, f"routes with a path parameter missing from CASES: {missing}"
    stale = sorted(f"{m} {p}" for m, p in covered - set(with_params))
    assert not stale, f"CASES names routes that no longer exist: {stale}"


def test_every_case_fills_every_path_parameter() -> None:
    for case in CASES:
        names = set(re.findall(r"{(\w+)}", case.path))
        fake = World(
            ana=Objects(user=User(), auth={}, contact_id=1),
            bob=Objects(
                user=User(),
                auth={},
                bulk_group_id="g",
                opt_out_number="1",
                conversation_number="1",
                extra={"bulk": [1]},
            ),
        )
        for params in case.params(fake):
            assert set(params) == names, (case.path, params)


# --- snapshots -------------------------------------------------------------------------------


async def snapshot(db: DatabaseUnderTest) -> dict[str, list[str]]:
    """Every row of every table, as comparable text."""
    rows: dict[str, list[str]] = {}
    async with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            result = await connection.execute(select(table))
            rows[table.name] = sorted(repr(tuple(row)) for row in result.all())
    return rows


async def owned_counts(db: DatabaseUnderTest, user_id: int) -> dict[str, int]:
    counts = {}
    async with db.engine.connect() as connection:
        for name in OWNED_TABLES:
            table = Base.metadata.tables[name]
            result = await connection.execute(select(table).where(table.c.user_id == user_id))
            counts[name] = len(result.all())
    return counts


def _fill(path: str, params: dict[str, Any]) -> str:
    return re.sub(r"{(\w+)}", lambda m: str(params[m.group(1)]), path)


# --- the tests -------------------------------------------------------------------------------


async def test_another_users_object_is_404_on_every_route_and_changes_nothing(
    client: httpx.AsyncClient, db: DatabaseUnderTest, settings: Settings, world: World
) -> None:
    bob_rows = await owned_counts(db, world.bob.user.id)
    assert all(bob_rows.values()), f"Bob lacks an object kind: {bob_rows}"
    assert bob_rows["messages"] == 4  # single, scheduled and two bulk
    before = await snapshot(db)

    problems = []
    calls = 0
    for case in CASES:
        for params in case.params(world):
            path = _fill(case.path, params)
            answer = await client.request(
                case.method, path, json=case.body(world), headers=world.ana.auth
            )
            calls += 1
            if answer.status_code != 404 or answer.json().get("code") != case.code:
                problems.append(f"{case.method} {path}: {answer.status_code} {answer.text[:200]}")
                continue
            # Indistinguishable from an id nobody has: the answer is no oracle for Bob's ids.
            nobody = await client.request(
                case.method,
                _fill(case.path, {name: NOBODYS[name] for name in params}),
                json=case.body(world),
                headers=world.ana.auth,
            )
            if (nobody.status_code, nobody.json()) != (404, answer.json()):
                problems.append(f"{case.method} {path}: {answer.text} but {nobody.text}")
    assert calls >= len(CASES)
    assert not problems, "\n".join(problems)
    after = await snapshot(db)
    changed = [name for name in before if before[name] != after[name]]
    assert not changed, f"Ana's refused calls changed these tables: {changed}"

    # Bob's stored file is still there, and Bob still sees every object as before.
    async with db.engine.connect() as connection:
        key = (
            await connection.execute(
                select(MediaAsset.storage_key).where(MediaAsset.id == world.bob.media_id)
            )
        ).scalar_one()
    async with open_store(settings).local_copy(key) as path:
        assert path.read_bytes().startswith(b"%PDF-1.7")
    for path in (
        f"/api/contacts/{world.bob.contact_id}/",
        f"/api/v2/whatsapp/templates/{world.bob.draft_template_id}",
        f"/api/whatsapp/{world.bob.scheduled_message_id}/",
        f"/api/v2/whatsapp/bulk-groups/{world.bob.bulk_group_id}",
        f"/api/v2/whatsapp/media/{world.bob.media_id}",
        f"/api/v2/webhooks/{world.bob.callback_id}",
    ):
        assert (await client.get(path, headers=world.bob.auth)).status_code == 200, path
    draft = await client.get(
        f"/api/v2/whatsapp/templates/{world.bob.draft_template_id}", headers=world.bob.auth
    )
    assert draft.json()["data"]["state"] == "DRAFT"
    scheduled = await client.get(
        f"/api/whatsapp/{world.bob.scheduled_message_id}/", headers=world.bob.auth
    )
    assert scheduled.json()["data"]["state"] == "queued"


async def test_the_owner_gets_200_where_the_other_user_gets_404(
    client: httpx.AsyncClient, world: World
) -> None:
    """The 404s above come from ownership, not from broken ids: Bob reads his own objects."""
    reads = [case for case in CASES if case.method == "GET"]
    assert reads
    for case in reads:
        for params in case.params(world):
            path = _fill(case.path, params)
            answer = await client.get(path, headers=world.bob.auth)
            assert answer.status_code == 200, (path, answer.text)


LIST_ROUTES = {
    "/api/contacts/": ("id", "contact_id"),
    "/api/whatsapp/templates/": ("id", "template_ids"),
    "/api/v2/whatsapp/templates": ("id", "template_ids"),
    "/api/whatsapp/": ("id", "message_ids"),
    "/api/v2/whatsapp/media": ("media_id", "media_id"),
    "/api/v2/opt-outs": ("number", "opt_out_number"),
    "/api/v2/secret-keys": ("id", "secret_key_id"),
    "/api/v2/webhooks": ("id", "callback_id"),
    "/api/v2/whatsapp/conversations": ("phone_number", "conversation_number"),
    "/api/v2/channels": ("id", "channel_id"),
}
# GET routes without a path parameter that are not lists of a user's objects.
# Not lists of objects. The analytics are counts over the user's messages: that they never
# count another user's is tests/analytics/test_analytics.py's (user scoping).
NOT_LISTS = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/user/",
    "/webhooks/whatsapp",
    "/api/v2/analytics/messages",
}


def _ids(objects: Objects, attribute: str) -> set[Any]:
    if attribute == "template_ids":
        return {objects.draft_template_id, objects.template_id, objects.document_template_id}
    if attribute == "message_ids":
        return {objects.message_id, objects.scheduled_message_id} | set(objects.extra["bulk"])
    return {getattr(objects, attribute)}


def test_every_list_route_is_covered() -> None:
    lists = {
        route.path
        for route in api_routes()
        if "GET" in route.methods and "{" not in route.path and route.path not in NOT_LISTS
    }
    assert lists == set(LIST_ROUTES), f"list routes not covered: {lists - set(LIST_ROUTES)}"


def numbers_of(numbers: dict[str, Any]) -> set[str]:
    flat: set[str] = set()
    for value in numbers.values():
        flat.update(value if isinstance(value, tuple) else (value,))
    return flat


async def test_lists_never_show_another_users_objects(
    client: httpx.AsyncClient, world: World
) -> None:
    for path, (key, attribute) in LIST_ROUTES.items():
        answer = await client.get(path, params={"limit": 100}, headers=world.ana.auth)
        assert answer.status_code == 200, (path, answer.text)
        data = answer.json()["data"]
        seen = {item[key] for item in data["items"]}
        # Ana sees her own objects (the list works) and none of Bob's.
        assert _ids(world.ana, attribute) <= seen, (path, data)
        assert not seen & _ids(world.bob, attribute), (path, data)
        assert data["pagination"]["total"] == len(data["items"]), path
        leaked = [n for n in numbers_of(BOB_NUMBERS) if n in answer.text]
        assert not leaked, (path, leaked)
    # History filters naming Bob's objects find nothing of Ana's and nothing of Bob's.
    for params in (
        {"whatsapp_bulk_group_id": world.bob.bulk_group_id},
        {"template_id": world.bob.template_id},
        {"contact_id": world.bob.contact_id},
        {"phone_number": BOB_NUMBERS["single"]},
    ):
        history = await client.get("/api/whatsapp/", params=params, headers=world.ana.auth)
        assert history.status_code == 200, history.text
        assert history.json()["data"]["items"] == [], params
    # The same filter finds Bob's messages for Bob: the filter works, ownership hides them.
    bob_group = await client.get(
        "/api/whatsapp/",
        params={"whatsapp_bulk_group_id": world.bob.bulk_group_id},
        headers=world.bob.auth,
    )
    assert len(bob_group.json()["data"]["items"]) == 2


async def test_sending_with_another_users_template_media_or_contact_is_404(
    client: httpx.AsyncClient, db: DatabaseUnderTest, world: World
) -> None:
    ana, bob = world.ana, world.bob
    document = {"header_media_id": bob.media_id}
    refused: list[tuple[str, dict[str, Any], int, str]] = [
        # Bob's template
        (
            f"/api/v2/whatsapp/templates/{bob.template_id}/send",
            send_body(),
            404,
            "template_not_found",
        ),
        (
            "/api/whatsapp/",
            {
                "template_id": bob.template_id,
                "phone_number": "21696816277",
                "country_code": "TN",
                "body_params": ["Sam", "ORD-1"],
            },
            404,
            "template_not_found",
        ),
        (
            f"/api/whatsapp/templates/{bob.template_id}/send/",
            {"contact_id": ana.contact_id, "body_params": ["Sam", "ORD-1"]},
            404,
            "template_not_found",
        ),
        (
            f"/api/v2/whatsapp/templates/{bob.template_id}/send-bulk",
            {"recipients": [send_body()]},
            404,
            "template_not_found",
        ),
        # Bob's contact with Ana's template
        (
            "/api/whatsapp/",
            {
                "template_id": ana.template_id,
                "contact_id": bob.contact_id,
                "body_params": ["Sam", "ORD-1"],
            },
            404,
            "contact_not_found",
        ),
        (
            f"/api/whatsapp/templates/{ana.template_id}/send/",
            {"contact_id": bob.contact_id, "body_params": ["Sam", "ORD-1"]},
            404,
            "contact_not_found",
        ),
        # Bob's media with Ana's document template
        (
            f"/api/v2/whatsapp/templates/{ana.document_template_id}/send",
            send_body(**document),
            404,
            "media_not_found",
        ),
        (
            "/api/whatsapp/",
            {
                "template_id": ana.document_template_id,
                "phone_number": "21696816277",
                "country_code": "TN",
                "body_params": ["Sam", "ORD-1"],
                **document,
            },
            404,
            "media_not_found",
        ),
        (
            f"/api/whatsapp/templates/{ana.document_template_id}/send/",
            {"contact_id": ana.contact_id, "body_params": ["Sam", "ORD-1"], **document},
            404,
            "media_not_found",
        ),
    ]
    before = await snapshot(db)
    for path, body, status, code in refused:
        answer = await client.post(path, json=body, headers=ana.auth)
        assert_error(answer, status, code)
    # In a bulk send, a recipient naming Bob's file is rejected with the same code.
    bulk = await client.post(
        f"/api/v2/whatsapp/templates/{ana.document_template_id}/send-bulk",
        json={"recipients": [send_body(**document)]},
        headers=ana.auth,
    )
    rejected = assert_error(bulk, 400, "recipients_invalid")["data"]["rejected"]  # type: ignore[index]
    assert [r["code"] for r in rejected] == ["media_not_found"]
    assert await snapshot(db) == before  # nothing queued, nothing remembered

    # The same sends with Ana's own objects are accepted: the 404s were about ownership.
    accepted = [
        (f"/api/v2/whatsapp/templates/{ana.template_id}/send", send_body()),
        (
            f"/api/whatsapp/templates/{ana.template_id}/send/",
            {"contact_id": ana.contact_id, "body_params": ["Sam", "ORD-1"]},
        ),
        (
            f"/api/v2/whatsapp/templates/{ana.document_template_id}/send",
            send_body(header_media_id=ana.media_id),
        ),
    ]
    for path, body in accepted:
        answer = await client.post(path, json=body, headers=ana.auth)
        assert answer.status_code == 202, (path, answer.text)
