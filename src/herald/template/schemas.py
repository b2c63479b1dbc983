from __future__ import annotations

from typing import TYPE_CHECKING, Literal, cast

from pydantic import BaseModel, Field

from herald.kit.schemas import ApiDateTime, ApiObject, RequestBody

if TYPE_CHECKING:
    from herald.models import Template

Category = Literal["MARKETING", "UTILITY", "AUTHENTICATION"]
State = Literal["DRAFT", "PENDING", "APPROVED", "REJECTED", "PAUSED", "DISABLED"]
HeaderFormat = Literal["TEXT", "IMAGE", "VIDEO", "DOCUMENT"]
ButtonType = Literal["URL", "COPY_CODE", "QUICK_REPLY"]


class Header(RequestBody):
    format: HeaderFormat
    text: str | None = Field(default=None, min_length=1, max_length=60)


class Button(RequestBody):
    type: ButtonType
    text: str | None = Field(default=None, min_length=1, max_length=25)
    url: str | None = Field(default=None, min_length=1, max_length=2000)


class TemplateCreate(RequestBody):
    name: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    language: str = Field(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$", examples=["en", "en_US"])
    category: Category
    header: Header | None = None
    body: str = Field(min_length=1, max_length=1024)
    footer: str | None = Field(default=None, min_length=1, max_length=60)
    buttons: list[Button] = Field(default_factory=list)


class HeaderOut(BaseModel):
    format: HeaderFormat
    text: str | None = None


class ButtonOut(BaseModel):
    type: ButtonType
    text: str | None = None
    url: str | None = None


class TemplateOut(ApiObject):
    id: int
    name: str
    language: str
    category: Category
    state: State
    rejection_reason: str | None
    header: HeaderOut | None
    body: str
    footer: str | None
    buttons: list[ButtonOut]
    placeholder_count: int
    created_at: ApiDateTime
    updated_at: ApiDateTime

    @classmethod
    def of(cls, template: Template) -> TemplateOut:
        header = (
            HeaderOut(format=cast(HeaderFormat, template.header_format), text=template.header_text)
            if template.header_format
            else None
        )
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
            placeholder_count=template.placeholder_count,
            created_at=template.created_at,
            updated_at=template.updated_at,
        )
