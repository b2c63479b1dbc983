"""The body of a free-form send (``POST /api/v2/whatsapp/messages``): a message inside the
customer's 24-hour window. Each limit is Meta's (OpenAPI v23.0: ``TextMessage_1``,
``MediaObject_1``, ``HeaderObject``, ``BodyObject``, ``FooterObject``, ``ActionObject``,
``SectionObject``); the rules between fields are ``free_form.check``'s."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from herald.kit.pagination import MAX_ID
from herald.kit.schemas import RequestBody
from herald.message.schemas import IdempotencyKey, SenderId, SenderNumber

FreeFormType = Literal["text", "image", "video", "audio", "document", "interactive"]
MEDIA_TYPES = ("image", "video", "audio", "document")

TEXT_MAX = 4096  # TextMessage_1.body
CAPTION_MAX = 1024  # MediaObject_1.caption
FILENAME_MAX = 240  # Meta sets none; a file system's name fits in it
LINK_MAX = 2000  # as a template header's header_media_url
INTERACTIVE_BODY_MAX = 1024  # BodyObject.text
HEADER_MAX = FOOTER_MAX = 60  # HeaderObject.text, FooterObject.text
BUTTONS_MAX = 3  # ActionObject.buttons
BUTTON_ID_MAX = 256  # ActionObject.buttons[].reply.id
TITLE_MAX = 20  # a reply button's title, a list's button label
SECTIONS_MAX = 10  # ActionObject.sections
ROWS_MAX = 10  # SectionObject.rows, and a list's rows in all sections together
ROW_ID_MAX = 200
ROW_TITLE_MAX = SECTION_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72


class TextPart(RequestBody):
    body: str = Field(min_length=1, max_length=TEXT_MAX)
    preview_url: bool = False


class MediaPart(RequestBody):
    """A file: one of the caller's media (``media_id``) or a public https ``link``."""

    media_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    link: str | None = Field(default=None, min_length=1, max_length=LINK_MAX)
    caption: str | None = Field(default=None, min_length=1, max_length=CAPTION_MAX)
    filename: str | None = Field(default=None, min_length=1, max_length=FILENAME_MAX)


class InteractiveHeader(RequestBody):
    type: Literal["text"]
    text: str = Field(min_length=1, max_length=HEADER_MAX)


class InteractiveBody(RequestBody):
    text: str = Field(min_length=1, max_length=INTERACTIVE_BODY_MAX)


class InteractiveFooter(RequestBody):
    text: str = Field(min_length=1, max_length=FOOTER_MAX)


class Reply(RequestBody):
    id: str = Field(min_length=1, max_length=BUTTON_ID_MAX)
    title: str = Field(min_length=1, max_length=TITLE_MAX)


class ReplyButtonIn(RequestBody):
    type: Literal["reply"] = "reply"
    reply: Reply


class Row(RequestBody):
    id: str = Field(min_length=1, max_length=ROW_ID_MAX)
    title: str = Field(min_length=1, max_length=ROW_TITLE_MAX)
    description: str | None = Field(default=None, min_length=1, max_length=ROW_DESCRIPTION_MAX)


class Section(RequestBody):
    title: str | None = Field(default=None, min_length=1, max_length=SECTION_TITLE_MAX)
    rows: list[Row] = Field(min_length=1, max_length=ROWS_MAX)


class InteractiveAction(RequestBody):
    """Reply buttons (``buttons``, for type button) or a list (``button`` and ``sections``)."""

    buttons: list[ReplyButtonIn] | None = Field(default=None, min_length=1, max_length=BUTTONS_MAX)
    button: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    sections: list[Section] | None = Field(default=None, min_length=1, max_length=SECTIONS_MAX)


class InteractivePart(RequestBody):
    type: Literal["button", "list"]
    header: InteractiveHeader | None = None
    body: InteractiveBody
    footer: InteractiveFooter | None = None
    action: InteractiveAction


class SendFreeForm(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "to": "21696816277",
                    "country_code": "TN",
                    "type": "text",
                    "text": {"body": "It left the warehouse this morning."},
                    "reply_to": 812,
                },
                {
                    "to": "21696816277",
                    "country_code": "TN",
                    "type": "interactive",
                    "interactive": {
                        "type": "button",
                        "body": {"text": "Shall we deliver tomorrow?"},
                        "action": {
                            "buttons": [
                                {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                                {"type": "reply", "reply": {"id": "later", "title": "Later"}},
                            ]
                        },
                    },
                    "idempotency_key": "order-41-delivery-question",
                },
            ]
        }
    )

    to: str = Field(min_length=1, max_length=32)
    country_code: str = Field(min_length=2, max_length=2)
    type: FreeFormType
    text: TextPart | None = None
    image: MediaPart | None = None
    video: MediaPart | None = None
    audio: MediaPart | None = None
    document: MediaPart | None = None
    interactive: InteractivePart | None = None
    # The id of the customer's message (an inbound message of this conversation) it answers.
    reply_to: int | None = Field(default=None, ge=1, le=MAX_ID)
    idempotency_key: IdempotencyKey | None = None
    # The sender (``channel/senders.py``); without one, the user's default channel.
    channel_id: SenderId | None = None
    from_: SenderNumber | None = Field(default=None, alias="from")

    def fingerprint_fields(self) -> dict[str, Any]:
        """What an idempotency key's fingerprint is computed from: the send as JSON."""
        return self.model_dump(mode="json", exclude_none=True)

    def media(self) -> MediaPart | None:
        part: MediaPart | None = getattr(self, self.type) if self.type in MEDIA_TYPES else None
        return part
