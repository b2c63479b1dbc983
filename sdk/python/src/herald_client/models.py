"""The shapes of Herald's ``data``: what each method returns and what some accept.

Every result is a ``TypedDict``: a plain dict at run time, with the keys and nesting of Herald's
JSON answer, checked by type checkers, so that a field Herald adds later never breaks an older
client. Times are ISO 8601 UTC strings ending in ``Z``.
"""

from __future__ import annotations

from typing import Generic, Literal, NotRequired, TypedDict, TypeVar

T = TypeVar("T")

Category = Literal["MARKETING", "UTILITY", "AUTHENTICATION"]
TemplateState = Literal["DRAFT", "PENDING", "APPROVED", "REJECTED", "PAUSED", "DISABLED", "DELETED"]
HeaderFormat = Literal["TEXT", "IMAGE", "VIDEO", "DOCUMENT"]
ButtonType = Literal["URL", "COPY_CODE", "QUICK_REPLY", "PHONE_NUMBER"]
ButtonSubType = Literal["url", "copy_code", "quick_reply"]
MessageState = Literal["queued", "sending", "sent", "delivered", "read", "failed", "cancelled"]
PlatformType = Literal["woocommerce", "shopify", "prestashop", "magento", "custom"]
MediaType = Literal["image", "video", "document"]
# A message's type: "template", or a free-form message's (sent inside the customer's window).
MessageType = Literal["template", "text", "image", "video", "audio", "document", "interactive"]
FreeFormType = Literal["text", "image", "video", "audio", "document", "interactive"]


# --- paging -------------------------------------------------------------------------------------


class Pagination(TypedDict):
    """``page`` is None on a history page asked for by ``before_id``. ``next_before_id`` (the
    history only, else None) is the ``before_id`` of the next page, None when this one is not
    full."""

    page: int | None
    limit: int
    total: int
    pages: int
    next_before_id: int | None


class Page(TypedDict, Generic[T]):
    """One page of a list: ``page["items"]``, ``page["pagination"]``; ``next_page(page)`` is
    the number of the next one."""

    items: list[T]
    pagination: Pagination


def next_page(page: Page[T]) -> int | None:
    """The number of the page after this one; None on the last one (and on a page by id)."""
    pagination = page["pagination"]
    number = pagination["page"]
    return number + 1 if number is not None and number < pagination["pages"] else None


# --- authentication and profile -----------------------------------------------------------------


class LoginToken(TypedDict):
    token: str
    token_type: str
    expires_in: int


class Profile(TypedDict):
    id: int
    email: str
    firstname: str | None
    lastname: str | None
    has_api_access: bool
    created_at: str


# --- contacts -----------------------------------------------------------------------------------


class Contact(TypedDict):
    id: int
    number: str
    country_code: str
    firstname: str | None
    lastname: str | None
    email: str | None
    tags: list[str]
    created_at: str
    updated_at: str


class DeletedId(TypedDict):
    id: int


# --- templates ----------------------------------------------------------------------------------


class TemplateHeaderSpec(TypedDict):
    """A header to create: ``{"format": "TEXT", "text": "Order {{1}}", "example": "A-1"}`` or
    ``{"format": "IMAGE", "example_media_id": 12}`` (an uploaded sample; a PDF for DOCUMENT)."""

    format: HeaderFormat
    text: NotRequired[str]
    example: NotRequired[str]
    example_media_id: NotRequired[int]


class TemplateButtonSpec(TypedDict):
    """A button to create: URL needs ``text`` and ``url``, QUICK_REPLY ``text``, COPY_CODE a
    sample code in ``example``."""

    type: ButtonType
    text: NotRequired[str]
    url: NotRequired[str]
    example: NotRequired[str]
    phone_number: NotRequired[str]


class TemplateHeader(TypedDict):
    format: HeaderFormat
    text: str | None
    example: str | None
    example_media_id: int | None


class TemplateButton(TypedDict):
    type: ButtonType
    text: str | None
    url: str | None
    example: str | None
    phone_number: str | None


OtpType = Literal["COPY_CODE", "ONE_TAP"]


class TemplateAuthentication(TypedDict):
    """An AUTHENTICATION template's options (Meta writes its text and its OTP button)."""

    otp_type: OtpType
    add_security_recommendation: bool
    code_expiration_minutes: int | None
    package_name: str | None
    signature_hash: str | None


class Template(TypedDict):
    id: int
    name: str
    language: str
    category: Category
    state: TemplateState
    rejection_reason: str | None
    header: TemplateHeader | None
    body: str
    footer: str | None
    buttons: list[TemplateButton]
    authentication: TemplateAuthentication | None
    placeholder_count: int
    quality: str | None  # Meta's rating: GREEN, YELLOW, RED, UNKNOWN
    previous_category: str | None  # before Meta's last re-categorisation
    flagged_at: str | None  # when Meta flagged it (at risk of a pause)
    channel_id: int | None  # the channel it was created or imported through
    waba_id: str | None  # the WABA it belongs to: any of your channels there may send it
    created_at: str
    updated_at: str


