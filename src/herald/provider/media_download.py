"""A customer's file from Meta: ``GET /{version}/{media-id}`` says where it is (a URL valid
for minutes), then the URL is fetched with the channel's token, streamed to disk, its size
limited while it streams and its SHA-256 checked. Part of the Meta boundary."""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from herald.provider.base import ChannelAccess, Downloaded, ErrorKind, JsonObject, MediaInfo
from herald.provider.errors import ProviderError

CHUNK = 256 * 1024


def media_info_of(media_id: str, answer: JsonObject) -> MediaInfo:
    url = answer.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("https", "http"):
        raise ProviderError(ErrorKind.TRANSIENT, None, "media lookup answered without a URL")
    size = answer.get("file_size")
    return MediaInfo(
        media_id=str(answer.get("id") or media_id),
        url=url,
        mime_type=str(answer["mime_type"]) if answer.get("mime_type") else None,
        sha256=str(answer["sha256"]) if answer.get("sha256") else None,
        # A string in Meta's OpenAPI example, a number in its guide: either is read.
        file_size=int(size) if isinstance(size, int | str) and str(size).isdigit() else None,
    )


def same_digest(expected: str, hex_digest: str) -> bool:
    """Whether Meta's SHA-256 (hex in a media lookup, base64 in a webhook) is this one."""
    if expected.lower() == hex_digest:
        return True
    try:
        return base64.b64decode(expected, validate=True).hex() == hex_digest
    except (binascii.Error, ValueError):
        return False


def _too_large(max_size: int) -> ProviderError:
    # Permanent: the same file will be as large next time.
    return ProviderError(
        ErrorKind.PERMANENT, None, f"the file is larger than {max_size} bytes", http_status=413
    )


async def download(
    http: aiohttp.ClientSession,
    channel: ChannelAccess,
    info: MediaInfo,
    target: Path,
    max_size: int,
) -> Downloaded:
    """Stream the file at ``info.url`` into ``target`` (removed again on any failure)."""
    if info.file_size is not None and info.file_size > max_size:
        raise _too_large(max_size)
    headers = {"Authorization": f"Bearer {channel.access_token}"}
    digest, size = hashlib.sha256(), 0
    try:
        async with http.get(info.url, headers=headers, allow_redirects=False) as response:
            if response.status != 200:
                kind = ErrorKind.TRANSIENT if response.status >= 500 else ErrorKind.PERMANENT
                if response.status in (401, 403, 404, 408, 429):  # expired URL, throttled...
                    kind = ErrorKind.TRANSIENT
                raise ProviderError(
                    kind,
                    None,
                    f"media download answered HTTP {response.status}",
                    http_status=response.status,
                )
            declared = response.content_length
            if declared is not None and declared > max_size:
                raise _too_large(max_size)
            with target.open("wb") as file:
                async for chunk in response.content.iter_chunked(CHUNK):
                    size += len(chunk)
                    if size > max_size:
                        raise _too_large(max_size)
                    digest.update(chunk)
                    file.write(chunk)
    except ProviderError:
        _discard(target)
        raise
    except (TimeoutError, aiohttp.ClientError) as exc:
        _discard(target)
        raise ProviderError(
            ErrorKind.TRANSIENT, None, f"media download failed: {type(exc).__name__}"
        ) from None
    found = digest.hexdigest()
    if info.sha256 is not None and not same_digest(info.sha256, found):
        _discard(target)
        raise ProviderError(ErrorKind.TRANSIENT, None, "the downloaded file's SHA-256 differs")
    return Downloaded(size=size, sha256=found)


def _discard(target: Path) -> None:
    target.unlink(missing_ok=True)
