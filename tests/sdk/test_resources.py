"""Profile, contacts, templates, opt-outs and media through the SDK, and walking every page."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from pathlib import Path

import pytest
from fastapi import FastAPI
from herald_client import AsyncHeraldClient, Conflict, NotFound, next_page

from herald.models import User
from tests.media import files
from tests.sdk.conftest import FakeTime, asgi_transport, async_client
from tests.sdk.transports import AsyncWrapping, rate_limited

MEDIA = "/api/v2/whatsapp/media"


async def test_profile_reads_and_updates(sdk: AsyncHeraldClient, ana: User) -> None:
    profile = await sdk.get_profile()
    assert (profile["id"], profile["email"], profile["firstname"]) == (ana.id, ana.email, None)
    updated = await sdk.update_profile(firstname="Ana", lastname="Silva")
    assert (updated["firstname"], updated["lastname"]) == ("Ana", "Silva")
    assert (await sdk.get_profile())["lastname"] == "Silva"


async def test_contacts_round_trip(sdk: AsyncHeraldClient, recorder: AsyncWrapping) -> None:
    created = await sdk.create_contact(
        "96816277", "TN", firstname="Sam", email="sam@example.com", tags=["vip", "b2b"]
    )
    assert created["number"] == "21696816277"  # national form, stored as E.164 digits
    assert created["tags"] == ["b2b", "vip"]
    assert await sdk.get_contact(created["id"]) == created

    changed = await sdk.update_contact(created["id"], lastname="Ben Ali", tags=["vip"])
    assert (changed["firstname"], changed["lastname"], changed["tags"]) == (
        "Sam",
        "Ben Ali",
        ["vip"],
    )
    assert recorder.requests[-1].url.path == f"/api/contacts/{created['id']}/"

    found = await sdk.list_contacts(search="ben a", tag="vip")
    assert [c["id"] for c in found["items"]] == [created["id"]]
    assert (await sdk.list_contacts(tag="nobody"))["items"] == []

    assert await sdk.delete_contact(created["id"]) == {"id": created["id"]}
    with pytest.raises(NotFound) as caught:
        await sdk.get_contact(created["id"])
    assert caught.value.code == "contact_not_found"


async def test_iter_all_walks_every_page(sdk: AsyncHeraldClient, recorder: AsyncWrapping) -> None:
    numbers = [f"2169681627{n}" for n in range(5)]
    for number in numbers:
        await sdk.create_contact(number, "TN", tags=["batch"])
    await sdk.create_contact("21696816280", "TN", tags=["other"])

    first = await sdk.list_contacts(tag="batch", limit=2)
    # One style: a page is a dict with Herald's keys, like every other result.
    assert type(first) is dict
    assert first["pagination"] == {
        "page": 1,
        "limit": 2,
        "total": 5,
        "pages": 3,
        "next_before_id": None,
    }
    assert next_page(first) == 2

    before = len(recorder.to("/api/contacts/"))
    seen = [c["number"] async for c in sdk.iter_all(sdk.list_contacts, limit=2, tag="batch")]
    assert sorted(seen) == numbers  # all five, none twice, the "other" one filtered out
    pages = recorder.to("/api/contacts/")[before:]
    assert [(r.url.params["page"], r.url.params["limit"]) for r in pages] == [
        ("1", "2"),
        ("2", "2"),
        ("3", "2"),
    ]
    assert all(r.url.params["tag"] == "batch" for r in pages)


async def test_templates_are_created_filtered_and_deleted(sdk: AsyncHeraldClient) -> None:
    created = await sdk.create_template(
        "order_confirmed",
        "en",
        "UTILITY",
        "Hello {{1}}, your order {{2}} is confirmed.",
        header={"format": "TEXT", "text": "Your order"},
        footer="Reply STOP to opt out",
        buttons=[{"type": "QUICK_REPLY", "text": "Thanks"}],
    )
    assert (created["state"], created["placeholder_count"]) == ("DRAFT", 2)
    assert created["header"] == {
        "format": "TEXT",
        "text": "Your order",
        "example": None,
        "example_media_id": None,
    }
    assert created["buttons"] == [
        {
            "type": "QUICK_REPLY",
            "text": "Thanks",
            "url": None,
            "example": None,
            "phone_number": None,
        }
    ]

    with pytest.raises(Conflict) as caught:
        await sdk.create_template("order_confirmed", "en", "UTILITY", "Again {{1}}.")
    assert (caught.value.code, caught.value.data) == ("template_exists", {"id": created["id"]})

    drafts = await sdk.list_templates(state="DRAFT", category="UTILITY")
    assert [t["id"] for t in drafts["items"]] == [created["id"]]
    assert (await sdk.list_templates(state="APPROVED"))["items"] == []

    assert await sdk.delete_template(created["id"]) == {"id": created["id"]}
    assert (await sdk.list_templates())["pagination"]["total"] == 0


async def test_opt_outs_are_added_listed_and_removed(sdk: AsyncHeraldClient) -> None:
    added = await sdk.add_opt_out("+216 96 816 277", "TN")
    assert (added["number"], added["country_code"], added["source"]) == (
        "21696816277",
        "TN",
        "api",
    )
    with pytest.raises(Conflict) as exists:
        await sdk.add_opt_out("21696816277", "TN")
    assert exists.value.code == "opt_out_exists"
    assert [o["number"] for o in (await sdk.list_opt_outs())["items"]] == ["21696816277"]

    assert await sdk.remove_opt_out("21696816277") == {"number": "21696816277"}
    with pytest.raises(NotFound) as gone:
        await sdk.remove_opt_out("21696816277")
    assert gone.value.code == "opt_out_not_found"


async def test_media_uploads_from_a_path_stream_without_reading_the_file_whole(
    sdk: AsyncHeraldClient, tmp_path: Path
) -> None:
    content = files.pdf(30 * 1024 * 1024)
    path = tmp_path / "invoice-april.pdf"
    path.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    del content
    await sdk.get_profile()  # log in first: only the upload is measured

    tracemalloc.start()
    try:
        media = await sdk.upload_media(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Client and in-process server share this process: 30 MB went through, far less was held.
    assert peak < 8 * 1024 * 1024, f"peak traced memory {peak / 1e6:.1f} MB"
    assert (media["type"], media["mime_type"]) == ("document", "application/pdf")
    assert (media["size"], media["sha256"]) == (path.stat().st_size, digest)
    assert media["filename"] == "invoice-april.pdf"


async def test_media_from_bytes_and_file_objects_listed_fetched_and_deleted(
    sdk: AsyncHeraldClient,
) -> None:
    image = await sdk.upload_media(files.png(), filename="logo.pdf")
    assert (image["type"], image["filename"]) == ("image", "logo.png")  # content decides
    document = await sdk.upload_media(io.BytesIO(files.pdf()), filename="terms.pdf")
    assert document["type"] == "document"

    listed = await sdk.list_media()
    assert [m["media_id"] for m in listed["items"]] == [document["media_id"], image["media_id"]]
    assert await sdk.get_media(image["media_id"]) == image
    assert await sdk.delete_media(image["media_id"]) == {"media_id": image["media_id"]}
    with pytest.raises(NotFound) as caught:
        await sdk.get_media(image["media_id"])
    assert caught.value.code == "media_not_found"


async def test_a_retried_upload_sends_the_whole_file_again(
    herald: FastAPI, fake_time: FakeTime, ana: User, tmp_path: Path
) -> None:
    content = files.pdf(300_000)
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    recorder = asgi_transport(herald, MEDIA, (rate_limited(1, forward=True),))
    async with async_client(recorder, fake_time, ana) as sdk:
        media = await sdk.upload_media(str(path))
        listed = await sdk.list_media()
    assert fake_time.sleeps == [1.0]
    assert len(recorder.to(MEDIA)) == 3  # refused upload, retried upload, list
    assert (media["size"], media["sha256"]) == (len(content), hashlib.sha256(content).hexdigest())
    # the first attempt reached Herald too (its answer was replaced): both stored in full
    assert [m["size"] for m in listed["items"]] == [len(content), len(content)]
