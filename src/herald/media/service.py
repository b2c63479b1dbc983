"""Media assets: stored once per upload, checked for sends, deleted only when no message that
has yet to leave needs them."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from herald.errors import Conflict, HeraldError, NotFound
from herald.kit.pagination import PageParams, fetch_page
from herald.media import repository
from herald.media.intake import Upload, clean_filename
from herald.media.kinds import HEADER_DOCUMENT_TYPE
from herald.media.storage import MediaStore
from herald.models import MediaAsset


class MediaNotFound(NotFound):
    code = "media_not_found"
    message = "Media not found."


class MediaInUse(Conflict):
    code = "media_in_use"
    message = (
        "A queued or scheduled message, or a template yet to be submitted, still needs this "
        "file; let it leave (or submit the template) first."
    )


class HeaderMediaMismatch(HeraldError):
    code = "header_media_mismatch"


class HeaderDocumentNotPdf(HeraldError):
    status = 415
    code = "header_document_not_pdf"


def check_header_asset(header_format: str, asset: MediaAsset) -> None:
    """``asset`` fits a template header of ``header_format``: same kind, and a PDF for a
    DOCUMENT header (the only document Meta takes there)."""
    if asset.kind != header_format.lower():
        raise HeaderMediaMismatch(
            f"The template's header is {header_format}; media {asset.id} is {asset.kind}.",
            data={"header_format": header_format, "media_type": asset.kind},
        )
    if header_format == "DOCUMENT" and asset.mime_type != HEADER_DOCUMENT_TYPE:
        raise HeaderDocumentNotPdf(
            f"A DOCUMENT header is a PDF; media {asset.id} is {asset.mime_type}.",
            data={"media_id": asset.id, "mime_type": asset.mime_type},
        )


async def create(
    session: AsyncSession, store: MediaStore, user_id: int, upload: Upload, now: datetime
) -> MediaAsset:
    """Move the upload into the store and record it (the caller commits, or deletes the file)."""
    key = f"{user_id}/{secrets.token_hex(16)}"
    await store.put(key, upload.path)
    return await repository.add(
        session,
        MediaAsset(
            user_id=user_id,
            kind=upload.kind.kind,
            mime_type=upload.kind.mime_type,
            size=upload.size,
            filename=upload.filename,
            sha256=upload.sha256,
            storage_key=key,
            created_at=now,
        ),
    )


async def create_inbound(
    session: AsyncSession,
    store: MediaStore,
    user_id: int,
    path: Path,
    kind: str,
    mime_type: str,
    size: int,
    sha256: str,
    filename: str | None,
    now: datetime,
) -> MediaAsset:
    """Move a customer's downloaded file into the store and record it as the user's
    (``origin`` inbound: not listed with their uploads); the caller commits, or deletes it."""
    key = f"{user_id}/{secrets.token_hex(16)}"
    await store.put(key, path)
    return await repository.add(
        session,
        MediaAsset(
            user_id=user_id,
            kind=kind,
            origin=repository.INBOUND,
            mime_type=mime_type[:100],
            size=size,
            filename=clean_filename(filename or kind, mime_type),
            sha256=sha256,
            storage_key=key,
            created_at=now,
        ),
    )


async def get(session: AsyncSession, user_id: int, media_id: int) -> MediaAsset:
    asset = await repository.get(session, user_id, media_id)
    if asset is None:
        raise MediaNotFound()
    return asset


async def list_page(
    session: AsyncSession, user_id: int, params: PageParams
) -> tuple[Sequence[MediaAsset], int]:
    return await fetch_page(session, repository.list_query(user_id), params)


async def delete(session: AsyncSession, user_id: int, media_id: int) -> MediaAsset:
    """Remove the record; the caller commits, then deletes the stored file."""
    asset = await repository.get(session, user_id, media_id, lock=True)
    if asset is None:
        raise MediaNotFound()
    if await repository.in_use(session, asset.id):
        raise MediaInUse(data={"media_id": asset.id})
    await repository.remove(session, asset)
    return asset


async def for_sending(
    session: AsyncSession, user_id: int, media_ids: set[int]
) -> dict[int, MediaAsset]:
    """The caller's assets among ``media_ids`` (others are simply absent: a 404 to the caller),
    share-locked on PostgreSQL until the send commits so a concurrent delete waits."""
    return await repository.get_many(session, user_id, media_ids)
