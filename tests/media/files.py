"""Small real files of each kind, built in memory."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def pdf(size: int = 2048) -> bytes:
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"
    tail = b"\n%%EOF\n"
    return head + b"%" * max(0, size - len(head) - len(tail)) + tail


def png(extra: int = 0) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    body = chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
    if extra:
        body += chunk(b"tEXt", b"c\x00" + b"x" * extra)
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


def mp4() -> bytes:
    return b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 1024


def exe() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 2048


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()
