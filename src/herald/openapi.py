"""The OpenAPI 3.1 document: FastAPI's, plus what it cannot know: every JSend error each route
may answer (with its ``code`` and an example), both ways to authenticate, and no 422s (Herald
answers bad input with 400 ``validation_failed``).

``ROUTE_ERRORS`` names each route's own errors; ``tests/test_openapi.py`` fails when a route is
missing from it or from the document.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from herald import errors as e
from herald.callback.service import CallbackNotFound
from herald.channel.service import ChannelMissing
from herald.console.session import CsrfTokenInvalid
from herald.contact.service import ContactNotFound
from herald.deps import SecretKeyNotAllowed, current_user, sender
from herald.media.intake import MediaTooLarge, UnsupportedMediaType
from herald.media.service import MediaInUse, MediaNotFound
from herald.message.idempotency import IdempotencyConflict
from herald.message.service import (
    GroupNotFound,
    MessageNotFound,
    NotCancellable,
    RecipientsInvalid,
)
from herald.message.validation import (
    BodyParamsMismatch,
    HeaderMediaMismatch,
    HeaderMediaRequired,
    InvalidButton,
    OtpCodeInvalid,
    RecipientOptedOut,
    TemplateNotApproved,
)
from herald.meta_webhook.service import SignatureInvalid, VerifyTokenMismatch
from herald.opt_out.endpoints import AlreadyOptedOut, OptOutNotFound
from herald.secret_key.service import ApiKeyHeadersIncomplete, ApiKeyInvalid, SecretKeyNotFound
from herald.template.service import InvalidState, TemplateExists, TemplateNotFound

Errors = list[type[e.HeraldError]]

AUTHENTICATED: Errors = [
    e.TokenMissing,
    e.TokenInvalid,
    e.TokenExpired,
    ApiKeyInvalid,
    ApiKeyHeadersIncomplete,
    e.ApiAccessDisabled,
    CsrfTokenInvalid,
    e.RateLimited,
]
EVERY_ROUTE: Errors = [e.MethodNotAllowed, e.InternalError]
WITH_BODY: Errors = [
    e.ValidationFailed,
    e.MalformedJson,
    e.UnsupportedContentType,
    e.PayloadTooLarge,
]
SEND: Errors = [
    TemplateNotFound,
    TemplateNotApproved,
    BodyParamsMismatch,
    InvalidButton,
    HeaderMediaRequired,
    HeaderMediaMismatch,
    MediaNotFound,
    OtpCodeInvalid,
    e.InvalidPhoneNumber,
    RecipientOptedOut,
    IdempotencyConflict,
    ChannelMissing,
]
PROVIDER: Errors = [e.ProviderRejected, e.ProviderAuthFailed, e.ProviderUnavailable]

# Each route's own errors, by endpoint function name.
ROUTE_ERRORS: dict[str, Errors] = {
    "healthz": [],
    "readyz": [e.ServiceUnavailable],
    "metrics": [],
    "login_check": [e.InvalidCredentials, e.RateLimited],
    "get_profile": [],
    "update_profile": [e.InvalidCurrentPassword, e.FieldNotEditable],
    "create_contact": [e.InvalidPhoneNumber, e.ContactExists],
    "list_contacts": [],
    "get_contact": [ContactNotFound],
    "update_contact": [ContactNotFound, e.InvalidPhoneNumber, e.ContactExists],
    "delete_contact": [ContactNotFound],
    "create_template": [TemplateExists, ChannelMissing],
    "create_template_v1": [TemplateExists, ChannelMissing],
    "list_templates": [],
    "get_template": [TemplateNotFound],
    "submit_template": [TemplateNotFound, InvalidState, ChannelMissing, *PROVIDER],
    "delete_template": [TemplateNotFound, *PROVIDER],
    "send_v2": SEND,
    "send_v1": [*SEND, ContactNotFound],
    "send_template_v1": [*SEND, ContactNotFound],
    "send_bulk": [TemplateNotFound, TemplateNotApproved, RecipientsInvalid, ChannelMissing],
    "history": [],
    "get_message": [MessageNotFound],
    "cancel_message": [MessageNotFound, NotCancellable],
    "bulk_group": [GroupNotFound],
    "upload_media": [MediaTooLarge, UnsupportedMediaType],
    "list_media": [],
    "get_media": [MediaNotFound],
    "delete_media": [MediaNotFound, MediaInUse],
    "list_opt_outs": [],
    "add_opt_out": [e.InvalidPhoneNumber, AlreadyOptedOut],
    "remove_opt_out": [OptOutNotFound],
    "create_secret_key": [SecretKeyNotAllowed],
    "list_secret_keys": [SecretKeyNotAllowed],
    "revoke_secret_key": [SecretKeyNotAllowed, SecretKeyNotFound],
    "create_callback": [],
    "list_callbacks": [],
    "get_callback": [CallbackNotFound],
    "delete_callback": [CallbackNotFound],
    "list_deliveries": [CallbackNotFound],
    "verify_subscription": [VerifyTokenMismatch],
    "receive": [SignatureInvalid],
}


DESCRIPTION = """\
Herald serves the Buzzbip WhatsApp API and goes beyond it. Every answer is JSend:
`{"status": "success", "message", "data"}` or `{"status": "error", "message", "code", "data"}`;
decide on `code`, never on the message. A path that is not a route answers 404
`route_not_found` (with the right spelling in `data.path` when only the trailing slash differs);
a known path with another method answers 405 `method_not_allowed`.

