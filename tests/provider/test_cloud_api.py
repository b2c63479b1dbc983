"""The Cloud API client against the emulator over real HTTP: paging and Meta's error envelope."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from herald.emulator.app import create_emulator_app
from herald.emulator.config import EmulatorConfig
from herald.provider.base import (
    ChannelAccess,
    ErrorKind,
    OutboundMessage,
    ProviderError,
    TemplateDefinition,
)
from herald.provider.cloud_api import CloudApiProvider, new_session
from tests.live import serve_app

TOKEN = "provider-test-token"


@pytest.fixture
async def emulated() -> AsyncIterator[tuple[CloudApiProvider, ChannelAccess, httpx.AsyncClient]]:
    app = create_emulator_app(
        EmulatorConfig(access_token=TOKEN, app_secret="s", approve_after_seconds=None)
    )
    async with serve_app(app) as url, new_session(5) as http:
        access = ChannelAccess(url, "v23.0", "1000", "1000", TOKEN)
        async with httpx.AsyncClient(base_url=url) as control:
            yield CloudApiProvider(http), access, control
    await app.state.emulator.aclose()


def definition(name: str, language: str = "en") -> TemplateDefinition:
    return TemplateDefinition(
        name=name, language=language, category="UTILITY", body="Hi {{1}}", placeholder_count=1
    )


async def test_listing_follows_cursors_across_pages(
    emulated: tuple[CloudApiProvider, ChannelAccess, httpx.AsyncClient],
) -> None:
    provider, access, _ = emulated
    for n in range(5):
        await provider.create_template(access, definition(f"t{n}"))
    names = [t.name async for t in provider.list_templates(access, page_size=2)]
    assert names == [f"t{n}" for n in range(5)]
    only = [t.name async for t in provider.list_templates(access, name="t3", page_size=2)]
    assert only == ["t3"]


async def test_meta_errors_become_classified_provider_errors(
    emulated: tuple[CloudApiProvider, ChannelAccess, httpx.AsyncClient],
) -> None:
    provider, access, control = emulated
    await provider.create_template(access, definition("dup"))
    with pytest.raises(ProviderError) as duplicate:
        await provider.create_template(access, definition("dup"))
    assert (duplicate.value.code, duplicate.value.subcode) == (100, 2388024)
    assert duplicate.value.kind is ErrorKind.PERMANENT
    assert duplicate.value.trace_id

    with pytest.raises(ProviderError) as refused:
        await provider.create_template(
            ChannelAccess(access.base_url, "v23.0", "1000", "1000", "wrong"), definition("x")
        )
    assert (refused.value.code, refused.value.kind) == (190, ErrorKind.AUTH)

    message = OutboundMessage(
        to="21696816277",
        template_name="dup",
        language="en",
        callback_data="1",
        body_params=("Sam",),
    )
    with pytest.raises(ProviderError) as unapproved:
        await provider.send_template(access, message)
    assert unapproved.value.code == 132001

    await control.patch("/_emulator/config", json={"error_rate": 1.0})
    with pytest.raises(ProviderError) as server_error:
        await provider.send_template(access, message)
    assert (server_error.value.code, server_error.value.kind) == (131000, ErrorKind.TRANSIENT)


async def test_deleting_what_is_already_gone_is_fine(
    emulated: tuple[CloudApiProvider, ChannelAccess, httpx.AsyncClient],
) -> None:
    provider, access, _ = emulated
    await provider.delete_template(access, "never_created")  # Meta's 2593002: nothing to do
    created = await provider.create_template(access, definition("gone"))
    await provider.delete_template(access, "gone", created.id)
    assert [t async for t in provider.list_templates(access, name="gone")] == []


async def test_unreachable_and_silent_providers(
    emulated: tuple[CloudApiProvider, ChannelAccess, httpx.AsyncClient],
) -> None:
    provider, access, control = emulated
    from tests.live import free_port

    closed = ChannelAccess(f"http://127.0.0.1:{free_port()}", "v23.0", "1", "1", TOKEN)
    with pytest.raises(ProviderError) as unreachable:
        await provider.create_template(closed, definition("x"))
    assert unreachable.value.kind is ErrorKind.TRANSIENT  # nothing left: safe to retry

    created = await provider.create_template(access, definition("slow"))
    await control.post(f"/_emulator/templates/{created.id}/approve")
    await control.patch("/_emulator/config", json={"timeout_rate": 1.0, "timeout_seconds": 2})
    async with new_session(0.5) as impatient:
        message = OutboundMessage(
            to="21696816277",
            template_name="slow",
            language="en",
            callback_data="1",
            body_params=("Sam",),
        )
        with pytest.raises(ProviderError) as silent:
            await CloudApiProvider(impatient).send_template(access, message)
    assert silent.value.kind is ErrorKind.UNKNOWN_OUTCOME  # it left: never blindly re-sent


async def test_a_read_receipt_reaches_the_emulator_and_a_refused_one_is_permanent(
    emulated: tuple[CloudApiProvider, ChannelAccess, httpx.AsyncClient],
) -> None:
    provider, access, control = emulated
    written = await control.post(
        "/_emulator/inbound",
        json={"phone_number_id": "1000", "waba_id": "1000", "from": "21696816277", "text": "hi"},
    )
    wamid = written.json()["id"]
    await provider.mark_read(access, wamid)
    receipts = (await control.get("/_emulator/read-receipts")).json()
    assert [(r["phone_number_id"], r["message_id"]) for r in receipts] == [("1000", wamid)]
    with pytest.raises(ProviderError) as refused:
        await provider.mark_read(access, "wamid.never-issued")
    assert (refused.value.kind, refused.value.code) == (ErrorKind.PERMANENT, 100)
