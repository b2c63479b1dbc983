from __future__ import annotations

from pydantic import Field

from herald.kit.schemas import ApiDateTime, ApiObject


class MediaOut(ApiObject):
    media_id: int = Field(validation_alias="id")
    type: str = Field(validation_alias="kind", description="image, video or document")
    mime_type: str
    size: int
    filename: str
    sha256: str
    created_at: ApiDateTime
