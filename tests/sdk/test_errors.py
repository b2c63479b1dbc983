"""Herald's error answers become typed exceptions carrying its status, code, message and data."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from herald_client import (
    AsyncHeraldClient,
    BadRequest,
    Conflict,
    HeraldApiError,
    HeraldConnectionError,
    HeraldError,
    NotFound,
    PayloadTooLarge,
    ServerError,
    UnsupportedMediaType,
)

from herald.config import Settings
from herald.kit.clock import FrozenClock
from herald.models import User
from tests.conftest import DatabaseUnderTest
from tests.live import free_port
from tests.media import files
from tests.message.helpers import approved_template
from tests.sdk.conftest import FakeTime, asgi_transport, async_client
from tests.sdk.transports import AsyncWrapping, Scripted


async def test_an_unknown_template_is_not_found(sdk: AsyncHeraldClient) -> None:
    with pytest.raises(NotFound) as caught:
        await sdk.get_template(987654)
    assert (caught.value.status, caught.value.code) == (404, "template_not_found")
    assert caught.value.message

    with pytest.raises(NotFound) as caught:
        await sdk.send_template(987654, "21696816277", "TN", body_params=["Sam", "ORD-1"])
    assert caught.value.code == "template_not_found"


async def test_a_wrong_parameter_count_says_what_was_expected(
    sdk: AsyncHeraldClient,
    recorder: AsyncWrapping,
    fake_time: FakeTime,
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    template = await approved_template(db, ana, settings, clock.now())
    with pytest.raises(BadRequest) as caught:
        await sdk.send_template(template.id, "21696816277", "TN", body_params=["Sam"])
    error = caught.value
    assert (error.status, error.code) == (400, "body_params_mismatch")
    assert error.data == {"expected": 2, "given": 1}
    assert "2 body parameter(s); 1 given" in error.message
    assert isinstance(error, HeraldApiError)
    assert isinstance(error, HeraldError)
    # a 400 is final: sent once, never slept on
    assert len(recorder.to(f"/api/v2/whatsapp/templates/{template.id}/send")) == 1
    assert fake_time.sleeps == []


async def test_a_duplicate_contact_names_the_existing_one(sdk: AsyncHeraldClient) -> None:
    first = await sdk.create_contact("21696816277", "TN", firstname="Sam")
    with pytest.raises(Conflict) as caught:
        await sdk.create_contact("+216 96 816 277", "TN")
    assert caught.value.code == "contact_exists"
    assert caught.value.data == {"id": first["id"]}


async def test_field_errors_list_the_fields(sdk: AsyncHeraldClient) -> None:
    with pytest.raises(BadRequest) as caught:
        await sdk.create_contact("21696816277", "TN", email="not-an-email")
    assert caught.value.code == "validation_failed"
    assert [e["field"] for e in caught.value.data["errors"]] == ["email"]

    with pytest.raises(BadRequest) as caught:
        await sdk.create_contact("123", "TN")
    assert caught.value.code == "invalid_phone_number"


async def test_too_large_and_unsupported_bodies_have_their_own_classes(
    sdk: AsyncHeraldClient,
) -> None:
    with pytest.raises(PayloadTooLarge) as too_large:
        await sdk.create_contact("21696816277", "TN", tags=["x" * 40] * 30_000)
    assert (too_large.value.status, too_large.value.code) == (413, "payload_too_large")

    with pytest.raises(UnsupportedMediaType) as unsupported:
        await sdk.upload_media(files.exe(), filename="invoice.pdf")
    assert (unsupported.value.status, unsupported.value.code) == (415, "unsupported_media_type")
    assert "application/pdf" in unsupported.value.data["accepted"]


async def test_an_answer_that_is_not_jsend_is_an_invalid_response(
    herald: FastAPI, fake_time: FakeTime, ana: User
) -> None:
    proxy_page = httpx.Response(
        502, content=b"<html><h1>502 Bad Gateway</h1></html>", headers={"Content-Type": "text/html"}
    )
    not_jsend = httpx.Response(200, json={"ok": True})
    recorder = asgi_transport(herald, "/api/user/", (Scripted(proxy_page), Scripted(not_jsend)))
    async with async_client(recorder, fake_time, ana) as sdk:
        with pytest.raises(ServerError) as caught:
            await sdk.get_profile()
        assert (caught.value.status, caught.value.code) == (502, "invalid_response")
        assert "502 Bad Gateway" in caught.value.data["body"]

        with pytest.raises(HeraldApiError) as caught_again:
            await sdk.get_profile()
        assert (caught_again.value.status, caught_again.value.code) == (200, "invalid_response")
    assert recorder.paths().count("/api/user/") == 2  # neither was retried
    assert fake_time.sleeps == []


async def test_an_unreachable_server_is_a_connection_error_after_the_retries(
    fake_time: FakeTime,
) -> None:
    async with AsyncHeraldClient(
        f"http://127.0.0.1:{free_port()}",  # nothing listens there
        email="ana@example.com",
        password="whatever-it-is",
        sleep=fake_time.async_sleep,
        clock=fake_time.clock,
    ) as sdk:
        with pytest.raises(HeraldConnectionError) as caught:
            await sdk.get_profile()
    assert "ConnectError" in str(caught.value)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert caught.value.sent is False
    # Never connected, so repeating was safe: the 503 back-off, five times, then the error.
    assert len(fake_time.sleeps) == 5
    for step, slept in enumerate(fake_time.sleeps):
        assert 0.25 * 2**step <= slept <= 0.5 * 2**step
