"""herald-client: a typed Python client for Herald, the self-hosted WhatsApp gateway.

``HeraldClient`` blocks, ``AsyncHeraldClient`` is for asyncio; both have the same methods.
Errors are ``HeraldApiError`` subclasses chosen by HTTP status (``err.code`` is Herald's stable
code) and ``HeraldConnectionError``; ``verify_signature`` checks status callbacks.
"""

from __future__ import annotations

from herald_client._version import __version__
from herald_client.async_client import AsyncHeraldClient
from herald_client.client import HeraldClient
from herald_client.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    HeraldApiError,
    HeraldConnectionError,
    HeraldError,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    Unauthorized,
    UnsupportedMediaType,
)
from herald_client.models import (
    BulkAccepted,
    BulkGroup,
    BulkRecipient,
    ButtonParam,
    Contact,
    DeletedId,
    LoginToken,
    Media,
    MediaDeleted,
    Message,
    MessageError,
    OptOut,
    OptOutRemoved,
    Page,
    Pagination,
    Profile,
    SecretKey,
    SecretKeyCreated,
    SendAccepted,
    Template,
    TemplateButton,
    TemplateButtonSpec,
    TemplateHeader,
    TemplateHeaderSpec,
    Webhook,
    WebhookCreated,
)
from herald_client.signature import SIGNATURE_HEADER, sign, verify_signature

__all__ = [
    "SIGNATURE_HEADER",
    "AsyncHeraldClient",
    "BadRequest",
    "BulkAccepted",
    "BulkGroup",
    "BulkRecipient",
    "ButtonParam",
    "Conflict",
    "Contact",
    "DeletedId",
    "Forbidden",
    "HeraldApiError",
    "HeraldClient",
    "HeraldConnectionError",
    "HeraldError",
    "LoginToken",
    "Media",
    "MediaDeleted",
    "Message",
    "MessageError",
    "NotFound",
    "OptOut",
    "OptOutRemoved",
    "Page",
    "Pagination",
    "PayloadTooLarge",
    "Profile",
    "RateLimited",
    "SecretKey",
    "SecretKeyCreated",
    "SendAccepted",
    "ServerError",
    "Template",
    "TemplateButton",
    "TemplateButtonSpec",
    "TemplateHeader",
    "TemplateHeaderSpec",
    "Unauthorized",
    "UnsupportedMediaType",
    "Webhook",
    "WebhookCreated",
    "__version__",
    "sign",
    "verify_signature",
]
