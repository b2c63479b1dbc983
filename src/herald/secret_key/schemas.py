from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator

from herald.kit.schemas import ApiDateTime, ApiObject, RequestBody
from herald.secret_key.uri import normalise_base_uri


class PlatformType(StrEnum):
    WOOCOMMERCE = "woocommerce"
    SHOPIFY = "shopify"
    PRESTASHOP = "prestashop"
    MAGENTO = "magento"
    CUSTOM = "custom"


class SecretKeyCreate(RequestBody):
    platform_type: PlatformType
    base_uri: str = Field(min_length=1, max_length=500, examples=["https://shop.example.com"])
    name: str = Field(min_length=1, max_length=100, examples=["Main shop"])

    @field_validator("base_uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        return normalise_base_uri(value)


class SecretKeyOut(ApiObject):
    id: int
    name: str
    platform_type: str
    base_uri: str
    key_prefix: str
    created_at: ApiDateTime
    last_used_at: ApiDateTime | None
    revoked_at: ApiDateTime | None


class SecretKeyCreated(SecretKeyOut):
    secret_key: str = Field(description="Shown once: only a hash is stored.")
