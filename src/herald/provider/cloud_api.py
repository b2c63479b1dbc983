"""Meta's WhatsApp Cloud API (Graph API) over HTTP: the only code that knows Meta's JSON."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from herald.provider import free_form, media_download
from herald.provider.base import (
    ButtonValue,
    ChannelAccess,
    Downloaded,
    ErrorKind,
    HeaderSample,
    JsonObject,
    MediaInfo,
    OtpOptions,
    OutboundMessage,
    ProviderError,
    ProviderTemplate,
    SendReceipt,
    TemplateDefinition,
)
from herald.provider.errors import error_from_meta

_POSITIONAL_VARIABLE = re.compile(r"\{\{(\d+)\}\}")  # without samples given: sample1, …
_NAMED_VARIABLE = re.compile(r"\{\{([a-z_][a-z0-9_]*)\}\}")
TEMPLATE_NOT_FOUND_SUBCODE = 2593002
# What a template listing is asked for: Graph API answers only its default fields (id, name,
# language, status, category, components) unless ``fields`` names the others.
TEMPLATE_FIELDS = (
    "id,name,language,status,category,components,rejected_reason,quality_score,parameter_format"
)


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


def listed_template(item: JsonObject) -> ProviderTemplate:
    """One template of a listing: ``quality_score`` is an object (``{"score": "GREEN"}``)."""
    quality = item.get("quality_score")
    score = quality.get("score") if isinstance(quality, dict) else None
    components = item.get("components")
    return ProviderTemplate(
        id=str(item["id"]),
        name=str(item["name"]),
        language=str(item.get("language", "")),
        status=str(item.get("status", "")),
        category=item.get("category"),
        rejected_reason=item.get("rejected_reason"),
        quality=str(score) if score else None,
        parameter_format=str(item.get("parameter_format") or "POSITIONAL").upper(),
        components=(
            tuple(c for c in components if isinstance(c, dict))
            if isinstance(components, list)
            else None
        ),
    )


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


def template_components(
    template: TemplateDefinition, header_handle: str | None = None
) -> list[JsonObject]:
    """Herald's template as Meta's components, with the examples Meta's review requires."""
    if template.otp is not None:
        return _authentication_components(template.otp)
    components: list[JsonObject] = []
    named = template.parameter_format == "NAMED"
    if template.header_format:
        header: JsonObject = {"type": "HEADER", "format": template.header_format}
        if template.header_format == "TEXT":
            header["text"] = template.header_text or ""
            if template.header_example is not None:
                name = _header_variable(template.header_text) if named else "1"
                header["example"] = _text_examples(
                    "header_text", [(name, template.header_example)], named
                )
        elif header_handle is not None:
            header["example"] = {"header_handle": [header_handle]}
        components.append(header)
    body: JsonObject = {"type": "BODY", "text": template.body}
    samples = list(template.body_examples) or [
        (n, f"sample{n}") for n in dict.fromkeys(_POSITIONAL_VARIABLE.findall(template.body))
    ]
    if samples:
        body["example"] = _text_examples("body_text", samples, named)
    components.append(body)
    if template.footer:
        components.append({"type": "FOOTER", "text": template.footer})
    if template.buttons:
        buttons: list[JsonObject] = []
        for button in template.buttons:
            item: JsonObject = {"type": button.type}
            if button.type == "COPY_CODE":  # Meta writes its label
                item["example"] = button.example or ""
                buttons.append(item)
                continue
            if button.text:
                item["text"] = button.text
            if button.phone_number:
                item["phone_number"] = button.phone_number
            if button.url:
                item["url"] = button.url
                if "{{1}}" in button.url:
                    item["example"] = [button.url.replace("{{1}}", button.example or "sample")]
            buttons.append(item)
        components.append({"type": "BUTTONS", "buttons": buttons})
    return components


def _header_variable(text: str | None) -> str:
    """A NAMED TEXT header's one variable (Herald's rules allow one)."""
    found = _NAMED_VARIABLE.search(text or "")
    return found.group(1) if found else ""


