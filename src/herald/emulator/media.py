"""``/{version}/{phone_number_id}/media`` and ``/{version}/{media_id}``: uploads for template
headers (a send's header is checked in send_template.py). Only each file's digest and size are
kept."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import UploadFile

from herald.emulator.auth import require_token
from herald.emulator.errors import MetaError
from herald.emulator.records import EmulatedMedia
from herald.emulator.state import EmulatorState

router = APIRouter(dependencies=[Depends(require_token)])

MB = 1024 * 1024
# Meta's size limit per kind of file (its media guide; the OpenAPI file's upload examples are an
# image, a sticker and an audio file).
LIMITS = {
    "image": 5 * MB,
    "video": 16 * MB,
    "audio": 16 * MB,
    "application": 100 * MB,
    "text": 100 * MB,
}
NOT_FOUND_SUBCODE = 33
# Where a media message's file is downloaded from (Meta's is lookaside.fbsbx.com's
# ``/whatsapp_business/attachments/?mid=…``): before ``/{version}/{media_id}`` in the router.
DOWNLOAD_PATH = "/whatsapp_business/attachments/"


def state_of(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


@router.post("/{version}/{phone_number_id}/media")
async def upload(phone_number_id: str, request: Request) -> dict[str, str]:
    state = state_of(request)
    async with request.form(max_files=1, max_fields=10) as form:
        file, mime_type = form.get("file"), str(form.get("type") or "")
        if form.get("messaging_product") != "whatsapp":
            raise MetaError(100, "messaging_product must be whatsapp")
        if not isinstance(file, UploadFile) or not mime_type:
            raise MetaError(100, "file and type are required")
        digest, size = hashlib.sha256(), 0
        while chunk := await file.read(256 * 1024):
            digest.update(chunk)
            size += len(chunk)
        limit = LIMITS.get(mime_type.split("/")[0])
        if limit is None or size == 0 or size > limit:
            raise MetaError(100, f"{mime_type} of {size} bytes is not an accepted upload")
        media = EmulatedMedia(
            state.new_id(),
            phone_number_id,
            mime_type,
            digest.hexdigest(),
            size,
            file.filename,
            time.time(),
        )
    state.media[media.id] = media
    return {"id": media.id}


def _known(state: EmulatorState, media_id: str) -> EmulatedMedia:
    media = state.media.get(media_id)
    if media is None or media.expired:
        raise MetaError(100, f"media {media_id} does not exist", subcode=NOT_FOUND_SUBCODE)
    return media


@router.get(DOWNLOAD_PATH)
async def download(request: Request, mid: str = "") -> Response:
    """A media message's file, as Meta's download URL serves it (with the access token)."""
    media = _known(state_of(request), mid)
    if media.content is None:
        raise MetaError(100, f"media {mid} has no file to download", subcode=NOT_FOUND_SUBCODE)
    return Response(base64.b64decode(media.content), media_type=media.mime_type)


@router.get("/{version}/{media_id}")
async def describe(
    media_id: str, request: Request, phone_number_id: str | None = None
) -> dict[str, Any]:
    media = _known(state_of(request), media_id)
    if phone_number_id is not None and phone_number_id != media.phone_number_id:
        # Meta's check of the optional parameter: the media is not this number's.
        raise MetaError(100, f"media {media_id} does not belong to {phone_number_id}")
    return {
        "messaging_product": "whatsapp",
        "url": str(request.url_for("download").include_query_params(mid=media.id)),
        "mime_type": media.mime_type,
        "sha256": media.sha256,
        "file_size": media.size,
        "id": media.id,
    }


@router.delete("/{version}/{media_id}")
async def delete(media_id: str, request: Request) -> dict[str, bool]:
    state = state_of(request)
    _known(state, media_id)
    del state.media[media_id]
    return {"success": True}
