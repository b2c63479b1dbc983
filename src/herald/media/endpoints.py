"""``/api/v2/whatsapp/media``: upload (streamed), list, get, download (``/content``), delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from herald.deps import CurrentUser, RuntimeDep, SessionDep
from herald.kit.jsend import Success
from herald.kit.pagination import MAX_ID, Page, PageParamsDep, make_page
from herald.media import intake, service
from herald.media.schemas import CONTENT_PATH, MEDIA_PATH, MediaOut
from herald.media.state import media_store

router = APIRouter(tags=["media"])

FILE_SCHEMA = {"type": "string", "format": "binary"}
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
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {"schema": FILE_SCHEMA}}}},
)
async def get_media_content(
    media_id: MediaId, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> FileResponse:
    """The file's bytes (an upload, or a customer's file), with its type, as an attachment."""
    asset = await service.get(session, user.id, media_id)
    await session.commit()  # nothing to keep open while the file streams
    opened = media_store(runtime).local_copy(asset.storage_key)
    try:
        path = await opened.__aenter__()
    except FileNotFoundError:
        raise service.MediaNotFound() from None
    return FileResponse(
        path,
        media_type=asset.mime_type,
        filename=asset.filename,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
        background=BackgroundTask(opened.__aexit__, None, None, None),
    )


@router.delete(MEDIA_PATH + "/{media_id}")
async def delete_media(
    media_id: MediaId, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Success[dict[str, int]]:
    asset = await service.delete(session, user.id, media_id)
    await session.commit()
    await media_store(runtime).delete(asset.storage_key)
    return Success(message="Media deleted", data={"media_id": media_id})
