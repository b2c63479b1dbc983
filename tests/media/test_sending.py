"""Header media over real HTTP: Herald, the emulator and the store, as a new user meets them."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import httpx

from herald.db import create_engine, session_factory
from herald.media.storage import open_store
from herald.models import MediaAsset
from tests.live_herald import Live, eventually
from tests.media import files
from tests.template.test_endpoints import create as create_template

MEDIA = "/api/v2/whatsapp/media"
RECIPIENTS = ["21696816271", "21696816272", "21696816273", "21696816274"]


async def approved_document_template(live: Live, auth: dict[str, str]) -> int:
    sample = await live.herald.post(
        MEDIA, files={"file": ("sample.pdf", files.pdf(), "application/pdf")}, headers=auth
    )
    assert sample.status_code == 201, sample.text
    template = await create_template(
        live.herald,
        auth,
        name="invoice_ready",
        body="Hello {{1}}, your invoice {{2}} is attached.",
        header={"format": "DOCUMENT", "example_media_id": sample.json()["data"]["media_id"]},
    )
    submitted = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/submit", headers=auth
    )
    assert submitted.status_code == 200, submitted.text

    async def approved() -> bool:
        answer = await live.herald.get(f"/api/v2/whatsapp/templates/{template['id']}", headers=auth)
        return bool(answer.json()["data"]["state"] == "APPROVED")

    await eventually(approved, message="the DOCUMENT template is approved")
    template_id: int = template["id"]
    return template_id


async def send(live: Live, auth: dict[str, str], template_id: int, to: str, media: int) -> int:
    answer = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template_id}/send",
        json={
            "to": to,
            "country_code": "TN",
            "body_params": ["Sam", "INV-2026-04"],
            "header_media_id": media,
        },
        headers=auth,
    )
    assert answer.status_code == 202, answer.text
    message_id: int = answer.json()["data"]["message"]["id"]
    return message_id


async def wait_until_read(live: Live, auth: dict[str, str], message_ids: list[int]) -> None:
    async def all_read() -> bool:
        for message_id in message_ids:
            answer = await live.herald.get(f"/api/whatsapp/{message_id}/", headers=auth)
            if answer.json()["data"]["state"] != "read":
                return False
        return True

    await eventually(all_read, timeout=20, message="every message with a header reaches read")


async def test_a_document_header_reaches_read_with_one_upload_for_many(
    live: Live, live_ana: dict[str, str]
) -> None:
    content = files.pdf(200_000)
    answer = await live.herald.post(
        MEDIA, files={"file": ("invoice-april.pdf", content, "application/pdf")}, headers=live_ana
    )
    assert answer.status_code == 201, answer.text
    media_id = answer.json()["data"]["media_id"]
    template_id = await approved_document_template(live, live_ana)

    ids = [await send(live, live_ana, template_id, to, media_id) for to in RECIPIENTS]
    await wait_until_read(live, live_ana, ids)

    uploads = (await live.emulator.get("/_emulator/media")).json()
    assert len(uploads) == 1, "one upload serves every recipient"
    assert uploads[0]["file_size"] == len(content)
    assert uploads[0]["mime_type"] == "application/pdf"
    sent = (await live.emulator.get("/_emulator/messages")).json()
    headers = [
        c["parameters"][0]
        for m in sent
        for c in m["payload"]["template"]["components"]
        if c["type"] == "header"
    ]
    assert headers == [
        {"type": "document", "document": {"id": uploads[0]["id"], "filename": "invoice-april.pdf"}}
    ] * len(RECIPIENTS)


async def test_an_expired_provider_copy_is_uploaded_again(
    live: Live, live_ana: dict[str, str]
) -> None:
    answer = await live.herald.post(
        MEDIA, files={"file": ("invoice.pdf", files.pdf(), "application/pdf")}, headers=live_ana
    )
    media_id = answer.json()["data"]["media_id"]
    template_id = await approved_document_template(live, live_ana)
    first = await send(live, live_ana, template_id, RECIPIENTS[0], media_id)
    await wait_until_read(live, live_ana, [first])
    [copy] = (await live.emulator.get("/_emulator/media")).json()

    # Meta forgets media after 30 days; the emulator is told to forget it now.
    assert (await live.emulator.post(f"/_emulator/media/{copy['id']}/expire")).status_code == 200
    second = await send(live, live_ana, template_id, RECIPIENTS[1], media_id)
    await wait_until_read(live, live_ana, [second])

    uploads = (await live.emulator.get("/_emulator/media")).json()
    assert len(uploads) == 2
    stats = (await live.emulator.get("/_emulator/stats")).json()
    assert stats["refused"] == {"131053": 1}  # the one send that met the expired copy
    detail = (await live.herald.get(f"/api/whatsapp/{second}/", headers=live_ana)).json()
    assert detail["data"]["error"] is None


async def test_a_header_file_deleted_behind_herald_fails_the_message_clearly(
    live: Live, live_ana: dict[str, str]
) -> None:
    answer = await live.herald.post(
        MEDIA, files={"file": ("invoice.pdf", files.pdf(), "application/pdf")}, headers=live_ana
    )
    media_id = answer.json()["data"]["media_id"]
    template_id = await approved_document_template(live, live_ana)
    # The file vanishes from the store (an operator cleaning the disk or the bucket).
    engine = create_engine(live.settings.resolved_database_url)
    async with session_factory(engine)() as session:
        asset = await session.get(MediaAsset, media_id)
    await engine.dispose()
    assert asset is not None
    await open_store(live.settings).delete(asset.storage_key)
    message_id = await send(live, live_ana, template_id, RECIPIENTS[0], media_id)

    async def failed() -> bool:
        answer = await live.herald.get(f"/api/whatsapp/{message_id}/", headers=live_ana)
        return bool(answer.json()["data"]["state"] == "failed")

    await eventually(failed, message="the message fails instead of waiting forever")
    detail = (await live.herald.get(f"/api/whatsapp/{message_id}/", headers=live_ana)).json()
    assert detail["data"]["error"]["code"] == "media_missing"


async def _huge_document(total: int, chunk: int = 1024 * 1024) -> AsyncIterator[bytes]:
    boundary = b"herald-test-boundary"
    yield (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="huge.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n"
    )
    yield files.pdf(chunk)
    sent = chunk
    block = b"%" * chunk
    while sent < total:
        yield block
        sent += chunk
        await asyncio.sleep(0)
    yield b"\r\n--" + boundary + b"--\r\n"


async def test_a_120_mb_document_is_413_while_streaming_with_flat_memory(
    live: Live, live_ana: dict[str, str]
) -> None:
    headers = {
        **live_ana,
        "Content-Type": "multipart/form-data; boundary=herald-test-boundary",
    }
    tracemalloc.start()
    try:
        answer: Any = await live.herald.post(
            MEDIA, content=_huge_document(120 * 1024 * 1024), headers=headers, timeout=60
        )
        _, peak = tracemalloc.get_traced_memory()
    except httpx.TransportError as exc:  # the server may close before the client finishes
        raise AssertionError(f"the 413 did not reach the client: {exc!r}") from exc
    finally:
        tracemalloc.stop()
    assert answer.status_code == 413, answer.text
    assert answer.json()["code"] == "media_too_large"
    # Server and client share this process: 120 MB went through, far less was ever held.
    assert peak < 20 * 1024 * 1024, f"peak traced memory {peak / 1e6:.1f} MB"
    assert list(live.settings.upload_dir.iterdir()) == []
    listed = await live.herald.get(MEDIA, headers=live_ana)
    assert listed.json()["data"]["items"] == []
