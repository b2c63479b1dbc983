from __future__ import annotations

from pydantic import Field

from herald.kit.schemas import ApiDateTime, ApiObject

MEDIA_PATH = "/api/v2/whatsapp/media"
CONTENT_PATH = MEDIA_PATH + "/{media_id}/content"


def content_path(media_id: int) -> str:
    """Where a media asset's bytes are served (to its owner, with their credentials)."""
    return CONTENT_PATH.format(media_id=media_id)


class MediaOut(ApiObject):
    media_id: int = Field(validation_alias="id")
    type: str = Field(
        validation_alias="kind",
        description="image, video or document; a customer's file may also be audio or sticker",
    )
    mime_type: str
    size: int
    filename: str
    sha256: str
    created_at: ApiDateTime