def _text_examples(key: str, samples: list[tuple[str, str]], named: bool) -> JsonObject:
    """Meta's examples of a text's variables: ``body_text`` (one row of values) or
    ``header_text`` (the one value), or for a NAMED template ``<key>_named_params``, a
    ``param_name`` and ``example`` each."""
    if named:
        return {
            f"{key}_named_params": [
                {"param_name": name, "example": sample} for name, sample in samples
            ]
        }
    values = [sample for _, sample in samples]
    return {key: [values] if key == "body_text" else values}


def _authentication_components(otp: OtpOptions) -> list[JsonObject]:
    """Meta's authentication shape: no text of ours, one OTP button."""
    components: list[JsonObject] = [
        {"type": "BODY", "add_security_recommendation": otp.add_security_recommendation}
    ]
    if otp.code_expiration_minutes is not None:
        components.append(
            {"type": "FOOTER", "code_expiration_minutes": otp.code_expiration_minutes}
        )
    button: JsonObject = {"type": "OTP", "otp_type": otp.otp_type}
    if otp.otp_type == "ONE_TAP":
        button["package_name"] = otp.package_name
        button["signature_hash"] = otp.signature_hash
    components.append({"type": "BUTTONS", "buttons": [button]})
    return components


def send_payload(message: OutboundMessage) -> JsonObject:
    """Meta's send body for one message: a template's, or a free-form one's."""
    if message.free_form is not None:
        return free_form.payload(message.to, message.callback_data, message.free_form)
    components: list[JsonObject] = []
    if message.header is not None:
        media: JsonObject = (
            {"link": message.header.link}
            if message.header.link is not None
            else {"id": message.header.provider_media_id}
        )
        if message.header.kind == "document" and message.header.filename:
            media["filename"] = message.header.filename
        components.append(
            {
                "type": "header",
                "parameters": [{"type": message.header.kind, message.header.kind: media}],
            }
        )
    elif message.header_params:
        components.append(
            {
                "type": "header",
                "parameters": _text_parameters(message.header_params, message.header_param_names),
            }
        )
    if message.otp_code is not None:
        # Authentication templates carry the code twice: in the body and in the OTP button.
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": message.otp_code}]}
        )
        components.append(
            {
                "type": "button",
                "sub_type": "url",
                "index": "0",
                "parameters": [{"type": "text", "text": message.otp_code}],
            }
        )
    elif message.body_params:
        components.append(
            {
                "type": "body",
                "parameters": _text_parameters(message.body_params, message.body_param_names),
            }
        )
    for button in message.buttons:
        components.append(_button_component(button))
    # LanguageObject requires the policy; "deterministic" is the only one Meta has.
    language = {"policy": "deterministic", "code": message.language}
    template: JsonObject = {"name": message.template_name, "language": language}
    if components:
        template["components"] = components
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.to,
        "type": "template",
        "biz_opaque_callback_data": message.callback_data,
        "template": template,
    }


def _text_parameters(values: tuple[str, ...], names: tuple[str, ...]) -> list[JsonObject]:
    """Text parameters in order, each with its ``parameter_name`` for a NAMED template."""
    if names:
        return [
            {"type": "text", "parameter_name": name, "text": value}
            for name, value in zip(names, values, strict=True)
        ]
    return [{"type": "text", "text": value} for value in values]


def _button_component(button: ButtonValue) -> JsonObject:
    if button.sub_type == "quick_reply":
        parameter: JsonObject = {"type": "payload", "payload": button.value}
        sub_type = "quick_reply"
    elif button.sub_type == "copy_code":
        parameter = {"type": "coupon_code", "coupon_code": button.value}
        sub_type = "COPY_CODE"
    else:
        parameter = {"type": "text", "text": button.value}
        sub_type = "url"
    return {
        "type": "button",
        "sub_type": sub_type,
        "index": str(button.index),
        "parameters": [parameter],
    }
