"""The OpenAPI 3.1 document: FastAPI's, plus what it cannot know: every JSend error each route
may answer (with its ``code`` and an example), both ways to authenticate, short stable operation
ids for client generators, and no 422s (Herald answers bad input with 400 ``validation_failed``).
Its Swagger UI (``/api/docs``) is served from assets installed with Herald, never a CDN.

``ROUTE_ERRORS`` names each route's own errors and ``OPERATION_IDS`` each operation's id;
``tests/test_openapi.py`` fails when a route is missing from them or from the document.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from importlib import resources
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from herald import errors as e
from herald.analytics.service import InvalidRange, RangeTooLong
from herald.callback.service import CallbackExists, CallbackNotFound
from herald.channel.senders import ChannelWabaMismatch
from herald.channel.service import ChannelMissing, ChannelNotFound, DefaultTaken
from herald.console.session import CsrfTokenInvalid
from herald.contact.service import ContactNotFound
from herald.conversation.service import ConversationNotFound
from herald.conversation.window import WindowClosed
from herald.deps import SecretKeyNotAllowed, current_user
from herald.kit.jsend import ErrorBody
from herald.media.intake import MediaTooLarge, UnsupportedMediaType
from herald.media.service import (
    HeaderDocumentNotPdf,
    HeaderMediaMismatch,
    MediaInUse,
    MediaNotFound,
)
from herald.message.caller import reader, sender
from herald.message.free_form import MediaLinkInvalid, MediaTypeMismatch, ReplyToNotFound
from herald.message.idempotency import IdempotencyConflict
from herald.message.service import (
    GroupNotFound,
    MessageNotFound,
    NotCancellable,
    RecipientsInvalid,
)
from herald.message.validation import (
    BodyParamsMismatch,
    HeaderMediaRequired,
    HeaderMediaUrlInvalid,
    HeaderParamsMismatch,
    InvalidButton,
    OtpCodeInvalid,
    ParamTextInvalid,
    RecipientOptedOut,
    TemplateDeleted,
    TemplateNotApproved,
    TemplateNotSendable,
)
from herald.meta_webhook.service import SignatureInvalid, VerifyTokenMismatch
from herald.openapi_operations import LINKS, OPERATION_IDS
from herald.opt_out.endpoints import AlreadyOptedOut, OptOutNotFound
from herald.secret_key.service import ApiKeyHeadersIncomplete, ApiKeyInvalid, SecretKeyNotFound
from herald.template.service import (
    ChannelAppIdMissing,
    HeaderSampleMissing,
    InvalidState,
    TemplateExists,
    TemplateNotFound,
)

OPENAPI = "/api/openapi.json"
DOCS = "/api/docs"
DOCS_ASSETS = "/api/docs/assets"
SWAGGER_UI_FILES = str(resources.files("fastapi_offline") / "static")

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
# A database that is down, restarting or (SQLite) still locked after its timeout is a 503 on
# every route that reads it: all but the liveness probe.
WITHOUT_DATABASE = {"healthz"}
WITH_BODY: Errors = [
    e.ValidationFailed,
    e.MalformedJson,
    e.UnsupportedContentType,
    e.PayloadTooLarge,
]
SEND: Errors = [
    TemplateNotFound,
    TemplateNotApproved,
    TemplateDeleted,
    TemplateNotSendable,
    BodyParamsMismatch,
    HeaderParamsMismatch,
    ParamTextInvalid,
    InvalidButton,
    HeaderMediaRequired,
    HeaderMediaMismatch,
    HeaderMediaUrlInvalid,
    HeaderDocumentNotPdf,
    MediaNotFound,
    OtpCodeInvalid,
    e.InvalidPhoneNumber,
    RecipientOptedOut,
    IdempotencyConflict,
    ChannelMissing,
]
# A send that names its sender (``channel_id`` or ``from``).
SENDER: Errors = [ChannelNotFound, ChannelWabaMismatch]
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
    "create_template": [
        TemplateExists,
        ChannelMissing,
        MediaNotFound,
        HeaderMediaMismatch,
        HeaderDocumentNotPdf,
    ],
    "create_template_v1": [
        TemplateExists,
        ChannelMissing,
        MediaNotFound,
        HeaderMediaMismatch,
        HeaderDocumentNotPdf,
    ],
    "list_templates": [],
    "get_template": [TemplateNotFound],
    "submit_template": [
        TemplateNotFound,
        InvalidState,
        ChannelMissing,
        HeaderSampleMissing,
        ChannelAppIdMissing,
        *PROVIDER,
    ],
    "delete_template": [TemplateNotFound, *PROVIDER],
    "sync_templates": [ChannelMissing, *PROVIDER],
    "send_v2": [*SEND, *SENDER],
    "send_v1": [*SEND, ContactNotFound],
    "send_template_v1": [*SEND, ContactNotFound],
    "send_bulk": [
        TemplateNotFound,
        TemplateNotApproved,
        TemplateDeleted,
        TemplateNotSendable,
        RecipientsInvalid,
        ChannelMissing,
        *SENDER,
    ],
    "send_free_form": [
        e.InvalidPhoneNumber,
        MediaLinkInvalid,
        MediaTypeMismatch,
        MediaNotFound,
        ReplyToNotFound,
        RecipientOptedOut,
        WindowClosed,
        IdempotencyConflict,
        ChannelMissing,
        ChannelNotFound,
    ],
    "history": [],
    "list_channels": [],
    "get_channel": [ChannelNotFound],
    "set_default_channel": [ChannelNotFound, DefaultTaken],
    "get_message": [MessageNotFound],
    "cancel_message": [MessageNotFound, NotCancellable],
    "bulk_group": [GroupNotFound],
    "upload_media": [MediaTooLarge, UnsupportedMediaType],
    "list_media": [],
    "get_media": [MediaNotFound],
    "get_media_content": [MediaNotFound],
    "delete_media": [MediaNotFound, MediaInUse],
    "list_opt_outs": [],
    "add_opt_out": [e.InvalidPhoneNumber, AlreadyOptedOut],
    "remove_opt_out": [OptOutNotFound],
    "create_secret_key": [SecretKeyNotAllowed],
    "list_secret_keys": [SecretKeyNotAllowed],
    "revoke_secret_key": [SecretKeyNotAllowed, SecretKeyNotFound],
    "create_callback": [CallbackExists],
    "list_callbacks": [],
    "get_callback": [CallbackNotFound],
    "rotate_callback_secret": [CallbackNotFound],
    "delete_callback": [CallbackNotFound],
    "list_deliveries": [CallbackNotFound],
    "list_conversations": [],
    "message_analytics": [InvalidRange, RangeTooLong],
    "conversation_messages": [e.InvalidPhoneNumber, ConversationNotFound],
    "read_conversation": [e.InvalidPhoneNumber, ConversationNotFound, *PROVIDER],
    "channel_health": [ChannelNotFound],
    "verify_subscription": [VerifyTokenMismatch],
    "receive": [SignatureInvalid],
}

DESCRIPTION = """\
Herald serves the Buzzbip WhatsApp API and goes beyond it. Every answer is JSend:
`{"status": "success", "message", "data"}` or `{"status": "error", "message", "code", "data"}`
(`ErrorBody`, declared on every operation for each status it may answer); decide on `code`,
never on the message. A path that is not a route answers 404 `route_not_found` (with the right
spelling in `data.path` when only the trailing slash differs); a known path with another method
answers 405 `method_not_allowed`.

