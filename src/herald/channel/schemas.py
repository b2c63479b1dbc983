"""A channel as its user sees it: never a secret (tokens, app secret, verify token)."""

from __future__ import annotations

from herald.kit.schemas import ApiDateTime, ApiObject


class ChannelOut(ApiObject):
    id: int
    phone_number_id: str
    display_number: str | None
    waba_id: str
    # The sender of a send that names none (``channel_id`` or ``from``).
    is_default: bool
    throughput: int
    app_id: str | None
    created_at: ApiDateTime