Authenticate with `Authorization: Bearer <token>` from `POST /api/login_check`, or, for shop
plugins, with the three headers `x-api-key`, `x-platform-type` and `x-base-uri` of a secret key.
The web console (`/console/`) calls this API with its `herald_session` cookie instead; a request
so authenticated that can change something must also carry the page's `X-CSRF-Token`, or it is
403 `csrf_token_invalid`.
Every authenticated answer carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
`X-RateLimit-Reset`; over the limit, 429 `rate_limited` with `Retry-After`.
"""


def _example(kind: type[e.HeraldError]) -> dict[str, Any]:
    data: Any = []
    if issubclass(kind, e.ValidationFailed):
        data = {"errors": [{"field": "body_params", "message": "This field is required."}]}
    elif kind is e.RateLimited:
        data = {"retry_after": 2}
    return {"status": "error", "message": kind.message, "code": kind.code, "data": data}


def _responses(kinds: Iterable[type[e.HeraldError]]) -> dict[str, dict[str, Any]]:
    by_status: dict[int, dict[str, type[e.HeraldError]]] = defaultdict(dict)
    for kind in kinds:
        by_status[kind.status][kind.code] = kind
    rendered = {}
    for status, codes in sorted(by_status.items()):
        rendered[str(status)] = {
            "description": "JSend error; `code`: " + ", ".join(f"`{c}`" for c in codes),
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/ErrorBody"},
                    "examples": {code: {"value": _example(k)} for code, k in codes.items()},
                }
            },
        }
    return rendered


def _needs_login(route: APIRoute) -> bool:
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if dependency.call is current_user or dependency.call is sender:
            return True
        pending.extend(dependency.dependencies)
    return False


def api_routes(app: FastAPI) -> list[APIRoute]:
    from herald.api import ROUTERS

    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def install_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        routes = api_routes(app)
        schema = get_openapi(
            title=app.title, version=app.version, description=DESCRIPTION, routes=routes
        )
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        schemas["ErrorBody"] = {
            "type": "object",
            "required": ["status", "message", "code", "data"],
            "properties": {
                "status": {"const": "error"},
                "message": {"type": "string"},
                "code": {"type": "string", "description": "Stable snake_case identifier"},
                "data": {"anyOf": [{"type": "object"}, {"type": "array"}]},
            },
        }
        components["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            "platformType": {"type": "apiKey", "in": "header", "name": "x-platform-type"},
            "baseUri": {"type": "apiKey", "in": "header", "name": "x-base-uri"},
            "consoleSession": {"type": "apiKey", "in": "cookie", "name": "herald_session"},
        }
        for route in routes:
            kinds = list(ROUTE_ERRORS.get(route.endpoint.__name__, []))
            kinds += EVERY_ROUTE
            if _needs_login(route):
                kinds += AUTHENTICATED
            if route.body_field is not None or route.endpoint.__name__ == "upload_media":
                kinds += WITH_BODY
            elif route.dependant.query_params or route.dependant.path_params:
                kinds.append(e.ValidationFailed)
            for method in route.methods or ():
                operation = schema["paths"][route.path_format][method.lower()]
                operation["responses"].pop("422", None)
                for status, response in _responses(kinds).items():
                    operation["responses"].setdefault(status, response)
                if _needs_login(route):
                    operation["security"] = [
                        {"bearer": []},
                        {"apiKey": [], "platformType": [], "baseUri": []},
                        {"consoleSession": []},
                    ]
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]


def documented_codes(schema: dict[str, Any]) -> set[str]:
    codes: set[str] = set()
    for operations in schema["paths"].values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                examples = response.get("content", {}).get("application/json", {}).get("examples")
                codes.update((examples or {}).keys())
    return codes
