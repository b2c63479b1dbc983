from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, Field

from herald.kit.schemas import RequestBody


class LoginRequest(RequestBody):
    username: str = Field(
        min_length=1, max_length=320, validation_alias=AliasChoices("username", "email")
    )
    password: str = Field(min_length=1, max_length=1024)


class TokenOut(BaseModel):
    token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (the scheme's name, not a secret)
    expires_in: int


class LoginAnswer(BaseModel):
    """JSend plus a top-level ``token``: the shape Symfony's login_check clients read."""

    status: Literal["success"] = "success"
    message: str = "Authenticated"
    data: TokenOut
    token: str
