"""Meta's Resumable Upload API: ``POST /{version}/{app_id}/uploads`` opens a session,
``POST /{version}/upload:{session}`` sends the bytes (from ``file_offset``) and answers the
file's handle, ``GET`` the same tells how far an interrupted upload got. Template creation
takes only handles issued here as a media header's ``example.header_handle``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Annotated

import filetype  # type: ignore[import-untyped]
from fastapi import APIRouter, Header, Query, Request

from herald.emulator.auth import check_token
from herald.emulator.errors import MetaError

router = APIRouter()

# The types Meta's Resumable Upload API takes (its ``file_type`` parameter).
FILE_TYPES = {
    "application/pdf": "application/pdf",
    "image/jpeg": "image/jpeg",
    "image/jpg": "image/jpeg",
    "image/png": "image/png",
    "video/mp4": "video/mp4",
}
MAX_LENGTH = 100 * 1024 * 1024
HEAD_BYTES = 8192  # what the content check looks at
NOT_FOUND_SUBCODE = 33  # "Object with ID … does not exist"


@dataclass
class UploadSession:
    """A session as it is kept across restarts (state.py): the bytes received so far are not
    (see ``Received``)."""

    app_id: str
    file_name: str
    file_length: int
    file_type: str
    signature: str
    handle: str | None = None


@dataclass
class Received:
    """How far an unfinished session's upload got, in memory only: a file of up to 100 MB is not
    kept in the state file, so after a restart the session stands at offset 0 and the client,
    asking where it stands as Meta's resume protocol has it, sends the file again."""

    offset: int = 0
    head: bytes = b""
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)


@dataclass
class UploadedFile:
    """What a handle stands for: enough to check a template header's sample against (Meta keeps
    the file; the emulator its type, length and digest)."""

    app_id: str
    mime_type: str
    size: int
    sha256: str


class Uploads:
    """Open sessions and issued handles, per emulator app; the state keeps both in its file."""

    def __init__(self) -> None:
        self.sessions: dict[str, UploadSession] = {}
        self.handles: dict[str, UploadedFile] = {}
        self.received: dict[str, Received] = {}  # unfinished session id → its bytes so far
        self._key = secrets.token_bytes(16)

    def sign(self, session_id: str) -> str:
        return hmac.new(self._key, session_id.encode(), hashlib.sha256).hexdigest()[:24]

    def progress(self, session_id: str) -> Received:
        return self.received.setdefault(session_id, Received())


def uploads_of(request: Request) -> Uploads:
    uploads: Uploads = request.app.state.emulator.uploads
    return uploads


def _authorise(request: Request, access_token: str | None) -> None:
    """Graph takes the token in the Authorization header (``Bearer`` or ``OAuth``, the scheme
    Meta's upload guide uses) or as the ``access_token`` parameter."""
    header = request.headers.get("authorization", "")
    if not header and access_token:
        header = f"Bearer {access_token}"
    check_token(request.app.state.emulator.config.access_token, header)


@router.post("/{version}/{app_id}/uploads")
async def open_session(
    app_id: str,
    request: Request,
    file_length: Annotated[str | None, Query()] = None,
    file_type: Annotated[str | None, Query()] = None,
    file_name: Annotated[str | None, Query()] = None,
    access_token: Annotated[str | None, Query()] = None,
) -> dict[str, str]:
    _authorise(request, access_token)
    if not (app_id.isascii() and app_id.isdigit()):
        raise MetaError(100, f"Object with ID '{app_id}' does not exist", subcode=NOT_FOUND_SUBCODE)
    if not file_name:
        raise MetaError(100, "file_name is required")
    if file_type not in FILE_TYPES:
        raise MetaError(100, f"file_type must be one of {', '.join(FILE_TYPES)}")
    if not (file_length or "").isdigit() or not 0 < int(file_length or 0) <= MAX_LENGTH:
        raise MetaError(100, f"file_length must be a number of bytes, 1 to {MAX_LENGTH}")
    session_id = base64.urlsafe_b64encode(secrets.token_bytes(18)).decode()
    uploads = uploads_of(request)
    uploads.sessions[session_id] = UploadSession(
        app_id, file_name, int(file_length or 0), FILE_TYPES[file_type], uploads.sign(session_id)
    )
    # Meta's session id carries a signature as its own query string; clients use it verbatim.
    return {"id": f"upload:{session_id}?sig={uploads.sign(session_id)}"}


def _session(request: Request, session_id: str, sig: str | None) -> UploadSession:
    session = uploads_of(request).sessions.get(session_id)
    if session is None or not sig or not hmac.compare_digest(sig, session.signature):
        raise MetaError(
            100, f"Upload session upload:{session_id} does not exist", subcode=NOT_FOUND_SUBCODE
        )
    return session


@router.post("/{version}/upload:{session_id}")
async def upload_bytes(
    session_id: str,
    request: Request,
    file_offset: Annotated[str | None, Header(convert_underscores=False)] = None,
    sig: str | None = None,
    access_token: Annotated[str | None, Query()] = None,
) -> dict[str, str | int]:
    _authorise(request, access_token)
    session = _session(request, session_id, sig)
    if session.handle is not None:
        return {"h": session.handle}
    uploads = uploads_of(request)
    received = uploads.progress(session_id)
    if file_offset is None or not file_offset.isdigit() or int(file_offset) != received.offset:
        raise MetaError(100, f"file_offset must be {received.offset}, where the upload stands")
    async for chunk in request.stream():
        if received.offset + len(chunk) > session.file_length:
            raise MetaError(100, f"more bytes than file_length ({session.file_length})")
        if len(received.head) < HEAD_BYTES:
            received.head += chunk[: HEAD_BYTES - len(received.head)]
        received.digest.update(chunk)
        received.offset += len(chunk)
    if received.offset < session.file_length:
        return {"id": f"upload:{session_id}", "file_offset": received.offset}
    found = filetype.guess_mime(received.head)
    if found != session.file_type:
        raise MetaError(100, f"the file is {found or 'of no known type'}, not {session.file_type}")
    mime_code = base64.b64encode(session.file_type.encode()).decode()
    session.handle = f"4::{mime_code}:{secrets.token_urlsafe(48)}"
    uploads.handles[session.handle] = UploadedFile(
        session.app_id, session.file_type, session.file_length, received.digest.hexdigest()
    )
    del uploads.received[session_id]
    return {"h": session.handle}


@router.get("/{version}/upload:{session_id}")
async def upload_status(
    session_id: str,
    request: Request,
    sig: str | None = None,
    access_token: Annotated[str | None, Query()] = None,
) -> dict[str, str | int]:
    _authorise(request, access_token)
    session = _session(request, session_id, sig)
    if session.handle is not None:
        return {"id": f"upload:{session_id}", "file_offset": session.file_length}
    received = uploads_of(request).received.get(session_id)
    return {"id": f"upload:{session_id}", "file_offset": received.offset if received else 0}
