"""``GET /api/v2/whatsapp/media/{id}/content``: the owner's file, streamed from either store
(local disk, S3), with its type and a safe attachment name; another user's, or a file gone from
the store, is a 404 in JSend."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from herald.config import Settings
from herald.db import session_factory
from herald.media.endpoints import attachment
from herald.media.storage import open_store
from herald.models import MediaAsset
from tests.conftest import DatabaseUnderTest, add_user, assert_error
from tests.media import files
from tests.media.test_endpoints import MEDIA, uploaded


async def test_the_owner_downloads_the_file_and_others_get_a_404(
    client: httpx.AsyncClient, auth: dict[str, str], settings: Settings, db: DatabaseUnderTest
) -> None:
    content = files.pdf(700_000)  # several chunks
    media_id = await uploaded(client, auth, content, name="facture été.pdf")
    answer = await client.get(f"{MEDIA}/{media_id}/content", headers=auth)
    assert answer.status_code == 200
    assert answer.content == content
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-length"] == str(len(content))
    assert answer.headers["content-disposition"] == (
        "attachment; filename*=utf-8''facture%20%C3%A9t%C3%A9.pdf"
    )
    assert answer.headers["x-content-type-options"] == "nosniff"

    bob = await add_user(db, "bob@example.com")
    login = await client.post(
        "/api/login_check", json={"username": bob.email, "password": "s3cret-pass"}
    )
    bobs = {"Authorization": f"Bearer {login.json()['token']}"}
    assert_error(
        await client.get(f"{MEDIA}/{media_id}/content", headers=bobs), 404, "media_not_found"
    )

    # The record outlives its file (removed behind Herald's back): a 404, not a 500.
    async with session_factory(db.engine)() as session:
        key = (await session.scalars(select(MediaAsset.storage_key))).one()
    await open_store(settings).delete(key)
    assert_error(
        await client.get(f"{MEDIA}/{media_id}/content", headers=auth), 404, "media_not_found"
    )


def test_a_plain_name_is_quoted_and_any_other_is_percent_encoded() -> None:
    assert attachment("invoice.pdf") == 'attachment; filename="invoice.pdf"'
    assert attachment('a";b.pdf') == "attachment; filename*=utf-8''a%22%3Bb.pdf"
