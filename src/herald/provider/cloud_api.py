"""Meta's WhatsApp Cloud API (Graph API) over HTTP: the only code that knows Meta's JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from herald.provider import media_download
from herald.provider.base import (
    ChannelAccess,
    Downloaded,
    ErrorKind,
    HeaderSample,
    JsonObject,
    MediaInfo,
    OutboundMessage,
    ProviderError,
    ProviderTemplate,
    SendReceipt,
    TemplateDefinition,
)
from herald.provider.errors import error_from_meta
from herald.provider.send_json import send_payload
from herald.provider.template_json import TEMPLATE_FIELDS, listed_template, template_components

TEMPLATE_NOT_FOUND_SUBCODE = 2593002


def new_session(timeout_seconds: float, connections: int = 200) -> aiohttp.ClientSession:
    """The HTTP client for Meta's calls. aiohttp, not httpx: measured side by side
    (`python -m bench.clients`, docs/benchmarks.md) it spends ~14x less CPU per request, and
    the worker's core is what limits dispatch."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout_seconds),
        connector=aiohttp.TCPConnector(limit=connections, ttl_dns_cache=300),
        json_serialize=lambda value: orjson.dumps(value).decode(),
        raise_for_status=False,
    )


class CloudApiProvider:
    def __init__(self, http: aiohttp.ClientSession) -> None:
        self._http = http

    # --- messages ---------------------------------------------------------------------------

    async def send_template(self, channel: ChannelAccess, message: OutboundMessage) -> SendReceipt:
        answer = await self._call(
            channel, "POST", f"{channel.phone_number_id}/messages", json=send_payload(message)
        )
        try:
            sent = answer["messages"][0]
            return SendReceipt(str(sent["id"]), sent.get("message_status"))
        except (KeyError, IndexError, TypeError):
            # 200 without a message id: it may or may not have been taken.
            raise ProviderError(
                ErrorKind.UNKNOWN_OUTCOME, None, "provider answered 200 without a message id"
            ) from None

    # --- media ------------------------------------------------------------------------------

    async def upload_media(
        self, channel: ChannelAccess, path: Path, mime_type: str, filename: str
    ) -> str:
        """Upload a file from ``channel``'s number; the provider's id (valid for 30 days)."""
        with path.open("rb") as file:  # aiohttp reads it in chunks as it sends: memory stays flat
            form = aiohttp.FormData()
            form.add_field("messaging_product", "whatsapp")
            form.add_field("type", mime_type)
            form.add_field("file", file, filename=filename, content_type=mime_type)
            try:
                answer = await self._call(
                    channel, "POST", f"{channel.phone_number_id}/media", data=form
                )
            except ProviderError as exc:
                if exc.kind is ErrorKind.UNKNOWN_OUTCOME:  # uploading twice is harmless
                    exc.kind = ErrorKind.TRANSIENT
                raise
        try:
            return str(answer["id"])
        except KeyError:
            raise ProviderError(
                ErrorKind.TRANSIENT, None, "media upload answered without an id"
            ) from None

    async def media_info(self, channel: ChannelAccess, media_id: str) -> MediaInfo:
        """Where a customer's file is (``GET /{media-id}``, checked against the number)."""
        answer = await self._call(
            channel, "GET", media_id, params={"phone_number_id": channel.phone_number_id}
        )
        return media_download.media_info_of(media_id, answer)

    async def download_media(
        self, channel: ChannelAccess, info: MediaInfo, target: Path, max_size: int
    ) -> Downloaded:
        return await media_download.download(self._http, channel, info, target, max_size)

    # --- templates --------------------------------------------------------------------------

    async def upload_sample(self, channel: ChannelAccess, sample: HeaderSample) -> str:
        """A template header's sample file through Meta's Resumable Upload API: a session at
        the app, then the bytes in one piece; returns the file's handle (``4::…``)."""
        if not channel.app_id:
            raise ProviderError(
                ErrorKind.PERMANENT, None, "the channel has no Meta app id to upload samples with"
            )
        try:
            session = await self._call(
                channel,
                "POST",
                f"{channel.app_id}/uploads",
                params={
                    "file_name": sample.filename,
                    "file_length": str(sample.size),
                    "file_type": sample.mime_type,
                },
            )
            # Meta's session id carries its own query (``upload:…?sig=…``): used as it is.
            upload_id = str(session["id"])
            with sample.path.open("rb") as file:
                answer = await self._call(
                    channel,
                    "POST",
                    upload_id,
                    data=file,
                    headers={"file_offset": "0"},
                    scheme="OAuth",
                )
            return str(answer["h"])
        except ProviderError as exc:
            if exc.kind is ErrorKind.UNKNOWN_OUTCOME:  # uploading twice is harmless
                exc.kind = ErrorKind.TRANSIENT
            raise
        except (KeyError, TypeError):
            raise ProviderError(
                ErrorKind.TRANSIENT, None, "sample upload answered without an id or handle"
            ) from None

    async def create_template(
        self, channel: ChannelAccess, template: TemplateDefinition
    ) -> ProviderTemplate:
        handle = None
        if template.header_sample is not None:
            handle = await self.upload_sample(channel, template.header_sample)
        payload = {
            "name": template.name,
            "language": template.language,
            "category": template.category,
            "components": template_components(template, handle),
        }
        if template.parameter_format == "NAMED":
            payload["parameter_format"] = "NAMED"
        answer = await self._call(
            channel, "POST", f"{channel.waba_id}/message_templates", json=payload
        )
        return ProviderTemplate(
            id=str(answer["id"]),
            name=template.name,
            language=template.language,
            status=str(answer.get("status", "PENDING")),
            category=answer.get("category"),
        )

    async def list_templates(
        self, channel: ChannelAccess, name: str | None = None, page_size: int = 100
    ) -> AsyncIterator[ProviderTemplate]:
        """Every template of the channel's account (or of one name), page after page."""
        params: dict[str, str] = {"fields": TEMPLATE_FIELDS, "limit": str(page_size)}
        if name:
            params["name"] = name
        while True:
            page = await self._call(
                channel, "GET", f"{channel.waba_id}/message_templates", params=params
            )
            for item in page.get("data", []):
                if isinstance(item, dict) and "id" in item and "name" in item:
                    yield listed_template(item)
            paging = page.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return
            params["after"] = str(after)

    async def delete_template(
        self, channel: ChannelAccess, name: str, provider_id: str | None = None
    ) -> None:
        params = {"name": name}
        if provider_id:
            params["hsm_id"] = provider_id
        try:
            await self._call(
                channel, "DELETE", f"{channel.waba_id}/message_templates", params=params
            )
        except ProviderError as exc:
            if exc.subcode != TEMPLATE_NOT_FOUND_SUBCODE:  # already gone is what we wanted
                raise

    async def mark_read(self, channel: ChannelAccess, provider_message_id: str) -> None:
        receipt = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": provider_message_id,
        }
        try:
            await self._call(channel, "POST", f"{channel.phone_number_id}/messages", json=receipt)
        except ProviderError as exc:
            if exc.kind is ErrorKind.UNKNOWN_OUTCOME:  # a receipt sent twice is harmless
                exc.kind = ErrorKind.TRANSIENT
            raise

    # --- transport --------------------------------------------------------------------------

    async def _call(
        self,
        channel: ChannelAccess,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        scheme: str = "Bearer",
        **options: Any,
    ) -> JsonObject:
        url = f"{channel.base_url.rstrip('/')}/{channel.api_version}/{path}"
        headers = {**(headers or {}), "Authorization": f"{scheme} {channel.access_token}"}
        try:
            async with self._http.request(method, url, headers=headers, **options) as response:
                status, raw = response.status, await response.read()
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # Nothing was sent: safe to try again.
            raise ProviderError(
                ErrorKind.TRANSIENT, None, f"cannot reach provider: {exc}"
            ) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            # The request may have left: the provider may have acted on it.
            raise ProviderError(ErrorKind.UNKNOWN_OUTCOME, None, f"no answer: {exc!r}") from None
        return _parse(status, raw)


def _parse(status: int, raw: bytes) -> JsonObject:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    success = 200 <= status < 300
    if success and isinstance(body, dict):
        return body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        raise error_from_meta(body["error"], status)
    if success:
        # It answered "OK" in a shape we cannot read: it may well have acted on the request.
        kind = ErrorKind.UNKNOWN_OUTCOME
    else:
        kind = ErrorKind.TRANSIENT if status >= 500 else ErrorKind.PERMANENT
    raise ProviderError(
        kind, None, f"unexpected provider answer (HTTP {status})", http_status=status
    )
