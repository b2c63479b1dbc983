"""docs/api.md's curl examples against the live OpenAPI document: every operation has one, and
each example's JSON body, form fields, query parameters and credentials are what its operation
takes, so the page cannot drift from the API."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from jsonschema import Draft202012Validator

from herald.openapi_operations import OPERATION_IDS
from herald.template.rules import check_template
from herald.template.schemas import TemplateCreate
from tests.test_openapi import openapi

API_DOC = Path(__file__).parents[1] / "docs" / "api.md"
HOST = "http://127.0.0.1:8080"
# Options the examples use, with their argument; any other option fails the parse, so that an
# example written with a new one is read right or not at all.
_WITH_VALUE = {"-X", "--request", "-H", "--header", "-d", "--data", "-F", "--form"}
_FLAGS = {"-s", "-i", "-sS", "--silent", "--include"}
# Meta's own payload, verified by signature rather than by a schema of Herald's.
_BODY_NOT_DESCRIBED = {("POST", "/webhooks/whatsapp")}
# Routes a caller reaches without Herald's credentials.
_NO_CREDENTIALS = {"/healthz", "/readyz", "/metrics", "/api/login_check", "/webhooks/whatsapp"}


@dataclass
class CurlExample:
    line: int
    url: str = ""
    method: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    form: list[str] = field(default_factory=list)

    @property
    def verb(self) -> str:
        return self.method or ("POST" if self.body is not None or self.form else "GET")

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.url).query, keep_blank_values=True)

    def __str__(self) -> str:
        return f"docs/api.md line {self.line}: {self.verb} {self.path}"


def _commands(block: str) -> Iterator[tuple[int, str]]:
    """The block's shell commands, each with its first line's offset in the block: split at line
    ends outside quotes (a quoted body may span lines) and not continued by a backslash."""
    quote: str | None = None
    comment = False
    start = 0
    for at, char in enumerate(block):
        if quote:
            quote = None if char == quote else quote
        elif comment:  # quotes in a comment ("# Ana's") open nothing
            comment = char != "\n"
        elif char == "#" and block[at - 1 : at] in ("", " ", "\n"):
            comment = True
        elif char in "'\"":
            quote = char
        if char == "\n" and not quote and block[at - 1 : at] != "\\":
            yield block.count("\n", 0, start), block[start:at].replace("\\\n", " ")
            start = at + 1
    yield block.count("\n", 0, start), block[start:].replace("\\\n", " ")


def _parse(words: list[str], line: int) -> CurlExample:
    example = CurlExample(line)
    options = iter(words[1:])
    for word in options:
        if word in _FLAGS:
            continue
        if word in _WITH_VALUE:
            value = next(options)
            if word in ("-X", "--request"):
                example.method = value
            elif word in ("-H", "--header"):
                name, _, content = value.partition(":")
                example.headers[name.strip().lower()] = content.strip()
            elif word in ("-d", "--data"):
                example.body = value
            else:
                example.form.append(value.partition("=")[0])
        elif word.startswith(HOST):
            example.url = word
        else:
            raise AssertionError(f"docs/api.md line {line}: curl option {word!r} not understood")
    assert example.url, f"docs/api.md line {line}: a curl example without {HOST}"
    return example


def curl_examples() -> list[CurlExample]:
    text = API_DOC.read_text(encoding="utf-8")
    found = []
    for block in re.finditer(r"```sh\n(.*?)```", text, re.DOTALL):
        first_line = text.count("\n", 0, block.start(1)) + 1
        for offset, command in _commands(block.group(1)):
            words = shlex.split(command, comments=True)
            if words and words[0] == "curl":
                found.append(_parse(words, first_line + offset))
    return found


def _template(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")


def operation_path(example: CurlExample, paths: list[str]) -> str | None:
    """The documented path the example's URL is, a literal one before one with parameters
    (``/api/whatsapp/templates/`` is the template list, not a message's id)."""
    matching = [p for p in paths if _template(p).match(example.path)]
    return min(matching, key=lambda p: p.count("{"), default=None)


def test_the_examples_are_read() -> None:
    examples = curl_examples()
    assert len(examples) >= len(OPERATION_IDS)
    bodies = [e for e in examples if e.body is not None]
    assert len(bodies) > 15
    send = next(e for e in examples if e.path.endswith("/send") and e.body and "buttons" in e.body)
    assert send.verb == "POST"
    assert send.headers["authorization"] == "Bearer $TOKEN"


def test_every_operation_has_a_curl_example() -> None:
    examples = curl_examples()
    routes = sorted({path for _, path in OPERATION_IDS})
    shown = {(e.verb, operation_path(e, routes)) for e in examples}
    missing = [f"{method} {path}" for method, path in OPERATION_IDS if (method, path) not in shown]
    assert missing == [], "docs/api.md has no curl example for these"


def _checked_body(
    example: CurlExample, operation: dict[str, Any], doc: dict[str, Any]
) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {})
    if example.form:
        schema = content.get("multipart/form-data", {}).get("schema")
        if schema is None:
            return [f"{example}: a form the operation does not take"]
        unknown = sorted(set(example.form) - set(schema["properties"]))
        absent = sorted(set(schema.get("required", [])) - set(example.form))
        if unknown or absent:
            return [f"{example}: form fields {unknown} unknown, {absent} missing"]
        return []
    if example.body is None:
        if operation.get("requestBody", {}).get("required"):
            return [f"{example}: the operation needs a body"]
        return []
    try:
        body = json.loads(example.body)
    except json.JSONDecodeError as exc:
        return [f"{example}: the body is not JSON ({exc})"]
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return [f"{example}: a JSON body the operation does not take"]
    validator = Draft202012Validator(
        {**schema, "components": doc["components"]},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    problems = []
    for error in validator.iter_errors(body):
        # Under an anyOf (a field that may be null), the branch that went deepest says why.
        reason = max(error.context, key=lambda e: len(e.absolute_path), default=error)
        where = ".".join(map(str, reason.absolute_path)) or "body"
        problems.append(f"{example}: {where}: {reason.message}")
    return problems


def _checked_json(example: CurlExample) -> list[str]:
    try:
        json.loads(example.body or "{}")
    except json.JSONDecodeError as exc:
        return [f"{example}: the body is not JSON ({exc})"]
    return []


def _checked_query(example: CurlExample, operation: dict[str, Any]) -> list[str]:
    taken = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    unknown = sorted({name for name, _ in example.query} - taken)
    return [f"{example}: query parameters {unknown} unknown"] if unknown else []


def _checked_credentials(example: CurlExample, path: str) -> list[str]:
    if path in _NO_CREDENTIALS or not path.startswith("/api/"):
        return []
    if example.headers.get("authorization") == "Bearer $TOKEN" or "x-api-key" in example.headers:
        return []
    return [f'{example}: no -H "Authorization: Bearer $TOKEN"']


async def test_every_example_is_what_its_operation_takes(client: httpx.AsyncClient) -> None:
    doc = await openapi(client)
    paths = list(doc["paths"])
    problems: list[str] = []
    for example in curl_examples():
        path = operation_path(example, paths)
        operation = doc["paths"].get(path, {}).get(example.verb.lower()) if path else None
        if path is None or operation is None:
            problems.append(f"{example}: no such operation in the OpenAPI document")
            continue
        if (example.verb, path) in _BODY_NOT_DESCRIBED:
            problems += _checked_json(example)
        else:
            problems += _checked_body(example, operation, doc)
        problems += _checked_query(example, operation)
        problems += _checked_credentials(example, path)
    assert problems == []


def test_the_template_examples_pass_the_template_rules() -> None:
    """Beyond the schema: each template created in the examples passes Herald's template rules
    (placeholders in sequence, button samples, AUTHENTICATION options)."""
    created = [
        e
        for e in curl_examples()
        if e.verb == "POST" and e.path.rstrip("/").endswith("/templates") and e.body
    ]
    assert len(created) >= 4
    for example in created:
        check_template(TemplateCreate.model_validate_json(example.body or ""))
