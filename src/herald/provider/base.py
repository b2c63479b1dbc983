"""What Herald needs from a WhatsApp provider, and how provider failures are classified.

Only ``cloud_api.py`` knows Meta's JSON; the rest of Herald speaks these types.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol


class ErrorKind(StrEnum):
    THROTTLED = "throttled"  # the sender or app is over a rate: retry later, slow the sender
    PAIR_RATE = "pair_rate"  # too many messages to one recipient: retry that recipient later
    TRANSIENT = "transient"  # retry with back-off, bounded
    PERMANENT = "permanent"  # this payload will never succeed: fail it
    TEMPLATE_UNAVAILABLE = "template_unavailable"  # template paused or disabled
    SENDER_LIMITED = "sender_limited"  # spam or per-user marketing limit: fail, back off
    OPTED_OUT = "opted_out"  # the user stopped marketing messages: fail, add to opt-outs
    AUTH = "auth"  # token or permission: fail, pause the channel, alert the operator
    MEDIA_GONE = "media_gone"  # the provider lost the header file: upload it again, retry
    MEDIA_MISSING = "media_missing"  # Herald no longer has the header file: fail
    UNKNOWN_OUTCOME = "unknown_outcome"  # the request left; whether it took effect is unknown
    # Herald could not build the request from the stored message (a bug, a row it cannot
    # read): nothing left, and retrying cannot help. Herald's own, never Meta's.
    INTERNAL = "internal_error"


_BY_CODE: dict[int, ErrorKind] = {
    **dict.fromkeys((130429, 80007, 4), ErrorKind.THROTTLED),
    131056: ErrorKind.PAIR_RATE,
    **dict.fromkeys((131057, 2, 131016, 131000), ErrorKind.TRANSIENT),
    **dict.fromkeys(
        (
            131026,
            131047,
            131051,
            132000,
            132001,
            132005,
            132007,
            132008,
            132012,
            133010,
            100,
            131030,
        ),
        ErrorKind.PERMANENT,
    ),
    **dict.fromkeys((132015, 132016), ErrorKind.TEMPLATE_UNAVAILABLE),
    **dict.fromkeys((131048, 131049), ErrorKind.SENDER_LIMITED),
    131050: ErrorKind.OPTED_OUT,
    # The header's media id is unknown or expired at the provider: upload again, then retry.
    131053: ErrorKind.MEDIA_GONE,
    # 104: no token at all (Meta's "An access token is required"), a channel's credentials
    # missing as surely as 190's are refused.
    **dict.fromkeys((190, 104, 0, 10), ErrorKind.AUTH),
}


def classify(code: int | None, http_status: int | None = None) -> ErrorKind:
    """Meta's error code decides (never the HTTP status or the text), as the provider table says.

    A code outside the table falls back on the HTTP status: 5xx is transient, anything else
    permanent, so an unknown failure is never retried forever.
    """
    if code is not None:
        if code in _BY_CODE:
            return _BY_CODE[code]
        if 200 <= code <= 299:
            return ErrorKind.AUTH
    if http_status is not None and http_status >= 500:
        return ErrorKind.TRANSIENT
    return ErrorKind.PERMANENT


@dataclass
class ProviderError(Exception):
    kind: ErrorKind
    code: int | None
    title: str
    details: str | None = None
    subcode: int | None = None
    http_status: int | None = None
    trace_id: str | None = None

    def __post_init__(self) -> None:
        super().__init__(f"{self.kind}: {self.code} {self.title}")


@dataclass(frozen=True)
class ChannelAccess:
    """How to reach one sender at the provider (secrets already decrypted)."""

    base_url: str
    api_version: str
    phone_number_id: str
    waba_id: str
    access_token: str
    app_id: str | None = None  # the Meta app: template samples are uploaded through it


@dataclass(frozen=True)
class TemplateButton:
    type: str  # URL | QUICK_REPLY | COPY_CODE
    text: str | None = None
    url: str | None = None
    example: str | None = None  # a URL's {{1}} sample, a COPY_CODE button's sample code


@dataclass(frozen=True)
class HeaderSample:
    """A media header's sample file, uploaded for the template's review."""

    path: Path
    mime_type: str
    size: int
    filename: str


@dataclass(frozen=True)
class OtpOptions:
    """An AUTHENTICATION template's options; Meta writes its text and its one OTP button."""

    otp_type: str  # COPY_CODE | ONE_TAP
    add_security_recommendation: bool = False
    code_expiration_minutes: int | None = None
    package_name: str | None = None  # ONE_TAP: the Android app
    signature_hash: str | None = None


@dataclass(frozen=True)
class TemplateDefinition:
    name: str
    language: str
    category: str
    body: str
    placeholder_count: int
    header_format: str | None = None
    header_text: str | None = None
    header_example: str | None = None  # the sample of a TEXT header's {{1}}
    header_sample: HeaderSample | None = None
    footer: str | None = None
    buttons: tuple[TemplateButton, ...] = field(default_factory=tuple)
    otp: OtpOptions | None = None  # AUTHENTICATION templates only


@dataclass(frozen=True)
class ProviderTemplate:
    id: str
    name: str
    language: str
    status: str
    category: str | None = None
    rejected_reason: str | None = None


@dataclass(frozen=True)
class ButtonValue:
    index: int
    sub_type: str  # url | quick_reply | copy_code
    value: str


@dataclass(frozen=True)
class HeaderMedia:
    kind: str  # image | video | document
    provider_media_id: str
    filename: str | None = None


@dataclass(frozen=True)
class OutboundMessage:
    """One template message, as the provider is asked to send it."""

    to: str  # E.164 digits
    template_name: str
    language: str
    callback_data: str  # our message id, echoed in status webhooks (biz_opaque_callback_data)
    body_params: tuple[str, ...] = ()
    header_params: tuple[str, ...] = ()  # a TEXT header's {{1}}
    buttons: tuple[ButtonValue, ...] = ()
    header: HeaderMedia | None = None
    otp_code: str | None = None


@dataclass(frozen=True)
class SendReceipt:
    provider_message_id: str
    status: str | None = None  # accepted | held_for_quality_assessment | paused


class Provider(Protocol):
    async def send_template(
        self, channel: ChannelAccess, message: OutboundMessage
    ) -> SendReceipt: ...

    async def create_template(
        self, channel: ChannelAccess, template: TemplateDefinition
    ) -> ProviderTemplate: ...

    def list_templates(
        self, channel: ChannelAccess, name: str | None = None, page_size: int = 100
    ) -> AsyncIterator[ProviderTemplate]: ...

    async def delete_template(
        self, channel: ChannelAccess, name: str, provider_id: str | None = None
    ) -> None: ...

    async def upload_media(
        self, channel: ChannelAccess, path: Path, mime_type: str, filename: str
    ) -> str: ...


JsonObject = dict[str, Any]


def as_api_error(exc: ProviderError) -> Exception:
    """A provider failure during an API call, as the HeraldError the caller receives."""
    from herald.errors import ProviderAuthFailed, ProviderRejected, ProviderUnavailable

    data = {
        "provider_code": exc.code,
        "provider_subcode": exc.subcode,
        "title": exc.title,
        "details": exc.details,
    }
    if exc.kind is ErrorKind.AUTH:
        return ProviderAuthFailed(data=data)
    if exc.kind in (ErrorKind.TRANSIENT, ErrorKind.THROTTLED, ErrorKind.UNKNOWN_OUTCOME):
        return ProviderUnavailable(data=data)
    return ProviderRejected(f"The WhatsApp provider refused the request: {exc.title}", data=data)
