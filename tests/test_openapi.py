"""The OpenAPI document is complete: every route, its body and answers, every error code."""

from __future__ import annotations

import inspect
from typing import Any

import httpx

from herald import errors
from herald.api import ROUTERS
from herald.kit.pagination import MAX_ID
from herald.openapi import ROUTE_ERRORS, documented_codes


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
        "channel_exists",
        "channel_not_found",
        "phone_number_id_taken",
        "email_taken",
        "user_not_found",
    }
    return found - never_over_http - command_line_only


async def test_every_route_is_documented_with_its_methods(client: httpx.AsyncClient) -> None:
    schema = await openapi(client)
    assert schema["openapi"].startswith("3.1")
    for router in ROUTERS:
        for route in router.routes:
            methods = getattr(route, "methods", None) or ()
            for method in methods:
                operation = schema["paths"].get(route.path, {}).get(method.lower())  # type: ignore[attr-defined]
                assert operation is not None, f"{method} {route.path} is missing"  # type: ignore[attr-defined]
                assert "422" not in operation["responses"]
                successes = [s for s in operation["responses"] if s.startswith("2")]
                assert successes, f"{method} {route.path} documents no success"  # type: ignore[attr-defined]


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


async def test_the_docs_page_is_served(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/docs")
    assert answer.status_code == 200
    assert "/api/openapi.json" in answer.text


def test_route_errors_names_only_real_routes() -> None:
    names = {r.endpoint.__name__ for router in ROUTERS for r in router.routes}  # type: ignore[attr-defined]
    assert set(ROUTE_ERRORS) <= names, set(ROUTE_ERRORS) - names
    assert inspect.isfunction(herald_error_codes)
