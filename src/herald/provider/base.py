"""What Herald needs from a WhatsApp provider, and how provider failures are classified.

Only ``cloud_api.py`` (requests and answers, with the JSON of ``template_json.py``,
``send_json.py``, ``free_form.py`` and ``media_download.py``), ``events.py`` and ``inbound.py``
(webhooks) and ``errors.py`` (error codes) know Meta's JSON; the rest of Herald speaks these
types.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

# The error taxonomy lives with Meta's code table; imported from here too, as it always was.
from herald.provider.errors import ErrorKind as ErrorKind
from herald.provider.errors import ProviderError as ProviderError
from herald.provider.errors import TemplateProblem as TemplateProblem
from herald.provider.errors import classify as classify

JsonObject = dict[str, Any]


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
    type: str  # URL | QUICK_REPLY | COPY_CODE | PHONE_NUMBER
    text: str | None = None
    url: str | None = None
    example: str | None = None  # a URL's {{1}} sample, a COPY_CODE button's sample code
    phone_number: str | None = None  # a PHONE_NUMBER button's number


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
    parameter_format: str = "POSITIONAL"  # NAMED: {{first_name}} variables
    # Each body variable (its number as a string, or its name) and the sample Meta's review sees.
    body_examples: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ProviderTemplate:
    id: str
    name: str
    language: str
    status: str
    category: str | None = None
    rejected_reason: str | None = None
    quality: str | None = None  # quality_score.score: GREEN, YELLOW, RED, UNKNOWN
    parameter_format: str = "POSITIONAL"  # or NAMED
    # Meta's components as listed (HEADER, BODY, FOOTER, BUTTONS, CAROUSEL...); None when the
    # answer did not carry them (a creation's answer).
    components: tuple[JsonObject, ...] | None = None


@dataclass(frozen=True)
class ButtonValue:
    index: int
    sub_type: str  # url | quick_reply | copy_code
    value: str


@dataclass(frozen=True)
class HeaderMedia:
    kind: str  # image | video | document
    provider_media_id: str | None = None  # an uploaded file's id at the provider, or
    filename: str | None = None
    link: str | None = None  # a public https URL the provider fetches the file from


@dataclass(frozen=True)
class FreeFormMedia:
    """An image, video, audio or document message's file: uploaded or fetched by link."""

    provider_media_id: str | None = None
    link: str | None = None  # a public https URL the provider fetches the file from
    caption: str | None = None  # not for audio
    filename: str | None = None  # a document's


@dataclass(frozen=True)
class ReplyButton:
    id: str
    title: str


@dataclass(frozen=True)
class ListRow:
    id: str
    title: str
    description: str | None = None


@dataclass(frozen=True)
class ListSection:
    title: str | None
    rows: tuple[ListRow, ...]


@dataclass(frozen=True)
class Interactive:
    """Reply buttons (``type`` button) or a list (``type`` list) under a body text."""

    type: str  # button | list
    body: str
    header: str | None = None  # a text header
    footer: str | None = None
    buttons: tuple[ReplyButton, ...] = ()
    list_button: str | None = None  # the label that opens a list
    sections: tuple[ListSection, ...] = ()


@dataclass(frozen=True)
class FreeForm:
    """A message inside the customer-service window rather than a template: one of ``type``'s
    parts is set (text, media or interactive)."""

    type: str  # text | image | video | audio | document | interactive
    text: str | None = None
    preview_url: bool = False
    media: FreeFormMedia | None = None
    interactive: Interactive | None = None
    reply_to: str | None = None  # the provider's id of the customer's message it answers


@dataclass(frozen=True)
class OutboundMessage:
    """One message, as the provider is asked to send it: a template, or with ``free_form`` a
    free-form message (whose template fields are then empty)."""

    to: str  # E.164 digits
    template_name: str
    language: str
    callback_data: str  # our message id, echoed in status webhooks (biz_opaque_callback_data)
    body_params: tuple[str, ...] = ()
    header_params: tuple[str, ...] = ()  # a TEXT header's variable
    # A NAMED template's: the name of each body_params / header_params value, in their order.
    body_param_names: tuple[str, ...] = ()
    header_param_names: tuple[str, ...] = ()
    buttons: tuple[ButtonValue, ...] = ()
    header: HeaderMedia | None = None
    otp_code: str | None = None
    free_form: FreeForm | None = None


@dataclass(frozen=True)
class SendReceipt:
    provider_message_id: str
    status: str | None = None  # accepted | held_for_quality_assessment | paused


@dataclass(frozen=True)
class MediaInfo:
    """Where a file at the provider (a customer's, by its media id) can be downloaded from."""

    media_id: str
    url: str  # valid for minutes; fetched with the channel's token
    mime_type: str | None
    sha256: str | None  # hex or base64, as the provider gives it
    file_size: int | None


@dataclass(frozen=True)
class Downloaded:
    size: int
    sha256: str  # hex


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

    async def mark_read(self, channel: ChannelAccess, provider_message_id: str) -> None:
        """A read receipt for a customer's message (and so for the earlier ones)."""
        ...

    async def upload_media(
        self, channel: ChannelAccess, path: Path, mime_type: str, filename: str
    ) -> str: ...

    async def media_info(self, channel: ChannelAccess, media_id: str) -> MediaInfo: ...

    async def download_media(
        self, channel: ChannelAccess, info: MediaInfo, target: Path, max_size: int
    ) -> Downloaded: ...


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
