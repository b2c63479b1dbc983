"""Receiving one upload: the multipart body is parsed as it streams in, the ``file`` field goes
straight to a temporary file, and the upload is refused the moment it proves too large or of a
kind Meta does not take. Nothing is ever held whole in memory.

python-multipart does the parsing; the sink around it is ours because no library checks kind
and size while streaming.
"""

from __future__ import annotations

import codecs
import hashlib
import mimetypes
import os
import re
import tempfile
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header

from herald.errors import HeraldError, ValidationFailed
from herald.media.kinds import ACCEPTED, EXTENSIONS, HEAD_BYTES, MAX_SIZE, MediaKind, detect

MULTIPART_OVERHEAD = 64 * 1024  # headers and boundaries around a file of MAX_SIZE bytes


class MediaTooLarge(HeraldError):
    status = 413
    code = "media_too_large"


class UnsupportedMediaType(HeraldError):
    status = 415
    code = "unsupported_media_type"


def _too_large(limit: int, kind: str | None = None) -> MediaTooLarge:
    what = f"{kind} files" if kind else "files"
    return MediaTooLarge(
        f"The file is too large: {what} may be at most {limit // (1024 * 1024)} MB.",
        data={"max_size": limit, **({"type": kind} if kind else {})},
    )


def _unsupported() -> UnsupportedMediaType:
    return UnsupportedMediaType(
        "Unsupported file type: send JPEG or PNG images, MP4 or 3GPP videos, or PDF, Word, "
        "Excel, PowerPoint or plain-text documents.",
        data={"accepted": sorted(ACCEPTED)},
    )


def _missing_file() -> ValidationFailed:
    return ValidationFailed.single(
        "file", "is required: send multipart/form-data with the file in a field named 'file'"
    )


@dataclass
class Upload:
    path: Path
    kind: MediaKind
    size: int
    sha256: str
    filename: str

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def boundary_of(content_type: str | None) -> bytes:
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise _missing_file()
    if len(boundary) > 70:  # RFC 2046's limit; the parser refuses longer ones with a crash
        raise ValidationFailed.single("file", "the multipart boundary is longer than 70 bytes")
    return boundary


def check_declared_length(content_length: str | None) -> None:
    declared = int(content_length) if content_length and content_length.isdigit() else 0
    if declared > MAX_SIZE + MULTIPART_OVERHEAD:
        raise _too_large(MAX_SIZE)


class _FileSink:
    """The ``file`` part: hashed, typed from its first bytes, size-checked, written to disk."""

    def __init__(self, folder: Path) -> None:
        descriptor, name = tempfile.mkstemp(prefix="upload-", dir=folder)
        self.path = Path(name)
        self.file: IO[bytes] = os.fdopen(descriptor, "wb")
        self.digest = hashlib.sha256()
        self.size = 0
        self.head = bytearray()
        self.kind: MediaKind | None = None
        self.text = codecs.getincrementaldecoder("utf-8")()

    def write(self, data: bytes) -> None:
        self.size += len(data)
        self.digest.update(data)
        if self.kind is None:
            self.head += data
            if len(self.head) >= HEAD_BYTES:
                self._decide()
        elif self.kind.mime_type == "text/plain":
            self._check_text(data, final=False)
        if self.kind is not None and self.size > self.kind.max_size:
            raise _too_large(self.kind.max_size, self.kind.kind)
        self.file.write(data)

    def finish(self) -> None:
        if self.kind is None and self.size:
            self._decide()
        if self.kind is not None and self.kind.mime_type == "text/plain":
            self._check_text(b"", final=True)
        self.file.close()

    def _decide(self) -> None:
        mime = detect(bytes(self.head))
        if mime not in ACCEPTED:
            raise _unsupported()
        self.kind = ACCEPTED[mime]
        if mime == "text/plain":
            self._check_text(bytes(self.head), final=False)
        self.head = bytearray()

    def _check_text(self, data: bytes, *, final: bool) -> None:
        try:
            self.text.decode(data, final=final)
        except UnicodeDecodeError:
            raise _unsupported() from None
        if b"\0" in data:
            raise _unsupported()

    def close(self) -> None:
        self.file.close()


