"""Meta's OpenAPI description (v23.0) as a checker of the Graph API requests Herald makes.

``Recorder`` wraps the emulator app at its HTTP edge and keeps every request as it arrived;
``Contract.violations(request)`` finds the spec's operation by method and path template and
checks the request's headers, query and body (JSON or multipart) against the spec's schemas
(``jsonschema``, the spec's ``$ref``s resolved by ``referencing``), and, where the schema is
loose (``type: object`` and examples only), against the shape of the spec's examples.

Where the spec is wrong or silent, the patches below say so, each with its source."""

from __future__ import annotations

import copy
import email.parser
import email.policy
import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import referencing
import referencing.jsonschema
from jsonschema import Draft202012Validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.meta_spec import load_spec, spec_path
from tests.provider.examples import example_violations

SPEC_URI = "urn:meta:business-messaging-api:v23.0"
# Graph API's cursor paging and field selection, which the spec writes out on its list
# operations (e.g. connected_client_businesses) but not on message_templates, whose GET it
# describes with its "default fields" only.
PAGING = {
    "fields": {"type": "string", "pattern": "^[a-z_]+(,[a-z_]+)*$"},
    "limit": {"type": "integer", "minimum": 1, "maximum": 100},
    "after": {"type": "string"},
    "before": {"type": "string"},
}
# Operations outside the OpenAPI file: the Resumable Upload API (whatsapp-cloud-api.md), which
# template creation uses for a media header's example.header_handle.
OUTSIDE_THE_SPEC = (
    re.compile(r"POST /v[0-9.]+/[0-9]+/uploads"),
    re.compile(r"POST /v[0-9.]+/upload:[^/]+"),
    # A media message's file, at the URL ``GET /{Media-ID}`` answered (Meta's lookaside host,
    # not the Graph API): the spec describes only that it takes the access token.
    re.compile(r"GET /whatsapp_business/attachments/"),
)
# Each free-form message type's schema (the spec's ``Message`` discriminator maps to them).
FREE_FORM_SCHEMAS = (
    "TextMessage",
    "ImageMessage",
    "VideoMessage",
    "AudioMessage",
    "DocumentMessage",
    "InteractiveMessage",
)
MESSAGES = "/{Version}/{Phone-Number-ID}/messages"
# Request bodies whose schema is loose (objects of examples): their examples decide too.
LOOSE = {("post", "/{Version}/{WABA-ID}/message_templates")}


