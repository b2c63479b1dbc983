"""Every table, imported here so that ``Base.metadata`` is complete for Alembic."""

from herald.models.base import Base
from herald.models.callback import CallbackDelivery, CallbackEndpoint
from herald.models.channel import Channel
from herald.models.console_session import EndedSession
from herald.models.contact import Contact, ContactTag
from herald.models.inbound import Conversation, InboundMessage
from herald.models.media import MediaAsset, ProviderMedia
from herald.models.message import (
    Attempt,
    IdempotencyKey,
    Message,
    MessageTotal,
    MessagingReach,
    OptOut,
)
from herald.models.rate import Rate
from herald.models.secret_key import SecretKey
from herald.models.template import Template
from herald.models.user import User
from herald.models.webhook_event import WebhookEvent

__all__ = [
    "Attempt",
    "Base",
    "CallbackDelivery",
    "CallbackEndpoint",
    "Channel",
    "Contact",
    "ContactTag",
    "Conversation",
    "EndedSession",
    "IdempotencyKey",
    "InboundMessage",
    "MediaAsset",
    "Message",
    "MessageTotal",
    "MessagingReach",
    "OptOut",
    "ProviderMedia",
    "Rate",
    "SecretKey",
    "Template",
    "User",
    "WebhookEvent",
]
