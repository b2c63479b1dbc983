from __future__ import annotations

from pydantic import EmailStr, Field

from herald.kit.passwords import MIN_PASSWORD_LENGTH
from herald.kit.schemas import ApiDateTime, ApiObject, RequestBody


class UserOut(ApiObject):
    id: int
    email: EmailStr
    firstname: str | None
    lastname: str | None
    has_api_access: bool
    created_at: ApiDateTime


class UserUpdate(RequestBody):
    firstname: str | None = Field(default=None, max_length=100)
    lastname: str | None = Field(default=None, max_length=100)
    password: str | None = Field(default=None, min_length=MIN_PASSWORD_LENGTH, max_length=1024)
    current_password: str | None = Field(default=None, max_length=1024)
    # Accepted by the schema only to answer 403 rather than 400: operators grant API access.
    has_api_access: bool | None = None