@dataclass
class RecordedRequest:
    method: str
    path: str  # below the emulator's mount point
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Recorder:
    """ASGI middleware keeping every HTTP request the wrapped app receives."""

    app: ASGIApp
    requests: list[RecordedRequest] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before its body arrived
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        self.requests.append(
            RecordedRequest(
                method=scope["method"],
                path=scope["path"],
                query=parse_qsl(scope["query_string"].decode(), keep_blank_values=True),
                headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
                body=body,
            )
        )
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _patched(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with its known defects mended (the spec's README names the first)."""
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    for name in ("TemplateComponent", "ButtonComponent"):
        holder = schemas[name] if name == "TemplateComponent" else schemas[name]["allOf"][1]
        # "Position index of the button (0-9)", says the description; the pattern refuses "0".
        holder["properties"]["index"]["pattern"] = "^[0-9]$"
        # The spec's own send examples use "flow" and "CATALOG"; Meta's coupon guide and
        # whatsapp-cloud-api.md "COPY_CODE" (with a coupon_code parameter, added below).
        holder["properties"]["sub_type"]["enum"] += ["flow", "CATALOG", "COPY_CODE"]
    button_parameter = schemas["ButtonParameterObject"]
    button_parameter["properties"]["type"]["enum"].append("coupon_code")
    button_parameter["discriminator"]["mapping"]["coupon_code"] = "#/components/schemas/Coupon"
    schemas["Coupon"] = {
        "allOf": [
            {"$ref": "#/components/schemas/ButtonParameterObject"},
            {
                "type": "object",
                "required": ["coupon_code"],
                "properties": {"coupon_code": {"type": "string", "maxLength": 15}},
            },
        ]
    }
    # A NAMED template's send names the variable each text parameter fills (Meta's template
    # guide, "Named parameters"; spec/whatsapp-cloud-api.md); the OpenAPI file is silent.
    text = schemas["TextParameter"]["allOf"][1]["properties"]
    text["parameter_name"] = {"type": "string", "pattern": "^[a-z_][a-z0-9_]*$"}
    # The free-form messages' schemas close their own part (additionalProperties: false) inside
    # an allOf with BaseMessageProperties: as JSON Schema reads it, that refuses the base's own
    # members (messaging_product, to...) and the biz_opaque_callback_data every send may carry
    # (Meta's "Messages" reference; TemplateMessage, without the flag, takes it). Closed over
    # the whole message instead (unevaluatedProperties).
    for name in FREE_FORM_SCHEMAS:
        own = schemas[name]["allOf"][1]
        own.pop("additionalProperties")
        own["properties"]["biz_opaque_callback_data"] = {"type": "string", "maxLength": 512}
        schemas[name]["unevaluatedProperties"] = False
    # TextMessage leaves the body's length open; TextMessage_1 (the same text elsewhere) and
    # Meta's guide say 4,096 characters.
    schemas["TextMessage"]["allOf"][1]["properties"]["text"]["properties"]["body"]["maxLength"] = (
        schemas["TextMessage_1"]["properties"]["body"]["maxLength"]
    )
    for name, schema in list(schemas.items()):
        if isinstance(schema, dict) and "mapping" in schema.get("discriminator", {}):
            _dispatch(schemas, name, schema)
    return spec


def _dispatch(schemas: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    """OpenAPI's discriminator as plain JSON Schema: the base without it, then an if/then per
    mapped value. The mapped schemas extend the base (allOf) without coming back to it."""
    discriminator = schema.pop("discriminator")
    schema.pop("oneOf", None)
    base_name = f"{name}__base"
    schemas[base_name] = schema
    member, mapping = discriminator["propertyName"], discriminator["mapping"]
    base_ref = f"#/components/schemas/{name}"
    for target in mapping.values():
        child = schemas[target.rsplit("/", 1)[1]]
        for part in child.get("allOf", []):
            if part.get("$ref") == base_ref:
                part["$ref"] = f"#/components/schemas/{base_name}"
    schemas[name] = {
        "allOf": [
            {"$ref": f"#/components/schemas/{base_name}"},
            {"required": [member], "properties": {member: {"enum": list(mapping)}}},
            *(
                {
                    "if": {"properties": {member: {"const": value}}},
                    "then": {"$ref": target},
                }
                for value, target in mapping.items()
            ),
        ]
    }


def _pattern_of(template: str) -> re.Pattern[str]:
    literal = (re.escape(part) for part in re.split(r"\{[^}]+\}", template))
    return re.compile("[^/]+".join(literal))


class Contract:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = _patched(spec)
        resource = referencing.jsonschema.DRAFT202012.create_resource(self.spec)
        self._registry: referencing.Registry[Any] = referencing.Registry().with_resource(
            SPEC_URI, resource
        )
        self._paths = [(_pattern_of(t), t) for t in self.spec["paths"]]

    def operation(
        self, method: str, path: str, query: tuple[str, ...] = ()
    ) -> tuple[str, dict[str, Any]] | None:
        """The spec's path template and operation for a request; the most literal one wins
        (``/{Version}/{WABA-ID}/message_templates`` over ``/{Version}/{Media-ID}/...``), then
        the one that takes the request's query parameters (``/{Version}/{Media-ID}`` over
        ``/{Version}/{Business-ID}`` for ``?phone_number_id=``)."""
        found = [
            template
            for pattern, template in self._paths
            if pattern.fullmatch(path) and method.lower() in self.spec["paths"][template]
        ]
        if not found:
            return None

        def takes_query(template: str) -> bool:
            operation = self.spec["paths"][template][method.lower()]
            listed = [*self.spec["paths"][template].get("parameters", [])]
            listed += operation.get("parameters") or []
            names = {self._resolve(p)["name"] for p in listed}
            return set(query) <= names

        template = max(found, key=lambda t: (len(re.sub(r"\{[^}]+\}", "", t)), takes_query(t)))
        item = self.spec["paths"][template]
        operation = dict(item[method.lower()])
        # The path's parameters apply to each of its operations, which may override them.
        listed = [*item.get("parameters", []), *(operation.get("parameters") or [])]
        merged = [self._resolve(p) for p in listed]
        operation["parameters"] = list({(p["name"], p["in"]): p for p in merged}.values())
        return template, operation

    def violations(self, request: RecordedRequest) -> list[str]:
        """What in ``request`` breaks the spec; empty when nothing does."""
        if any(p.fullmatch(f"{request.method} {request.path}") for p in OUTSIDE_THE_SPEC):
            return []
        names = tuple(name for name, _ in request.query)
        operation = self.operation(request.method, request.path, names)
        if operation is None:
            return [f"{request}: no such operation in Meta's spec"]
        template, spec_operation = operation
        problems = self._parameter_violations(request, spec_operation)
        problems += self._body_violations(request, template, spec_operation)
        return [f"{request} ({template}): {problem}" for problem in problems]

    def _validate(self, instance: Any, schema: dict[str, Any]) -> list[str]:
        validator = Draft202012Validator(_rooted(schema), registry=self._registry)
        found = (
            f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
            for error in validator.iter_errors(instance)
        )
        return list(dict.fromkeys(found))  # one error reached through several branches once

    def _parameter_violations(
        self, request: RecordedRequest, operation: dict[str, Any]
    ) -> list[str]:
        declared: list[dict[str, Any]] = operation["parameters"]
        query = {p["name"]: p["schema"] for p in declared if p["in"] == "query"}
        if request.method == "GET":
            query = {**PAGING, **query}
        problems: list[str] = []
        for name, value in request.query:
            if name not in query:
                problems.append(f"query {name} is not a parameter of this operation")
                continue
            typed: Any = (
                int(value) if query[name].get("type") == "integer" and value.isdigit() else value
            )
            problems += [f"query {name}: {p}" for p in self._validate(typed, query[name])]
        for parameter in declared:
            if parameter["in"] != "header" or parameter["name"] not in (
                "Authorization",
                "Content-Type",
            ):
                continue  # User-Agent's pattern describes Meta's own SDK's string
            value = request.headers.get(parameter["name"].lower())
            if value is None:
                if parameter.get("required"):
                    problems.append(f"header {parameter['name']} is missing")
                continue
            value = value.split(";")[0].strip() if parameter["name"] == "Content-Type" else value
            problems += [
                f"header {parameter['name']}: {p}"
                for p in self._validate(value, parameter["schema"])
            ]
        return problems

    def _body_violations(
        self, request: RecordedRequest, template: str, operation: dict[str, Any]
    ) -> list[str]:
        content = (operation.get("requestBody") or {}).get("content") or {}
        media_type = request.headers.get("content-type", "").split(";")[0].strip()
        if not request.body:
            return []
        if media_type not in content:
            return [f"a {media_type or 'typeless'} body; the spec takes {', '.join(content)}"]
        if media_type == "multipart/form-data":
            return self._multipart_violations(request, content[media_type]["schema"])
        try:
            body = json.loads(request.body)
        except ValueError:
            return ["the body is not JSON"]
        schema = content[media_type]["schema"]
        if template == MESSAGES and isinstance(body, dict) and "status" in body:
            # A read receipt: the spec lists its example under this operation (Send typing
            # indicator and read receipt) but gives its schema apart, unreferenced.
            schema = {"$ref": "#/components/schemas/MarkMessageRequestPayload"}
        problems = self._validate(body, schema)
        if (request.method.lower(), template) in LOOSE:
            examples = [e["value"] for e in content[media_type].get("examples", {}).values()]
            problems += example_violations(body, examples)
        return problems

    def _multipart_violations(self, request: RecordedRequest, schema: dict[str, Any]) -> list[str]:
        head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
        parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
        fields: dict[str, Any] = {}
        problems: list[str] = []
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[str(name)] = "(a file)" if part.get_filename() else part.get_content()
        for name, member in schema.get("properties", {}).items():
            if member.get("format") == "binary" and name in fields and fields[name] != "(a file)":
                problems.append(f"{name} must be a file part")
        return problems + self._validate(fields, schema)

    def _resolve(self, item: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in item:
            resolved = self._registry.resolver().lookup(f"{SPEC_URI}{item['$ref']}").contents
            item = resolved
        return item


def _rooted(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema out of the spec, its local ``$ref``s resolved against the spec's URI."""
    return {"$id": f"{SPEC_URI}-fragment", "allOf": [_rebase(schema)]}


def _rebase(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (f"{SPEC_URI}{v}" if k == "$ref" and str(v).startswith("#") else _rebase(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(item) for item in node]
    return node


@functools.cache
def contract() -> Contract:
    return Contract(load_spec())


def provider_violations(requests: list[RecordedRequest]) -> list[str]:
    """What the Graph API requests among ``requests`` (the control API's left out) break of
    Meta's spec; nothing when the spec is not beside the clone."""
    if spec_path() is None:
        return []
    return [
        violation
        for request in requests
        if not request.path.startswith("/_emulator")
        for violation in contract().violations(request)
    ]