# --- sending and history ------------------------------------------------------------------------


class ButtonParam(TypedDict):
    """A value for a template button: ``index`` into the template's buttons."""

    index: int
    sub_type: ButtonSubType
    value: str


class BulkRecipient(TypedDict):
    to: str
    country_code: str
    body_params: NotRequired[list[str] | dict[str, str]]  # a dict for a NAMED template
    header_params: NotRequired[list[str] | dict[str, str]]
    buttons: NotRequired[list[ButtonParam]]
    header_media_id: NotRequired[int]


class MessageError(TypedDict):
    code: str
    title: str | None
    detail: str | None


class MessagePricing(TypedDict):
    billable: bool | None
    category: str | None  # Meta's pricing category: marketing, utility, authentication, service
    model: str | None  # PMP (per message) or CBP (per conversation)


class Message(TypedDict):
    id: int
    whatsapp_bulk_group_id: str
    type: MessageType  # a free-form message has no template_id and an empty template_name
    template_id: int | None
    template_name: str
    contact_id: int | None
    phone_number: str
    country_code: str
    state: MessageState
    error: MessageError | None
    provider_message_id: str | None
    created_at: str
    scheduled_at: str | None
    sent_date: str | None
    delivered_at: str | None
    read_at: str | None
    failed_at: str | None
    # "messaging_limit": held past the WABA's messaging limit until ``scheduled_at``; or None.
    held_reason: NotRequired[str | None]
    # Meta's pricing from its latest status webhook carrying one; None until then.
    pricing: NotRequired[MessagePricing | None]


# --- free-form messages (inside the customer's 24-hour window) ---------------------------------


class TextContent(TypedDict):
    body: str  # at most 4,096 characters
    preview_url: NotRequired[bool]


class MediaContent(TypedDict, total=False):
    """A file: one of your media (``media_id``) or a public https ``link``; ``caption`` (not
    for audio, at most 1,024 characters) and ``filename`` (a document's)."""

    media_id: int
    link: str
    caption: str
    filename: str


class InteractiveText(TypedDict):
    text: str


class InteractiveHeader(TypedDict):
    type: Literal["text"]
    text: str  # at most 60 characters


class ReplyButtonReply(TypedDict):
    id: str  # at most 256 characters, unique
    title: str  # at most 20 characters, unique


class ReplyButton(TypedDict):
    type: Literal["reply"]
    reply: ReplyButtonReply


class ListRow(TypedDict):
    id: str  # at most 200 characters, unique across the list
    title: str  # at most 24 characters
    description: NotRequired[str]  # at most 72 characters


class ListSection(TypedDict):
    title: NotRequired[str]  # at most 24 characters; needed when there are several sections
    rows: list[ListRow]


class InteractiveAction(TypedDict, total=False):
    """Reply buttons (1 to 3) for ``type`` button; ``button`` (the list's label, at most 20
    characters) and ``sections`` (at most 10 rows in all) for ``type`` list."""

    buttons: list[ReplyButton]
    button: str
    sections: list[ListSection]


class InteractiveContent(TypedDict):
    type: Literal["button", "list"]
    header: NotRequired[InteractiveHeader]
    body: InteractiveText  # at most 1,024 characters
    footer: NotRequired[InteractiveText]  # at most 60 characters
    action: InteractiveAction


FreeFormContent = TextContent | MediaContent | InteractiveContent


class SendAccepted(TypedDict):
    message: Message
    whatsapp_bulk_group_id: str
    # Past the WABA's messaging limit: the time (ISO 8601) the message waits until; or None.
    held: NotRequired[str | None]


class BulkRejection(TypedDict):
    index: int
    code: str
    message: str


class BulkHeld(TypedDict):
    count: int  # recipients held past the WABA's messaging limit
    until: str  # when the last of them waits until (each message's scheduled_at says its own)


class BulkAccepted(TypedDict):
    whatsapp_bulk_group_id: str
    queued: int
    rejected: list[BulkRejection]
    held: NotRequired[BulkHeld | None]


class BulkGroup(TypedDict):
    whatsapp_bulk_group_id: str
    total: int
    counts: dict[str, int]


# --- opt-outs -----------------------------------------------------------------------------------


class OptOut(TypedDict):
    number: str
    country_code: str | None
    source: str
    created_at: str


class OptOutRemoved(TypedDict):
    number: str


# --- media --------------------------------------------------------------------------------------


class Media(TypedDict):
    media_id: int
    type: MediaType
    mime_type: str
    size: int
    filename: str
    sha256: str
    created_at: str


