"""``/api/v2/whatsapp/media`` on both databases and both stores (spec/api.md §6)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from herald.config import Settings
from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.media.storage import open_store
from herald.models import MediaAsset, Message, User
from tests.conftest import DatabaseUnderTest, assert_error
from tests.media import files
from tests.message.helpers import approved_template

MEDIA = "/api/v2/whatsapp/media"


async def upload(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    data: bytes,
    name: str = "invoice-april.pdf",
    content_type: str = "application/octet-stream",
) -> httpx.Response:
    return await client.post(MEDIA, files={"file": (name, data, content_type)}, headers=auth)


async def uploaded(client: httpx.AsyncClient, auth: dict[str, str], data: bytes, **kw: Any) -> int:
    answer = await upload(client, auth, data, **kw)
    assert answer.status_code == 201, answer.text
    media_id: int = answer.json()["data"]["media_id"]
    return media_id


async def stored_bytes(settings: Settings, db: DatabaseUnderTest, media_id: int) -> bytes | None:
    async with session_factory(db.engine)() as session:
        asset = await session.get(MediaAsset, media_id)
    assert asset is not None
    try:
        async with open_store(settings).local_copy(asset.storage_key) as path:
            return path.read_bytes()
    except FileNotFoundError:
        return None


async def test_upload_answers_201_with_the_file_described(
    client: httpx.AsyncClient, auth: dict[str, str], settings: Settings, db: DatabaseUnderTest
) -> None:
    content = files.pdf(50_000)
    answer = await upload(client, auth, content, content_type="image/png")  # the lie is ignored
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] == "success"
    data = body["data"]
    assert data["type"] == "document"
    assert data["mime_type"] == "application/pdf"
    assert data["size"] == len(content)
    assert data["filename"] == "invoice-april.pdf"
    assert data["sha256"] == hashlib.sha256(content).hexdigest()
    assert data["created_at"].endswith("Z")
    assert await stored_bytes(settings, db, data["media_id"]) == content

    one = await client.get(f"{MEDIA}/{data['media_id']}", headers=auth)
    assert one.json()["data"] == data
    listed = await client.get(MEDIA, headers=auth)
    assert listed.json()["data"]["items"] == [data]
    assert listed.json()["data"]["pagination"]["total"] == 1


@pytest.mark.parametrize(
    ("content", "name", "kind", "mime", "shown_name"),
    [
        (files.png(), "logo.pdf", "image", "image/png", "logo.png"),
        (files.mp4(), "clip.mp4", "video", "video/mp4", "clip.mp4"),
        (
            files.docx(),
            "terms",
            "document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "terms.docx",
        ),
        ("Grüße aus Tunis\n".encode(), "notes.txt", "document", "text/plain", "notes.txt"),
    ],
)
async def test_the_kind_comes_from_the_content_not_the_name(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    content: bytes,
    name: str,
    kind: str,
    mime: str,
    shown_name: str,
) -> None:
    answer = await upload(client, auth, content, name=name)
    assert answer.status_code == 201, answer.text
    data = answer.json()["data"]
    assert (data["type"], data["mime_type"], data["filename"]) == (kind, mime, shown_name)


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (files.exe(), "setup.exe"),
        (files.exe(), "invoice.pdf"),  # an executable dressed up as a PDF
        (b"GIF89a" + b"\x00" * 100, "animation.gif"),  # an image Meta does not take
        (b"plain text, then binary\n" * 400 + b"\x00\x01\x02", "notes.txt"),
    ],
)
async def test_other_types_are_415(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    settings: Settings,
    content: bytes,
    name: str,
) -> None:
    answer = await upload(client, auth, content, name=name)
    assert_error(answer, 415, "unsupported_media_type")
    async with session_factory(db.engine)() as session:
        assert (await session.execute(select(MediaAsset))).first() is None
    assert list(settings.upload_dir.iterdir()) == []  # nothing left behind


async def test_an_image_over_5_mb_is_413_and_nothing_is_kept(
    client: httpx.AsyncClient, auth: dict[str, str], settings: Settings
) -> None:
    answer = await upload(client, auth, files.png(extra=5 * 1024 * 1024 + 1), name="big.png")
    body = assert_error(answer, 413, "media_too_large")
    assert body["data"] == {"max_size": 5 * 1024 * 1024, "type": "image"}
    assert list(settings.upload_dir.iterdir()) == []


async def test_a_declared_length_over_the_largest_limit_is_refused_before_reading(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    answer = await client.post(
        MEDIA,
        content=b"--x\r\n",
        headers={
            **auth,
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(200 * 1024 * 1024),
        },
    )
    assert_error(answer, 413, "media_too_large")


@pytest.mark.parametrize(
    ("request_kwargs", "why"),
    [
        ({"json": {"file": "invoice.pdf"}}, "not multipart"),
        ({"files": {"document": ("a.pdf", files.pdf(), "application/pdf")}}, "wrong field"),
        ({"files": {"file": ("a.pdf", b"", "application/pdf")}}, "empty file"),
        (
            {
                "content": b'--x\r\nContent-Disposition: form-data; name="file"\r\n\r\n%PDF',
                "headers": {"Content-Type": "multipart/form-data; boundary=x"},
            },
            "cut short",
        ),
    ],
)
async def test_a_missing_or_broken_file_is_400(
    client: httpx.AsyncClient, auth: dict[str, str], request_kwargs: dict[str, Any], why: str
) -> None:
    headers = {**auth, **request_kwargs.pop("headers", {})}
    answer = await client.post(MEDIA, headers=headers, **request_kwargs)
    body = assert_error(answer, 400, "validation_failed")
    assert body["data"]["errors"][0]["field"] == "file", why  # type: ignore[index]


async def test_uploads_need_authentication(client: httpx.AsyncClient) -> None:
    answer = await upload(client, {}, files.pdf())
    assert_error(answer, 401, "token_missing")


async def test_a_users_file_name_never_becomes_a_path(
    client: httpx.AsyncClient, auth: dict[str, str], settings: Settings, db: DatabaseUnderTest
) -> None:
    answer = await upload(client, auth, files.pdf(), name="../../../etc/cron.d/evil.pdf")
    assert answer.status_code == 201, answer.text
    assert answer.json()["data"]["filename"] == "evil.pdf"
    async with session_factory(db.engine)() as session:
        asset = (await session.execute(select(MediaAsset))).scalar_one()
    assert ".." not in asset.storage_key
    assert "evil" not in asset.storage_key
    assert not (Path("/etc/cron.d") / "evil.pdf").exists()


async def test_another_users_media_is_404_everywhere(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    bob_auth: dict[str, str],
    ana: User,
    db: DatabaseUnderTest,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    bobs = await uploaded(client, bob_auth, files.pdf())
    assert_error(await client.get(f"{MEDIA}/{bobs}", headers=auth), 404, "media_not_found")
    assert_error(await client.delete(f"{MEDIA}/{bobs}", headers=auth), 404, "media_not_found")
    assert (await client.get(MEDIA, headers=auth)).json()["data"]["items"] == []

    template = await approved_template(db, ana, settings, clock.now(), header_format="DOCUMENT")
    send = await client.post(
        f"/api/v2/whatsapp/templates/{template.id}/send",
        json={
            "to": "21696816277",
            "country_code": "TN",
            "body_params": ["Sam", "ORD-1"],
            "header_media_id": bobs,
        },
        headers=auth,
    )
    assert_error(send, 404, "media_not_found")
    v1 = await client.post(
        "/api/whatsapp/",
        json={
            "template_id": template.id,
            "phone_number": "21696816277",
            "country_code": "TN",
            "body_params": ["Sam", "ORD-1"],
            "header_media_id": bobs,
        },
        headers=auth,
    )
    assert_error(v1, 404, "media_not_found")
    assert await stored_bytes(settings, db, bobs) == files.pdf()  # still there for bob


async def test_sends_check_the_headers_kind_and_bulk_shares_one_file(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    bob_auth: dict[str, str],
    ana: User,
    db: DatabaseUnderTest,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    template = await approved_template(db, ana, settings, clock.now(), header_format="DOCUMENT")
    image = await uploaded(client, auth, files.png(), name="logo.png")
    invoice = await uploaded(client, auth, files.pdf())
    bobs = await uploaded(client, bob_auth, files.pdf())
    path = f"/api/v2/whatsapp/templates/{template.id}"
    single = {"to": "21696816277", "country_code": "TN", "body_params": ["Sam", "ORD-1"]}

    wrong_kind = await client.post(
        f"{path}/send", json={**single, "header_media_id": image}, headers=auth
    )
    body = assert_error(wrong_kind, 400, "header_media_mismatch")
    assert body["data"] == {"header_format": "DOCUMENT", "media_type": "image"}

    recipients = [{**single, "to": f"2169681627{n}", "header_media_id": invoice} for n in range(5)]
    recipients.append({**single, "to": "21696816270", "header_media_id": bobs})
    bulk = await client.post(
        f"{path}/send-bulk", json={"recipients": recipients, "skip_invalid": True}, headers=auth
    )
    assert bulk.status_code == 202, bulk.text
    assert bulk.json()["data"]["queued"] == 5
    assert [(r["index"], r["code"]) for r in bulk.json()["data"]["rejected"]] == [
        (5, "media_not_found")
    ]
    async with session_factory(db.engine)() as session:
        rows = (await session.execute(select(Message.header_media_id))).scalars().all()
    assert rows == [invoice] * 5


async def test_a_file_still_needed_is_409_until_its_message_leaves(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    ana: User,
    db: DatabaseUnderTest,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    template = await approved_template(db, ana, settings, clock.now(), header_format="DOCUMENT")
    invoice = await uploaded(client, auth, files.pdf())
    scheduled = await client.post(
        f"/api/v2/whatsapp/templates/{template.id}/send",
        json={
            "to": "21696816277",
            "country_code": "TN",
            "body_params": ["Sam", "ORD-1"],
            "header_media_id": invoice,
            "send_at": (clock.now() + timedelta(hours=2)).isoformat(),
        },
        headers=auth,
    )
    assert scheduled.status_code == 202, scheduled.text
    refused = await client.delete(f"{MEDIA}/{invoice}", headers=auth)
    assert_error(refused, 409, "media_in_use")
    assert await stored_bytes(settings, db, invoice) is not None

    message_id = scheduled.json()["data"]["message"]["id"]
    assert (await client.delete(f"/api/whatsapp/{message_id}/", headers=auth)).status_code == 200
    deleted = await client.delete(f"{MEDIA}/{invoice}", headers=auth)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["data"] == {"media_id": invoice}
    assert_error(await client.get(f"{MEDIA}/{invoice}", headers=auth), 404, "media_not_found")
    async with session_factory(db.engine)() as session:
        assert (await session.execute(select(MediaAsset))).first() is None
    store = open_store(settings)
    with pytest.raises(FileNotFoundError):
        async with store.local_copy(f"{ana.id}/{'0' * 32}"):
            pass
