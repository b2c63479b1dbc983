"""Hostile input: shared checks and fixtures.

``settings`` is overridden here with budgets large enough that property tests and fuzzing are
not answered 429 after their first hundred requests (the limits have tests of their own).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from structlog.dev import plain_traceback

from herald.config import Settings
from tests.conftest import EMULATOR_APP_SECRET, DatabaseUnderTest, make_settings

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
UNLIMITED = {
    "rate_limit_burst": 1_000_000,
    "rate_limit_per_second": 1_000_000.0,
    "login_requests_per_address": "100000/second",
}


@pytest.fixture(scope="module", autouse=True)
def plain_tracebacks() -> Iterator[None]:
    """Hostile input provokes the known 500s; structlog's default console renderer draws each
    traceback with rich and every local variable (seconds apiece). Herald's own console format
    uses plain tracebacks: the same here, for these tests only."""
    saved = structlog.get_config()
    processors = [
        structlog.dev.ConsoleRenderer(colors=False, exception_formatter=plain_traceback)
        if isinstance(p, structlog.dev.ConsoleRenderer)
        else p
        for p in saved["processors"]
    ]
    structlog.configure(processors=processors)
    try:
        yield
    finally:
        structlog.configure(**saved)


@pytest.fixture
def settings(db: DatabaseUnderTest, data_dir: Path) -> Settings:
    return make_settings(db, data_dir, **UNLIMITED)


def jsend_problem(
    answer: httpx.Response, *, extra_success_keys: frozenset[str] = frozenset()
) -> str:
    """What is wrong with ``answer`` as a Herald answer to bad input ('' when nothing is).

    A JSON body that is a JSend envelope: success (2xx) ``{status, message, data}`` or error
    (4xx) ``{status, message, code, data}`` with a snake_case code and an object or list as data.
    Any 5xx is a problem: bad input must never look like a server failure.
    """
    where = f"{answer.request.method} {answer.request.url.path} → {answer.status_code}"
    if answer.status_code >= 500:
        return f"{where}: a server error for client input: {answer.text[:500]}"
    if not answer.headers.get("content-type", "").startswith("application/json"):
        return f"{where}: content-type {answer.headers.get('content-type')!r}, not JSON"
    try:
        body: Any = answer.json()
    except ValueError:
        return f"{where}: the body is not JSON: {answer.text[:200]!r}"
    if not isinstance(body, dict):
        return f"{where}: the body is not an object: {body!r:.200}"
    if not isinstance(body.get("message"), str):
        return f"{where}: message is not a string: {body!r:.300}"
    if body.get("status") == "success":
        if not 200 <= answer.status_code < 300:
            return f"{where}: success with a non-2xx status"
        if "data" not in body:
            return f"{where}: success without data"
        unexpected = set(body) - {"status", "message", "data"} - extra_success_keys
        return f"{where}: unexpected keys {sorted(unexpected)}" if unexpected else ""
    if body.get("status") == "error":
        if not 400 <= answer.status_code < 500:
            return f"{where}: error body with status {answer.status_code}"
        if set(body) != {"status", "message", "code", "data"}:
            return f"{where}: error keys are {sorted(body)}"
        if not body["message"]:
            return f"{where}: empty message"
        if not isinstance(body["code"], str) or not SNAKE_CASE.match(body["code"]):
            return f"{where}: code {body['code']!r} is not snake_case"
        if not isinstance(body["data"], dict | list):
            return f"{where}: data is {type(body['data']).__name__}"
        return ""
    return f"{where}: status is {body.get('status')!r}"


def assert_jsend(answer: httpx.Response) -> dict[str, Any]:
    """The answer is a JSend envelope and not a 5xx; returns the body."""
    problem = jsend_problem(answer)
    assert not problem, problem
    body: dict[str, Any] = answer.json()
    return body


def assert_client_error(answer: httpx.Response, *codes: str) -> dict[str, Any]:
    """A 4xx JSend error whose code is one of ``codes``; returns the body."""
    body = assert_jsend(answer)
    assert body["status"] == "error", body
    assert 400 <= answer.status_code < 500, answer.text
    assert body["code"] in codes, body
    return body


def meta_signature(body: bytes, secret: str = EMULATOR_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def xfail_on_postgresql(request: pytest.FixtureRequest, db: DatabaseUnderTest, bug: str) -> None:
    """A bug that only PostgreSQL shows: strict xfail there, a plain pass on SQLite."""
    if db.kind == "postgresql":
        request.applymarker(pytest.mark.xfail(strict=True, reason=bug))
