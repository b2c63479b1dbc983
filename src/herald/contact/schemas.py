from __future__ import annotations

from typing import Annotated, Any

from pydantic import EmailStr, Field, StringConstraints, field_validator

from herald.kit.schemas import ApiDateTime, ApiObject, RequestBody

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Name = Annotated[str, StringConstraints(max_length=100)]


class ContactCreate(RequestBody):
    number: str = Field(min_length=1, max_length=32)
    country_code: str = Field(min_length=2, max_length=2)
    firstname: Name | None = None
    lastname: Name | None = None
    email: EmailStr | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)


class ContactUpdate(RequestBody):
    number: str | None = Field(default=None, min_length=1, max_length=32)
    country_code: str | None = Field(default=None, min_length=2, max_length=2)
    firstname: Name | None = None
    lastname: Name | None = None
    email: EmailStr | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)


class ContactOut(ApiObject):
    id: int
    number: str
    country_code: str
    firstname: str | None
    lastname: str | None
    email: str | None
    tags: list[str]
    created_at: ApiDateTime
    updated_at: ApiDateTime

    @field_validator("tags", mode="before")
    @classmethod
    def _tag_names(cls, value: Any) -> Any:
        return sorted(getattr(tag, "tag", tag) for tag in value)
