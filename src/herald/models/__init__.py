"""Every table, imported here so that ``Base.metadata`` is complete for Alembic."""

from herald.models.base import Base
from herald.models.channel import Channel
from herald.models.contact import Contact, ContactTag
from herald.models.message import Attempt, IdempotencyKey, InboundMessage, Message, OptOut
from herald.models.template import Template
from herald.models.user import User
from herald.models.webhook_event import WebhookEvent

__all__ = [
    "Attempt",
    "Base",
    "Channel",
    "Contact",
    "ContactTag",
    "IdempotencyKey",
    "InboundMessage",
    "Message",
    "OptOut",
    "Template",
    "User",
    "WebhookEvent",
]
