from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, cast

from pydantic import BaseModel, Field

from herald.kit.pagination import MAX_ID
from herald.kit.schemas import ApiDateTime, ApiObject, RequestBody
from herald.template import preview

if TYPE_CHECKING:
    from herald.models import Template

Category = Literal["MARKETING", "UTILITY", "AUTHENTICATION"]
# DELETED: gone at Meta (found so by a sync); kept for its messages' history, never sent.
State = Literal["DRAFT", "PENDING", "APPROVED", "REJECTED", "PAUSED", "DISABLED", "DELETED"]
HeaderFormat = Literal["TEXT", "IMAGE", "VIDEO", "DOCUMENT"]
ButtonType = Literal["URL", "COPY_CODE", "QUICK_REPLY", "PHONE_NUMBER"]
# POSITIONAL: {{1}}..{{n}}, sent as a list; NAMED: {{first_name}}, sent as an object.
ParameterFormat = Literal["POSITIONAL", "NAMED"]
OtpType = Literal["COPY_CODE", "ONE_TAP"]


class Header(RequestBody):
    format: HeaderFormat
    text: str | None = Field(default=None, min_length=1, max_length=60)
    # A TEXT header's variable ({{1}}, or {{name}} in a NAMED template): the sample value
    # Meta's review sees.
    example: str | None = Field(default=None, min_length=1, max_length=60)
    # A media header's sample file: an asset uploaded through the media API, of the header's kind.
    example_media_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class Button(RequestBody):
    type: ButtonType
    text: str | None = Field(default=None, min_length=1, max_length=25)
    url: str | None = Field(default=None, min_length=1, max_length=2000)
    # A URL button's {{1}} sample, or a COPY_CODE button's sample coupon code.
    example: str | None = Field(default=None, min_length=1, max_length=2000)
    # A PHONE_NUMBER button's number, in international format (Meta's 20 characters at most).
    phone_number: str | None = Field(default=None, min_length=1, max_length=20)


class TemplateCreate(RequestBody):
    name: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    language: str = Field(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$", examples=["en", "en_US"])
    category: Category
    # NAMED: the body's and a TEXT header's variables are named ({{first_name}}).
    parameter_format: ParameterFormat = "POSITIONAL"
    header: Header | None = None
    # Required except for AUTHENTICATION templates, whose text Meta writes.
    body: str | None = Field(default=None, min_length=1, max_length=1024)
    footer: str | None = Field(default=None, min_length=1, max_length=60)
    buttons: list[Button] = Field(default_factory=list)
    # AUTHENTICATION only (Meta's options for its own wording and its one OTP button).
    add_security_recommendation: bool | None = None
    code_expiration_minutes: int | None = Field(default=None, ge=1, le=90)
    otp_type: OtpType | None = None
    package_name: str | None = Field(default=None, min_length=1, max_length=224)
    signature_hash: str | None = Field(default=None, min_length=11, max_length=11)
    # The channel (and so the WABA) to create it in, for a user with several; default: the
    # user's default channel.
    channel_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class HeaderOut(BaseModel):
    format: HeaderFormat
    text: str | None = None
    example: str | None = None
    example_media_id: int | None = None


class ButtonOut(BaseModel):
    type: ButtonType | Literal["PHONE_NUMBER"]  # PHONE_NUMBER: imported from Meta
    text: str | None = None
    url: str | None = None
    example: str | None = None
    phone_number: str | None = None  # PHONE_NUMBER buttons only (null on the others)


class AuthenticationOut(BaseModel):
    otp_type: OtpType | Literal["ZERO_TAP"]  # ZERO_TAP: imported from Meta
    add_security_recommendation: bool
    code_expiration_minutes: int | None = None
    package_name: str | None = None
    signature_hash: str | None = None


class ParametersOut(BaseModel):
    """What a send fills: the variables' names (NAMED) or numbers (POSITIONAL), in order."""

    format: ParameterFormat
    body: list[str]
    header: list[str]


class PreviewOut(BaseModel):
    """The template with sample values, as a recipient would see it."""

    header: str | None
    body: str
    footer: str | None
    buttons: list[str]


class TemplateOut(ApiObject):
    id: int
    name: str
    language: str
    category: Category
    state: State
    rejection_reason: str | None
    header: HeaderOut | None
    # For AUTHENTICATION templates: the text Meta displays (in English), not the caller's.
    body: str
    footer: str | None
    buttons: list[ButtonOut]
    authentication: AuthenticationOut | None = None
    placeholder_count: int
    parameter_format: ParameterFormat
    parameters: ParametersOut
    preview: PreviewOut
    # Meta's rating (GREEN, YELLOW, RED, UNKNOWN); None until Meta rates it.
    quality: str | None = None
    # The category Meta moved the template from, at its last re-categorisation.
    previous_category: str | None = None
    # When Meta flagged it (negative feedback: at risk of a pause); None when not flagged.
    flagged_at: ApiDateTime | None = None
    # False for a kind Herald cannot send yet (imported from Meta), with the reason.
    sendable: bool = True
    unsendable_reason: str | None = None
    # Meta's components as it last listed them (imported or synced templates), else null.
    components: list[dict[str, Any]] | None = None
    # The channel it was created or imported through, and the WABA it belongs to (any channel
    # of the user in that WABA may send it); null for a draft made before the user had one.
    channel_id: int | None = None
    waba_id: str | None = None
    created_at: ApiDateTime
    updated_at: ApiDateTime

    @classmethod
    def of(cls, template: Template) -> TemplateOut:
        header = (
            HeaderOut(
                format=cast(HeaderFormat, template.header_format),
                text=template.header_text,
                example=template.header_example,
                example_media_id=template.header_sample_media_id,
            )
            if template.header_format
            else None
        )
        options: dict[str, Any] | None = template.authentication
        fmt = cast(ParameterFormat, template.parameter_format or "POSITIONAL")
        otp = template.category == "AUTHENTICATION"
        parameters = ParametersOut(
            format=fmt,
            body=[] if otp else [n for n, _ in preview.body_samples(template.body, fmt)],
            header=[n for n, _ in preview.header_samples(template.header_text, None, fmt)]
            if template.header_format == "TEXT"
            else [],
        )
        shown = preview.preview(
            template.body,
            fmt,
            template.header_format,
            template.header_text,
            template.header_example,
            template.footer,
            template.buttons,
        )
        if otp:  # the code Meta's wording holds
            shown["body"] = preview.fill(template.body, {"1": "123456"})
        return cls(
            id=template.id,
            name=template.name,
            language=template.language,
            category=cast(Category, template.category),
            state=cast(State, template.state),
            rejection_reason=template.rejection_reason,
            header=header,
            body=template.body,
            footer=template.footer,
            buttons=[ButtonOut.model_validate(button) for button in template.buttons],
            authentication=AuthenticationOut.model_validate(options) if options else None,
            placeholder_count=template.placeholder_count,
            parameter_format=fmt,
            parameters=parameters,
            preview=PreviewOut(**shown),
            quality=template.quality,
            previous_category=template.previous_category,
            flagged_at=template.flagged_at,
            sendable=template.sendable is not False,
            unsendable_reason=template.unsendable_reason,
            components=template.components,
            channel_id=template.channel_id,
            waba_id=template.waba_id,
            created_at=template.created_at,
            updated_at=template.updated_at,
        )


class TemplateSyncOut(BaseModel):
    """What one sync with the provider did to the caller's templates."""

    created: int
    updated: int
    unchanged: int
    removed: int  # gone at Meta: now DELETED
