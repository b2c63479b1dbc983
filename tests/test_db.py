"""Creates and updates racing each other over real HTTP: a unique key taken by a concurrent
request is a 409 with the feature's code, never a 500, on both databases
(``db.insert_unless_taken``, ``db.update_unless_taken``)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from herald.app import create_app
from herald.config import Settings
from herald.kit.clock import FrozenClock
from herald.models import User
from tests.conftest import login
from tests.live import serve_app
from tests.media import files

RACERS = 8
TEMPLATE = {
    "name": "order_confirmed",
    "language": "en",
    "category": "UTILITY",
    "body": "Hello {{1}}, your order {{2}} is confirmed.",
}
CONTACT = {"number": "21696816277", "country_code": "TN", "firstname": "Ana", "tags": ["vip"]}


@pytest.fixture
async def server(settings: Settings, clock: FrozenClock, ana: User) -> AsyncIterator[Any]:
    """Herald on a real port, and a client logged in as ana with room for every racer."""
    limits = httpx.Limits(max_connections=RACERS, max_keepalive_connections=RACERS)
    async with (
        serve_app(create_app(settings, clock=clock)) as url,
        httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http,
    ):
        http.headers["Authorization"] = f"Bearer {await login(http, ana.email)}"
        yield http


async def race(http: httpx.AsyncClient, path: str, **request: Any) -> list[httpx.Response]:
    """The same create, RACERS times at once, each on a connection of its own (opened first, so
    that the creates leave together)."""
    await asyncio.gather(*(http.get("/api/user/") for _ in range(RACERS)))
    return list(await asyncio.gather(*(http.post(path, **request) for _ in range(RACERS))))


def one_created_rest_conflict(answers: list[httpx.Response], code: str) -> dict[str, Any]:
    """Exactly one 201 and every other a JSend 409 ``code`` naming the winner's id."""
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 1, 409: RACERS - 1}, [a.text for a in answers]
    created: dict[str, Any] = next(a for a in answers if a.status_code == 201).json()["data"]
    for answer in answers:
        if answer.status_code == 409:
            body = answer.json()
            assert (body["status"], body["code"]) == ("error", code), body
    return created


@pytest.mark.parametrize("path", ["/api/v2/whatsapp/templates", "/api/whatsapp/templates/"])
async def test_concurrent_identical_templates_make_one(
    server: httpx.AsyncClient, path: str
) -> None:
    created = one_created_rest_conflict(await race(server, path, json=TEMPLATE), "template_exists")
    for answer in await race(server, path, json=TEMPLATE):
        assert answer.json()["data"] == {"id": created["id"]}
    listed = await server.get("/api/v2/whatsapp/templates")
    assert listed.json()["data"]["pagination"]["total"] == 1


async def test_concurrent_identical_contacts_make_one(server: httpx.AsyncClient) -> None:
    answers = await race(server, "/api/contacts/", json=CONTACT)
    created = one_created_rest_conflict(answers, "contact_exists")
    assert created["tags"] == ["vip"]
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["data"] == {"id": created["id"]}
    listed = await server.get("/api/contacts/")
    assert listed.json()["data"]["pagination"]["total"] == 1


async def test_contacts_moved_to_one_number_at_once_get_one_200(
    server: httpx.AsyncClient,
) -> None:
    """An UPDATE has no ON CONFLICT: RACERS contacts moved to the same number at once give one
    200 and a 409 ``contact_exists`` naming the winner to every other, which keeps its number
    and stays editable."""
    ids = []
    for n in range(RACERS):
        body = {**CONTACT, "number": f"2169681630{n}", "tags": []}
        created = await server.post("/api/contacts/", json=body)
        assert created.status_code == 201, created.text
        ids.append(created.json()["data"]["id"])
    await asyncio.gather(*(server.get("/api/user/") for _ in range(RACERS)))
    answers = await asyncio.gather(
        *(
            server.put(f"/api/contacts/{contact_id}/", json={"number": CONTACT["number"]})
            for contact_id in ids
        )
    )
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {200: 1, 409: RACERS - 1}, [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 200).json()["data"]["id"]
    for contact_id, answer in zip(ids, answers, strict=True):
        if answer.status_code == 409:
            body = answer.json()
            assert (body["code"], body["data"]) == ("contact_exists", {"id": winner}), body
            kept = await server.get(f"/api/contacts/{contact_id}/")
            assert kept.json()["data"]["number"] != CONTACT["number"]
            renamed = await server.put(f"/api/contacts/{contact_id}/", json={"firstname": "Bo"})
            assert renamed.status_code == 200, renamed.text


async def test_concurrent_identical_opt_outs_make_one(server: httpx.AsyncClient) -> None:
    body = {"number": "21696816277", "country_code": "TN"}
    one_created_rest_conflict(await race(server, "/api/v2/opt-outs", json=body), "opt_out_exists")
    listed = await server.get("/api/v2/opt-outs")
    assert listed.json()["data"]["pagination"]["total"] == 1


async def test_concurrent_identical_callbacks_make_one(server: httpx.AsyncClient) -> None:
    body = {"url": "https://93.184.215.14/herald"}
    answers = await race(server, "/api/v2/webhooks", json=body)
    created = one_created_rest_conflict(answers, "callback_exists")
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["data"] == {"id": created["id"]}
    listed = await server.get("/api/v2/webhooks")
    assert listed.json()["data"]["pagination"]["total"] == 1


# No unique key: each of these creates is a new object (a shop rotates its key by creating a
# second one for the same shop before revoking the first; an upload is an asset of its own), so
# racing them makes eight.
@pytest.mark.parametrize(
    ("path", "request_kwargs"),
    [
        (
            "/api/v2/secret-keys",
            {"json": {"platform_type": "custom", "base_uri": "https://shop.test", "name": "Shop"}},
        ),
        ("/api/v2/whatsapp/media", {"files": {"file": ("invoice.pdf", files.pdf())}}),
    ],
)
async def test_concurrent_creates_without_a_unique_key_make_one_each(
    server: httpx.AsyncClient, path: str, request_kwargs: dict[str, Any]
) -> None:
    answers = await race(server, path, **request_kwargs)
    assert [a.status_code for a in answers] == [201] * RACERS, [a.text for a in answers]
    ids = {a.json()["data"].get("id", a.json()["data"].get("media_id")) for a in answers}
    assert len(ids) == RACERS
