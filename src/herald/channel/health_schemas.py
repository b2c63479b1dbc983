"""The health route's answer (``GET /api/v2/channels/{id}/health``, docs/api.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from herald.kit.schemas import ApiDateTime, ApiObject


class RestrictionOut(ApiObject):
    type: str = Field(examples=["RESTRICTED_BIZ_INITIATED_MESSAGING"])
    expires_at: ApiDateTime | None = Field(description="When Meta lifts it (null: not said).")


class ChannelHealthOut(ApiObject):
    """A channel's (sender's) health as Meta last reported it."""

    channel_id: int
    waba_id: str
    quality_rating: Literal["GREEN", "YELLOW", "RED", "UNKNOWN"]
    messaging_limit_tier: str | None = Field(
        description="TIER_50 ... TIER_UNLIMITED; null until Meta reports one.",
        examples=["TIER_1K"],
    )
    messaging_limit: int | None = Field(
        description="The customers the tier lets the number reach in 24 h (null: unlimited "
        "or not reported)."
    )
    customers_reached_24h: int = Field(
        description="Unique customers the number's WABA reached with business-initiated "
        "templates in the last 24 h: the messaging limit's usage."
    )
    throughput_per_second: int
    status: Literal["CONNECTED", "FLAGGED", "RESTRICTED", "BANNED"]
    sending: bool = Field(description="False while restricted or banned: messages wait queued.")
    hold_reason: str | None = Field(description="Why the channel's messages wait, if they do.")
    restrictions: list[RestrictionOut]
    restricted_until: ApiDateTime | None
    status_reason: str | None = Field(description="Meta's event behind the status, if any.")
    updated_at: ApiDateTime | None = Field(description="When Meta last changed any of it.")
