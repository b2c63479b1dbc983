"""The JSend envelope on every answer, errors included (spec/api.md §1)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from herald.app import create_app
from herald.config import Settings
from tests.conftest import assert_error

KEYS = {"status", "message", "code", "data"}


async def test_unknown_route(client: httpx.AsyncClient) -> None:
    body = assert_error(await client.get("/api/nothing-here"), 404, "route_not_found")
    assert set(body) == KEYS


async def test_wrong_method_names_the_allowed_ones(client: httpx.AsyncClient) -> None:
    answer = await client.patch("/api/contacts/")
    body = assert_error(answer, 405, "method_not_allowed")
    assert "GET" in body["data"]["allowed"]  # type: ignore[index]
    assert "POST" in answer.headers["allow"]


@pytest.mark.parametrize("method", ["DELETE", "OPTIONS", "PUT"])
async def test_a_literal_path_wins_over_a_path_parameter(
    client: httpx.AsyncClient, auth: dict[str, str], method: str
) -> None:
    """`/api/whatsapp/templates/` is the template list, not message "templates" of
    `/api/whatsapp/{message_id}/` (as in OpenAPI): its methods, and no other, are allowed."""
    answer = await client.request(method, "/api/whatsapp/templates/", headers=auth)
    body = assert_error(answer, 405, "method_not_allowed")
    assert body["data"] == {"allowed": ["GET", "POST"]}
    assert answer.headers["allow"] == "GET, POST"
    # A message id that is not a number is still refused as such.
    not_a_number = await client.delete("/api/whatsapp/template/", headers=auth)
    assert_error(not_a_number, 400, "validation_failed")


@pytest.mark.parametrize(
    ("method", "wrong", "right"),
    [
        ("POST", "/api/contacts", "/api/contacts/"),
        ("GET", "/api/user", "/api/user/"),
        ("POST", "/api/login_check/", "/api/login_check"),
        ("GET", "/api/v2/whatsapp/templates/", "/api/v2/whatsapp/templates"),
        ("GET", "/api/whatsapp", "/api/whatsapp/"),
    ],
)
async def test_the_other_spelling_is_a_404_naming_the_right_path(
    client: httpx.AsyncClient, auth: dict[str, str], method: str, wrong: str, right: str
) -> None:
    answer = await client.request(method, wrong, json={}, headers=auth)
    body = assert_error(answer, 404, "route_not_found")
    assert body["data"] == {"path": right}
    assert right in str(body["message"])
    assert "location" not in answer.headers  # never a redirect


async def test_malformed_json(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    answer = await client.post(
        "/api/contacts/",
        content=b'{"number": ',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert_error(answer, 400, "malformed_json")


@pytest.mark.parametrize("payload", [b"[1, 2]", b'"text"', b"42", b"null"])
async def test_a_body_that_is_not_an_object_is_a_400(
    client: httpx.AsyncClient, auth: dict[str, str], payload: bytes
) -> None:
    answer = await client.post(
        "/api/contacts/", content=payload, headers={**auth, "Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert set(answer.json()) == KEYS


@pytest.fixture
def small_body_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_json_body_bytes": 2048})


@pytest.fixture
async def small_client(small_body_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(small_body_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://herald.test") as c:
            yield c


async def test_an_oversized_body_is_413(small_client: httpx.AsyncClient) -> None:
    big = b'{"username": "' + b"a" * 4000 + b'", "password": "x"}'
    body = assert_error(
        await small_client.post(
            "/api/login_check", content=big, headers={"Content-Type": "application/json"}
        ),
        413,
        "payload_too_large",
    )
    assert "2048" in str(body["message"])


async def test_an_oversized_chunked_body_is_413_while_streaming(
    small_client: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"username": "'
        for _ in range(10):
            yield b"a" * 1000
        yield b'", "password": "x"}'

    answer = await small_client.post(
        "/api/login_check", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in answer.request.headers
    assert_error(answer, 413, "payload_too_large")


async def test_an_unexpected_exception_is_a_jsend_500_without_details(
    settings: Settings, tmp_path: Path
) -> None:
    app = create_app(settings)

    async def explode() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    app.add_api_route("/api/explode", explode)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://herald.test") as c:
            answer = await c.get("/api/explode")
    body = assert_error(answer, 500, "internal_error")
    assert set(body) == KEYS
    assert "hunter2" not in answer.text
    assert "Traceback" not in answer.text


async def test_every_error_body_has_the_four_keys(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    for answer in (
        await client.get("/api/user/"),
        await client.get("/api/contacts/999/", headers=auth),
        await client.post("/api/contacts/", json={}, headers=auth),
        await client.delete("/healthz"),
    ):
        assert set(answer.json()) == KEYS, answer.text


async def test_a_form_body_is_415_and_json_without_a_content_type_is_accepted(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    form = await client.post(
        "/api/contacts/",
        content=b"number=21696816277&country_code=TN",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(form, 415, "unsupported_content_type")
    bare = await client.post(
        "/api/contacts/", content=b'{"number": "21696816277", "country_code": "TN"}', headers=auth
    )
    assert bare.status_code == 201, bare.text
