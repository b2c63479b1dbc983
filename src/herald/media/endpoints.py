"""``/api/v2/whatsapp/media``: upload (streamed), list, get, download (``/content``), delete."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import StreamingResponse

from herald.deps import CurrentUser, RuntimeDep, SessionDep
from herald.kit.jsend import Success
from herald.kit.pagination import MAX_ID, Page, PageParamsDep, make_page
from herald.media import intake, service
from herald.media.schemas import CONTENT_PATH, MEDIA_PATH, MediaOut
from herald.media.state import media_store

router = APIRouter(tags=["media"])

FILE_SCHEMA = {"type": "string", "format": "binary"}
CHUNK = 256 * 1024
MediaId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post(
    MEDIA_PATH,
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def upload_media(
    request: Request, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Success[MediaOut]:
    """Multipart field ``file``; the type comes from the content, never the name."""
    intake.check_declared_length(request.headers.get("content-length"))
    upload = await intake.receive(
        request.stream(), request.headers.get("content-type"), runtime.settings.upload_dir
    )
    try:
        asset = await service.create(
            session, media_store(runtime), user.id, upload, runtime.clock.now()
        )
        try:
            await session.commit()
        except BaseException:
            await media_store(runtime).delete(asset.storage_key)
            raise
    finally:
        upload.discard()  # already moved into the store unless something failed first
    return Success(message="Media uploaded", data=MediaOut.model_validate(asset))


@router.get(MEDIA_PATH)
async def list_media(
    user: CurrentUser, session: SessionDep, params: PageParamsDep
) -> Success[Page[MediaOut]]:
    assets, total = await service.list_page(session, user.id, params)
    items = [MediaOut.model_validate(a) for a in assets]
    return Success(message="Media", data=make_page(items, total, params))


@router.get(MEDIA_PATH + "/{media_id}")
async def get_media(media_id: MediaId, user: CurrentUser, session: SessionDep) -> Success[MediaOut]:
    asset = await service.get(session, user.id, media_id)
    return Success(message="Media", data=MediaOut.model_validate(asset))


@router.get(
    CONTENT_PATH,
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file's bytes, with the file's own type (image/png, "
            "application/pdf, audio/ogg ...).",
            # octet-stream first: what generated clients read it as (bytes).
            "content": {
                "application/octet-stream": {"schema": FILE_SCHEMA},
                "*/*": {"schema": FILE_SCHEMA},
            },
        }
    },
)
async def get_media_content(
    media_id: MediaId, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> StreamingResponse:
    """The file's bytes (an upload, or a customer's file), with its type, as an attachment."""
    asset = await service.get(session, user.id, media_id)
    await session.commit()  # nothing to keep open while the file streams
    opened = media_store(runtime).local_copy(asset.storage_key)
    try:
        path = await opened.__aenter__()
    except FileNotFoundError:
        raise service.MediaNotFound() from None

    async def chunks() -> AsyncIterator[bytes]:
        # The store's copy is released however the stream ends: read to the end, or the
        # client gone halfway (the task streaming it is cancelled).
        try:
            with path.open("rb") as file:
                while chunk := await asyncio.to_thread(file.read, CHUNK):
                    yield chunk
        finally:
            await opened.__aexit__(None, None, None)

    return StreamingResponse(
        chunks(),
        media_type=asset.mime_type,
        headers={
            "Content-Disposition": attachment(asset.filename),
            "Content-Length": str(asset.size),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def attachment(filename: str) -> str:
    """``Content-Disposition`` for a download: the name quoted when it is plain ASCII, else
    RFC 5987's ``filename*`` (percent-encoded UTF-8), so no name can break the header."""
    encoded = quote(filename)
    if encoded == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename*=utf-8''{encoded}"


@router.delete(MEDIA_PATH + "/{media_id}")
async def delete_media(
    media_id: MediaId, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Success[dict[str, int]]:
    asset = await service.delete(session, user.id, media_id)
    await session.commit()
    await media_store(runtime).delete(asset.storage_key)
    return Success(message="Media deleted", data={"media_id": media_id})