class MediaDeleted(TypedDict):
    media_id: int


# --- secret keys and status callbacks -----------------------------------------------------------


class SecretKey(TypedDict):
    id: int
    name: str
    platform_type: str
    base_uri: str
    key_prefix: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class SecretKeyCreated(SecretKey):
    secret_key: str  # shown in this answer only: Herald keeps a hash


class Callback(TypedDict):
    """A URL registered for delivery-status callbacks (``/api/v2/webhooks``)."""

    id: int
    url: str
    events: list[str]
    created_at: str
    # Until then deliveries also carry a signature made with the secret a rotation replaced.
    previous_secret_expires_at: str | None


class CallbackCreated(Callback):
    # The one given, or the one Herald generated (whsec_ and base64); in this answer only.
    secret: str


DeliveryOutcome = Literal["pending", "delivered", "dead"]


class CallbackDelivery(TypedDict):
    """One event queued for a callback: waiting (``pending``), taken by the receiver
    (``delivered``) or set aside after Herald gave up (``dead``), with the last attempt's
    answer or error."""

    id: int
    type: Literal["message.status", "template.updated", "message.received", "channel.updated"]
    message_id: int | None  # a message.status event's message
    template_id: int | None  # a template.updated event's template
    inbound_message_id: int | None  # a message.received event's customer message
    channel_id: int | None  # a channel.updated event's channel (sender)
    state: str  # the state the event announces: the message's, the template's, or received
    attempts: int
    last_status: int | None  # the receiver's last HTTP status, if any
    last_error: str | None
    created_at: str
    next_attempt_at: str | None  # when a pending one is tried next
    done_at: str | None
    outcome: DeliveryOutcome


# The older, deprecated names (the object was called a webhook): the same types.
Webhook = Callback
WebhookCreated = CallbackCreated


# --- conversations ------------------------------------------------------------------------------

Direction = Literal["in", "out"]


class CursorPagination(TypedDict):
    """``next_cursor`` is the ``cursor`` argument of the next page; None on the last one."""

    limit: int
    total: int
    next_cursor: str | None


class CursorPage(TypedDict, Generic[T]):
    """One page of a list walked by cursor (conversations and their messages)."""

    items: list[T]
    pagination: CursorPagination


class ConversationContact(TypedDict):
    id: int
    name: str | None


class LastMessage(TypedDict):
    direction: Direction
    id: int
    type: str  # "template", or a free-form or inbound kind ("text", "image", ...)
    text: str | None  # a preview: the text, a caption, a template's name
    at: str


class ConversationSummary(TypedDict):
    """One customer who wrote: ``window_open`` says whether free-form messages may go now
    (until ``window_expires_at``, 24 h after their last message)."""

    phone_number: str
    contact: ConversationContact | None
    unread_count: int
    last_inbound_at: str
    window_open: bool
    window_expires_at: str
    last_message: LastMessage | None


class MessageMedia(TypedDict):
    """``url`` is Herald's copy (fetch it with your credentials); None while it is fetched."""

    id: int | None
    url: str | None
    status: Literal["stored", "pending", "failed"]


class ConversationMessage(TypedDict):
    """One message of a conversation: ``in`` the customer's, ``out`` yours (with ``status``)."""

    direction: Direction
    id: int
    type: str
    text: str | None
    payload: str | None  # a quick-reply tap's payload, an interactive reply's id
    details: dict[str, object] | None
    media: MessageMedia | None
    reply_to: int | None
    template_name: str | None
    status: MessageState | None
    error_code: str | None
    at: str
    sent_at: str | None
    delivered_at: str | None
    read_at: str | None
    failed_at: str | None


class ConversationRead(TypedDict):
    phone_number: str
    marked_read: int
    read_receipt_for: int | None  # the inbound message Meta got a receipt for


class AnalyticsFigures(TypedDict):
    """One group's counts, or the totals (``cost`` and the costs are decimal strings)."""

    total: int
    states: dict[str, int]
    categories: dict[str, int]
    billable: int
    cost: str | None
    cost_by_category: dict[str, str | None]
    unrated_categories: list[str]


class AnalyticsGroup(AnalyticsFigures):
    key: str | None


# ``from`` is a Python keyword: the functional form.
MessageAnalytics = TypedDict(
    "MessageAnalytics",
    {
        "from": str,
        "to": str,
        "group_by": Literal["day", "template", "category", "channel"],
        "currency": str | None,
        "groups": list[AnalyticsGroup],
        "totals": AnalyticsFigures,
    },
)


class Channel(TypedDict):
    """One of your channels (WhatsApp senders); no secret."""

    id: int
    phone_number_id: str
    display_number: str | None
    waba_id: str
    is_default: bool  # the sender of a send that names none
    throughput: int
    app_id: str | None
    created_at: str
