"""The OpenAPI document is complete: every route, its body and answers, every error code."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import httpx

from herald import errors
from herald.api import ROUTERS
from herald.kit.pagination import MAX_ID
from herald.openapi import ROUTE_ERRORS, documented_codes
from herald.openapi_operations import LINKS, OPERATION_IDS


async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await client.get("/api/openapi.json")
    assert answer.status_code == 200
    schema: dict[str, Any] = answer.json()
    return schema


def herald_error_codes() -> set[str]:
    """Every code Herald can answer with: the HeraldError subclasses of its modules."""
    import herald.app  # noqa: F401 - imports every feature, so every error class exists

    found: set[str] = set()
    pending = [errors.HeraldError]
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        if kind.__module__.startswith("herald.") and "emulator" not in kind.__module__:
            found.add(kind.code)
    # Base classes never raised as such; errors only the operator's command line meets.
    never_over_http = {"bad_request", "unauthenticated", "forbidden", "not_found", "conflict"}
    command_line_only = {
        "phone_number_id_taken",
        "email_taken",
        "user_not_found",
        "webhook_event_not_found",
        "webhook_event_not_set_aside",
        "rate_currency_conflict",  # the rate card is the operator's (herald rates)
        "rate_not_found",
    }
    return found - never_over_http - command_line_only


async def test_every_route_is_documented_with_its_methods(client: httpx.AsyncClient) -> None:
    schema = await openapi(client)
    assert schema["openapi"].startswith("3.1")
    for router in ROUTERS:
        for route in router.routes:
            methods = getattr(route, "methods", None) or ()
            for method in methods:
                path = route.path_format  # type: ignore[attr-defined]
                operation = schema["paths"].get(path, {}).get(method.lower())
                assert operation is not None, f"{method} {path} is missing"
                assert "422" not in operation["responses"]
                successes = [s for s in operation["responses"] if s.startswith("2")]
                assert successes, f"{method} {path} documents no success"


def test_every_route_declares_its_errors() -> None:
    for router in ROUTERS:
        for route in router.routes:
            name = route.endpoint.__name__  # type: ignore[attr-defined]
            assert name in ROUTE_ERRORS, f"{name} ({route.path}) has no entry in ROUTE_ERRORS"  # type: ignore[attr-defined]


async def test_every_error_code_appears_with_an_example(client: httpx.AsyncClient) -> None:
    schema = await openapi(client)
    missing = herald_error_codes() - documented_codes(schema) - {"route_not_found"}
    assert not missing, f"codes not in the OpenAPI document: {sorted(missing)}"
    assert "route_not_found" in schema["info"]["description"]


async def test_bodies_answers_security_and_examples(client: httpx.AsyncClient) -> None:
    schema = await openapi(client)
    send = schema["paths"]["/api/v2/whatsapp/templates/{template_id}/send"]["post"]
    body_ref = send["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert body["examples"][0] == {
        "to": "21696816277",
        "country_code": "TN",
        "body_params": ["Sam", "ORD-2026-00041"],
    }
    errors_400 = send["responses"]["400"]["content"]["application/json"]["examples"]
    assert errors_400["body_params_mismatch"]["value"]["code"] == "body_params_mismatch"
    assert {"bearer": []} in send["security"]
    upload = schema["paths"]["/api/v2/whatsapp/media"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "413" in upload["responses"]
    assert "415" in upload["responses"]
    login = schema["paths"]["/api/login_check"]["post"]
    assert "security" not in login


async def test_the_history_documents_paging_by_id(client: httpx.AsyncClient) -> None:
    schema = await openapi(client)
    history = schema["paths"]["/api/whatsapp/"]["get"]
    [before_id] = [p for p in history["parameters"] if p["name"] == "before_id"]
    assert (before_id["in"], before_id["required"]) == ("query", False)
    assert {"type": "integer", "minimum": 1, "maximum": MAX_ID} in before_id["schema"]["anyOf"]
    assert "next_before_id" in before_id["description"]
    answer = history["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schemas = schema["components"]["schemas"]
    page = schemas[schemas[answer.rsplit("/", 1)[1]]["properties"]["data"]["$ref"].split("/")[-1]]
    pagination = schemas[page["properties"]["pagination"]["$ref"].split("/")[-1]]
    assert set(pagination["required"]) == {"page", "limit", "total", "pages", "next_before_id"}
    for nullable in ("page", "next_before_id"):
        assert {"type": "null"} in pagination["properties"][nullable]["anyOf"]
    # The other lists keep the contract's pagination.
    contacts = schema["paths"]["/api/contacts/"]["get"]
    assert "before_id" not in {p["name"] for p in contacts["parameters"]}


async def test_the_docs_page_is_served_with_its_assets_from_herald_itself(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/api/docs")
    assert answer.status_code == 200
    assert "/api/openapi.json" in answer.text
    # Nothing from elsewhere: the page works on a machine without internet.
    assert not re.findall(r"(?:src|href)=[\"']?(?:https?:)?//", answer.text), answer.text
    assets = re.findall(r"(?:src|href)=[\"']?(/[^\"'>\s]+)", answer.text)
    assert {Path(a).name for a in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css"}
    for asset in assets:
        served = await client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 1000, asset
    bundle = await client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert "javascript" in bundle.headers["content-type"]
    # Swagger UI 5 is the first to render OpenAPI 3.1.
    assert re.search(rb'"5\.\d+\.\d+"', bundle.content)


async def test_operation_ids_are_short_stable_and_unique(client: httpx.AsyncClient) -> None:
    schema = await openapi(client)
    found = {
        (method.upper(), path): operation["operationId"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    assert found == OPERATION_IDS
    assert len(set(found.values())) == len(found)
    assert found[("POST", "/api/v2/whatsapp/templates")] == "templates_create"
    assert found[("POST", "/api/v2/whatsapp/templates/{template_id}/send")] == "messages_send"
    assert all(re.fullmatch(r"[a-z0-9_]{1,32}", op) for op in found.values()), found


async def test_callbacks_are_called_callbacks_everywhere_but_in_the_contract_path(
    client: httpx.AsyncClient,
) -> None:
    schema = await openapi(client)
    for method, operation in schema["paths"]["/api/v2/webhooks"].items():
        assert operation["operationId"].startswith("callbacks_"), method
        assert operation["tags"] == ["callbacks"]
    for operation in schema["paths"]["/api/v2/webhooks/{callback_id}"].values():
        assert operation["operationId"].startswith("callbacks_")
        assert "callback_not_found" in operation["responses"]["404"]["description"]
    names = set(schema["components"]["schemas"]) | {
        op["operationId"] for ops in schema["paths"].values() for op in ops.values()
    }
    assert not [n for n in names if "webhook" in n.lower() and not n.startswith("meta_webhook")]


async def test_every_operation_declares_the_jsend_error_body(client: httpx.AsyncClient) -> None:
    schema = await openapi(client)
    error_body = schema["components"]["schemas"]["ErrorBody"]
    assert set(error_body["required"]) == {"status", "message", "code", "data"}
    assert error_body["properties"]["status"] == {
        "const": "error",
        "title": "Status",
        "type": "string",
    }
    # A union member without its items made openapi-python-client drop the schema.
    assert {"items": {}, "type": "array"} in error_body["properties"]["data"]["anyOf"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            errors = [s for s in operation["responses"] if s[0] in "45"]
            assert "500" in errors, (method, path)
            assert ("503" in errors) is (path != "/healthz"), (method, path)
            for status in errors:
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}


async def test_every_route_that_authenticates_declares_its_security_and_401(
    client: httpx.AsyncClient,
) -> None:
    schema = await openapi(client)
    history = schema["paths"]["/api/whatsapp/"]["get"]  # authenticates its own way (``reader``)
    assert {"bearer": []} in history["security"]
    assert "token_missing" in history["responses"]["401"]["content"]["application/json"]["examples"]
    plugin = {"apiKey": [], "platformType": [], "baseUri": []}
    assert plugin in history["security"]  # one credential: the three headers together
    for name in plugin:
        scheme = schema["components"]["securitySchemes"][name]
        assert "api_key_headers_incomplete" in scheme["description"], name


async def test_created_objects_link_to_the_operations_that_take_their_id(
    client: httpx.AsyncClient,
) -> None:
    schema = await openapi(client)
    by_id = {
        op["operationId"]: (path, op)
        for path, ops in schema["paths"].items()
        for op in ops.values()
    }
    assert set(LINKS) <= set(by_id)
    for source, targets in LINKS.items():
        _, operation = by_id[source]
        [success] = [s for s in operation["responses"] if s.startswith("2")]
        links = operation["responses"][success]["links"]
        assert set(links) == set(targets)
        for target, link in links.items():
            path, _ = by_id[link["operationId"]]
            for parameter in link["parameters"]:
                assert "{" + parameter + "}" in path, (source, target, parameter)


def test_route_errors_names_only_real_routes() -> None:
    names = {r.endpoint.__name__ for router in ROUTERS for r in router.routes}  # type: ignore[attr-defined]
    assert set(ROUTE_ERRORS) <= names, set(ROUTE_ERRORS) - names
    assert inspect.isfunction(herald_error_codes)
