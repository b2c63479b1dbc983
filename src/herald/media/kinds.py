"""What a file is, decided from its first bytes (never its name), and how large it may be."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import filetype  # type: ignore[import-untyped]

HEAD_BYTES = 8192  # what the detector looks at (filetype reads at most this much)
MB = 1024 * 1024


@dataclass(frozen=True)
class MediaKind:
    kind: str  # image | video | document: the template header format, lower case
    mime_type: str
    max_size: int


_IMAGE, _VIDEO, _DOCUMENT = 5 * MB, 16 * MB, 100 * MB
MAX_SIZE = _DOCUMENT  # the largest any accepted file may be

# The largest file a customer may send of each kind (Meta's media limits; a sticker is at most
# 500 KB animated): a larger one is refused while it downloads.
INBOUND_MAX_SIZE = {
    "image": _IMAGE,
    "video": _VIDEO,
    "audio": _VIDEO,
    "document": _DOCUMENT,
    "sticker": MB,
}

# Meta's accepted types for template headers (whatsapp-cloud-api.md, spec/api.md §6).
ACCEPTED: dict[str, MediaKind] = {
    mime: MediaKind(kind, mime, limit)
    for kind, limit, mimes in (
        ("image", _IMAGE, ("image/jpeg", "image/png")),
        ("video", _VIDEO, ("video/mp4", "video/3gpp")),
        (
            "document",
            _DOCUMENT,
            (
                "application/pdf",
                "application/msword",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.ms-excel",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "text/plain",
            ),
        ),
    )
    for mime in mimes
}

# Meta's "Supported media types" of a free-form message of each type: the kinds above, and
# audio (which no template header takes, so the upload route does not accept it yet).
AUDIO_TYPES = ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg")
SENDABLE_TYPES: dict[str, frozenset[str]] = {
    kind: frozenset(m for m, accepted in ACCEPTED.items() if accepted.kind == kind)
    for kind in ("image", "video", "document")
} | {"audio": frozenset(AUDIO_TYPES)}

# What Meta takes as a DOCUMENT header, in a template's sample and in its sends: PDF only
# (the other document types above upload fine but Meta refuses them in a header).
HEADER_DOCUMENT_TYPE = "application/pdf"

# The extension a stored file's download name gets when the uploader's name lacks it.
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "video/mp4": "mp4",
    "video/3gpp": "3gp",
    "application/pdf": "pdf",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "text/plain": "txt",
}


def detect(head: bytes) -> str | None:
    """The MIME type of a file starting with ``head``; None when it is none we know.

    Binary formats by their magic bytes; plain text has none, so it is text when the head is
    UTF-8 without NUL bytes (the rest is checked for NUL bytes as it streams in).
    """
    guess = filetype.guess_mime(head)
    if guess is not None:
        return str(guess)
    if head and looks_like_text(head, final=False):
        return "text/plain"
    return None


def looks_like_text(chunk: bytes, *, final: bool) -> bool:
    if b"\0" in chunk:
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(chunk, final=final)  # a character cut at the end is fine unless final
    except UnicodeDecodeError:
        return False
    return True