class _Parts:
    """python-multipart callbacks: route the ``file`` part's bytes to a sink, ignore others."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sink: _FileSink | None = None
        self.filename: str | None = None
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._disposition = b""
        self._in_file = False
        self.file_complete = False  # the file part's closing boundary was seen
        self.ended = False  # the body's closing boundary was seen

    def on_part_begin(self) -> None:
        self._disposition = b""
        self._in_file = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if bytes(self._header_field).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_field, self._header_value = bytearray(), bytearray()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if options.get(b"name") != b"file":
            return
        if self.sink is not None:
            raise ValidationFailed.single("file", "send one file per upload")
        self._in_file = True
        self.sink = _FileSink(self.folder)
        raw_name = options.get(b"filename")
        self.filename = raw_name.decode("utf-8", "replace") if raw_name is not None else None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file and self.sink is not None:
            self.sink.write(data[start:end])

    def on_part_end(self) -> None:
        if self._in_file and self.sink is not None:
            self.sink.finish()
            self.file_complete = True
        self._in_file = False

    def on_end(self) -> None:
        self.ended = True


async def receive(chunks: AsyncIterator[bytes], content_type: str | None, folder: Path) -> Upload:
    """Read one upload from ``chunks`` into ``folder`` (which exists); raises the JSend error it
    earns, leaving no file behind."""
    boundary = boundary_of(content_type)
    parts = _Parts(folder)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": parts.on_part_begin,
            "on_header_field": parts.on_header_field,
            "on_header_value": parts.on_header_value,
            "on_header_end": parts.on_header_end,
            "on_headers_finished": parts.on_headers_finished,
            "on_part_data": parts.on_part_data,
            "on_part_end": parts.on_part_end,
            "on_end": parts.on_end,
        },
    )
    try:
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
    except HeraldError:
        _drop(parts.sink)
        raise
    except Exception as exc:  # the parser's own errors: a malformed multipart body
        _drop(parts.sink)
        raise ValidationFailed.single("file", f"the multipart body is malformed ({exc})") from None
    sink = parts.sink
    if sink is not None and not (parts.file_complete and parts.ended):
        _drop(sink)  # the body stopped before its closing boundary: the file may be cut short
        raise ValidationFailed.single("file", "the multipart body ends before the file does")
    if sink is None or sink.size == 0 or sink.kind is None:
        _drop(sink)
        raise _missing_file() if sink is None else ValidationFailed.single("file", "is empty")
    return Upload(
        path=sink.path,
        kind=sink.kind,
        size=sink.size,
        sha256=sink.digest.hexdigest(),
        filename=clean_filename(parts.filename, sink.kind.mime_type),
    )


def _drop(sink: _FileSink | None) -> None:
    if sink is not None:
        sink.close()
        sink.path.unlink(missing_ok=True)


def extension_of(mime_type: str) -> str:
    """A file name's extension for a type (a customer's file may be of any type Meta takes)."""
    base = mime_type.split(";", 1)[0].strip().lower()
    guessed = mimetypes.guess_extension(base) or ".bin"
    return EXTENSIONS.get(base) or guessed.lstrip(".")


_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def clean_filename(given: str | None, mime_type: str) -> str:
    """A display name: the last path segment, no control or path characters, at most 255
    characters, with an extension that matches the detected type."""
    name = (given or "").replace("\\", "/").rsplit("/", 1)[-1]
    # Control and format characters go too (a right-to-left override makes "x.pdf" read as
    # something else to the customer who receives it).
    name = "".join(
        "_" if unicodedata.category(c) in ("Cc", "Cf") else c for c in _UNSAFE.sub("_", name)
    )
    name = unicodedata.normalize("NFC", name).strip(" .")
    extension = extension_of(mime_type)
    if not name:
        name = f"file.{extension}"
    elif not name.lower().endswith(f".{extension}"):
        stem = name.rsplit(".", 1)[0] if "." in name else name
        name = f"{stem}.{extension}"
    if len(name) > 255:
        name = name[: 255 - len(extension) - 1] + f".{extension}"
    return name