Authenticate with `Authorization: Bearer <token>` from `POST /api/login_check`, or, for shop
plugins, with a secret key: the three headers `x-api-key`, `x-platform-type` and `x-base-uri`
are one credential, always sent together (one or two of them alone is 400
`api_key_headers_incomplete`, even beside a Bearer token, which they take precedence over).
The web console (`/console/`) calls this API with its `herald_session` cookie instead; a request
so authenticated that can change something must also carry the page's `X-CSRF-Token`, or it is
403 `csrf_token_invalid`.
Every authenticated answer carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
`X-RateLimit-Reset`; over the limit, 429 `rate_limited` with `Retry-After`.

Delivery-status *callbacks* are registered at `/api/v2/webhooks` (the contract's path); every
other name of theirs (operation ids, schemas, error codes) says callback. `/webhooks/whatsapp`
is where Meta's own webhooks come in.
"""

_PLUGIN_KEY = (
    "A shop plugin's secret key is three headers sent together: `x-api-key`, "
    "`x-platform-type` and `x-base-uri` (one credential, not three; one or two alone is 400 "
    "`api_key_headers_incomplete`). This header: "
)
SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "apiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": _PLUGIN_KEY + "the secret (`hk_…`).",
    },
    "platformType": {
        "type": "apiKey",
        "in": "header",
        "name": "x-platform-type",
        "description": _PLUGIN_KEY + "the key's platform type.",
    },
    "baseUri": {
        "type": "apiKey",
        "in": "header",
        "name": "x-base-uri",
        "description": _PLUGIN_KEY + "the key's shop address.",
    },
    "consoleSession": {"type": "apiKey", "in": "cookie", "name": "herald_session"},
}
# Alternatives; the plugin key's three schemes in one requirement, since they are one credential.
SECURITY: list[dict[str, list[str]]] = [
    {"bearer": []},
    {"apiKey": [], "platformType": [], "baseUri": []},
    {"consoleSession": []},
]


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


CALLERS = (current_user, sender, reader)  # the dependencies that authenticate a request


def _needs_login(route: APIRoute) -> bool:
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if dependency.call in CALLERS:
            return True
        pending.extend(dependency.dependencies)
    return False


def api_routes(app: FastAPI) -> list[APIRoute]:
    from herald.api import ROUTERS

    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def _error_kinds(route: APIRoute) -> Errors:
    kinds = list(ROUTE_ERRORS.get(route.endpoint.__name__, []))
    kinds += EVERY_ROUTE
    if route.endpoint.__name__ not in WITHOUT_DATABASE:
        kinds.append(e.ServiceUnavailable)
    if _needs_login(route):
        kinds += AUTHENTICATED
    if route.body_field is not None or route.endpoint.__name__ == "upload_media":
        kinds += WITH_BODY
    elif route.dependant.query_params or route.dependant.path_params:
        kinds.append(e.ValidationFailed)
    return kinds


def build_document(app: FastAPI) -> dict[str, Any]:
    routes = api_routes(app)
    schema = get_openapi(
        title=app.title, version=app.version, description=DESCRIPTION, routes=routes
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components["securitySchemes"] = SECURITY_SCHEMES
    for route in routes:
        errors = _responses(_error_kinds(route))
        for method in route.methods or ():
            operation = schema["paths"][route.path_format][method.lower()]
            # A route missing from OPERATION_IDS still gets a document (tests/test_openapi.py
            # fails on it): never a 500 for the whole document.
            operation_id = OPERATION_IDS.get((method, route.path_format), route.name)
            operation["operationId"] = operation_id
            _add_links(operation, LINKS.get(operation_id, {}))
            operation["responses"].pop("422", None)
            for status, response in errors.items():
                operation["responses"].setdefault(status, response)
            if _needs_login(route):
                operation["security"] = SECURITY
    return schema


def _add_links(operation: dict[str, Any], links: dict[str, dict[str, str]]) -> None:
    if not links:
        return
    [success] = [s for s in operation["responses"] if s.startswith("2")]
    operation["responses"][success]["links"] = {
        target: {"operationId": target, "parameters": parameters}
        for target, parameters in links.items()
    }


def install_openapi(app: FastAPI) -> None:
    """``GET /api/openapi.json`` (built once) and ``GET /api/docs``, whose Swagger UI comes from
    the ``fastapi-offline`` package's copy: the page works on a machine without internet."""

    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            app.openapi_schema = build_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.mount(DOCS_ASSETS, StaticFiles(directory=SWAGGER_UI_FILES), name="api-docs-assets")

    @app.get(DOCS, include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI,
            title=f"{app.title} API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        )


def documented_codes(schema: dict[str, Any]) -> set[str]:
    codes: set[str] = set()
    for operations in schema["paths"].values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                examples = response.get("content", {}).get("application/json", {}).get("examples")
                codes.update((examples or {}).keys())
    return codes
