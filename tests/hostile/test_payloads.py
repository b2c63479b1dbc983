"""Malformed, oversized and deeply nested JSON; unicode and huge values in every text field;
multipart edge cases on the upload route. Every answer is JSend and never a 5xx."""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from herald.config import Settings
from herald.kit.clock import FrozenClock
from herald.models import Template, User
from tests.conftest import DatabaseUnderTest, count_rows
from tests.hostile.conftest import (
    assert_client_error,
    assert_jsend,
    jsend_problem,
)
from tests.media import files
from tests.message.helpers import approved_template

JSON = {"Content-Type": "application/json"}
MIB = 1024 * 1024
CONTACT = {"number": "21696816277", "country_code": "TN"}
TEMPLATE = {"name": "hostile", "language": "en", "category": "UTILITY", "body": "Hi {{1}}"}

# Routes taking a JSON object, and whether they need a login.
JSON_ROUTES = [
    ("POST", "/api/login_check", False),
    ("POST", "/api/contacts/", True),
    ("PUT", "/api/user/", True),
    ("POST", "/api/v2/whatsapp/templates", True),
    ("POST", "/api/v2/opt-outs", True),
    ("POST", "/api/v2/webhooks", True),
    ("POST", "/api/v2/secret-keys", True),
    ("POST", "/api/whatsapp/", True),
]
ROUTE_IDS = [f"{method} {path}" for method, path, _ in JSON_ROUTES]


def _headers(auth: dict[str, str], needs_login: bool) -> dict[str, str]:
    return {**(auth if needs_login else {}), **JSON}


# --- malformed JSON ----------------------------------------------------------------------------

MALFORMED = {
    "truncated": b'{"number": "2169',
    "truncated_after_key": b'{"number": ',
    "trailing_garbage": b'{"number": "21696816277"} trailing',
    "two_documents": b"{}{}",
    "single_quotes": b"{'number': '1'}",
    "trailing_comma": b'{"number": "1",}',
    "comment": b'{"number": "1" /* x */}',
    "unquoted_key": b"{number: 1}",
    "nan": b'{"number": NaN, "country_code": "TN"}',
    "infinity": b'{"number": "1", "country_code": "TN", "tags": [Infinity, -Infinity]}',
    "control_char_in_string": b'{"number": "1\x01", "country_code": "TN"}',
    "bad_escape": b'{"number": "\\x41"}',
    "lone_surrogate_escape": b'{"number": "\\ud800", "country_code": "TN"}',
    "reversed_surrogates": b'{"number": "\\udc00\\ud800", "country_code": "TN"}',
    "array": b"[1, 2]",
    "string": b'"text"',
    "number": b"42",
    "true": b"true",
    "null": b"null",
    "empty": b"",
    "whitespace": b" \n\t ",
}


def client_error_problem(answer: httpx.Response, *codes: str) -> str:
    """'' when the answer is a 4xx JSend error with one of ``codes``; else what is wrong."""
    problem = jsend_problem(answer)
    if problem:
        return problem
    body = answer.json()
    if body["status"] != "error" or body["code"] not in codes:
        return f"{answer.status_code} {body.get('code')}: {answer.text[:300]}"
    return ""


@pytest.mark.parametrize(("method", "path", "needs_login"), JSON_ROUTES, ids=ROUTE_IDS)
async def test_malformed_json_is_a_400(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    method: str,
    path: str,
    needs_login: bool,
) -> None:
    failures = []
    for name, body in MALFORMED.items():
        headers = _headers(auth, needs_login)
        answer = await client.request(method, path, content=body, headers=headers)
        problem = client_error_problem(answer, "malformed_json", "validation_failed")
        if problem or answer.status_code != 400:
            failures.append(f"{name}: {problem or answer.status_code}")
    assert not failures, "\n".join(failures)
    assert await count_rows(db, "contacts") == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"number": "\xff\xfe", "country_code": "TN"}',
        b"\xff" * 10,
        b'{"tags": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"number": 1' + b"0" * 5000 + b', "country_code": "TN"}',
    ],
    ids=["invalid_utf8_in_a_string", "invalid_utf8_only", "deep_nesting", "5000_digit_integer"],
)
async def test_bodies_the_decoder_gives_up_on_are_malformed_json_or_validation_failed(
    client: httpx.AsyncClient, auth: dict[str, str], body: bytes
) -> None:
    answer = await client.post("/api/contacts/", content=body, headers={**auth, **JSON})
    assert_client_error(answer, "malformed_json", "validation_failed")


@pytest.mark.xfail(
    strict=True,
    reason="duplicate keys are accepted and the last one wins; a proxy or WAF reading the "
    "first value sees another request than Herald does",
)
async def test_duplicate_keys_are_refused(
    client: httpx.AsyncClient, auth: dict[str, str], db: DatabaseUnderTest
) -> None:
    body = b'{"number": "21696816277", "number": "21696816278", "country_code": "TN"}'
    answer = await client.post("/api/contacts/", content=body, headers={**auth, **JSON})
    assert_client_error(answer, "malformed_json", "validation_failed")
    assert await count_rows(db, "contacts") == 0


async def test_a_duplicate_key_never_causes_a_server_error(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """Whatever the decision on duplicates, the answer is a JSend 2xx or 4xx."""
    body = b'{"number": "21696816277", "country_code": "TN", "country_code": null}'
    answer = await client.post("/api/contacts/", content=body, headers={**auth, **JSON})
    assert_jsend(answer)


# --- oversized ---------------------------------------------------------------------------------

BODY_ROUTES = [*JSON_ROUTES, ("POST", "/webhooks/whatsapp", False)]


def _oversized() -> bytes:
    return b'{"firstname": "' + b"a" * MIB + b'", "number": "1", "country_code": "TN"}'


async def _chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("framing", ["content_length", "chunked"])
async def test_a_body_over_1_mib_is_413(
    client: httpx.AsyncClient, auth: dict[str, str], db: DatabaseUnderTest, framing: str
) -> None:
    body = _oversized()
    failures = []
    for method, path, needs_login in BODY_ROUTES:
        content = body if framing == "content_length" else _chunks(body)
        answer = await client.request(
            method, path, content=content, headers=_headers(auth, needs_login), timeout=30
        )
        if framing == "chunked":
            assert "content-length" not in answer.request.headers
        problem = client_error_problem(answer, "payload_too_large")
        if problem or answer.status_code != 413:
            failures.append(f"{method} {path}: {problem or answer.status_code}")
    assert not failures, "\n".join(failures)
    assert await count_rows(db, "contacts") == 0
    assert await count_rows(db, "webhook_events") == 0


async def test_a_lying_content_length_is_not_trusted(
    client: httpx.AsyncClient, auth: dict[str, str], db: DatabaseUnderTest
) -> None:
    """A small declared length in front of a large chunked stream: counted as it arrives."""
    headers = {**auth, **JSON, "Content-Length": "100"}
    answer = await client.post("/api/contacts/", content=_chunks(_oversized()), headers=headers)
    assert answer.status_code in (400, 413), answer.text
    assert_jsend(answer)
    assert await count_rows(db, "contacts") == 0


async def test_a_body_just_under_1_mib_is_read(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = b'{"firstname": "' + b"a" * (MIB - 100) + b'", "number": "1", "country_code": "TN"}'
    answer = await client.post("/api/contacts/", content=body, headers={**auth, **JSON})
    assert_client_error(answer, "validation_failed")  # a name too long: read, then refused


# --- deeply nested -----------------------------------------------------------------------------

DEPTH = 100_000
NESTED = {
    "lists": b"[" * DEPTH + b"]" * DEPTH,
    "objects": b'{"a":' * DEPTH + b"1" + b"}" * DEPTH,
    "lists_in_a_field": b'{"number": "1", "country_code": "TN", "tags": '
    + b"[" * DEPTH
    + b"]" * DEPTH
    + b"}",
    "objects_in_a_field": b'{"body_params": ' + b'{"a":' * DEPTH + b"1" + b"}" * DEPTH + b"}",
    "unclosed": b"[" * DEPTH,
}


@pytest.mark.parametrize("body", NESTED.values(), ids=NESTED.keys())
async def test_deep_nesting_is_a_4xx(
    client: httpx.AsyncClient, auth: dict[str, str], body: bytes
) -> None:
    failures = []
    for method, path, needs_login in BODY_ROUTES:
        headers = _headers(auth, needs_login)
        # Not a speed check (those live in bench/): the timeout only turns a parser stuck
        # in the nesting into a failure instead of a hung suite.
        answer = await client.request(method, path, content=body, headers=headers, timeout=30)
        problem = jsend_problem(answer)
        if problem or not 400 <= answer.status_code < 500:
            failures.append(f"{method} {path}: {problem or answer.status_code}")
    assert not failures, "\n".join(failures)


# --- unicode edge cases and huge values in every text field ------------------------------------

NASTY = {
    "rtl_marks": "\u200f\u202eevil\u202c\u200e",
    "bidi_isolates": "\u2066x\u2069\u2067y\u2069",
    "zero_width": "a\u200b\u200c\u200d\ufeffb",
    "emoji_zwj": "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "flags": "\U0001f1f9\U0001f1f3",
    "combining": "e\u0301\u0301\u0301\u0301",
    "astral_max": "\U0010ffff",
    "noncharacters": "\ufffe\uffff",
    "line_separators": "a\u2028b\u2029c",
    "c1_controls": "\x85\x9b",
    "sql": "'; DROP TABLE contacts; --",
    "like_wildcards": "%_%\\",
    "arabic_ligature": "\ufdfd" * 20,
    "html": "<script>alert(1)</script>",
    "escaped_pair": "\U0001d11e",  # sent as the escaped surrogate pair \ud834\udd1e
}


def _fit(value: str, length: int) -> str:
    """``value`` between letters, cut to ``length``: whitespace stripping leaves it unchanged."""
    return ("x" + value)[: length - 1] + "x"


@pytest.mark.parametrize("field", ["firstname", "lastname", "tags"])
async def test_unicode_in_contact_fields_round_trips(
    client: httpx.AsyncClient, auth: dict[str, str], field: str
) -> None:
    failures = []
    for index, (name, nasty) in enumerate(NASTY.items()):
        value: Any = _fit(nasty, 50)
        value = [value] if field == "tags" else value
        payload = {"number": f"21696816{index:03d}", "country_code": "TN", field: value}
        created = await client.post("/api/contacts/", json=payload, headers=auth)
        problem = jsend_problem(created)
        if problem or created.status_code != 201:
            failures.append(f"{name}: {problem or created.text[:300]}")
            continue
        contact_id = created.json()["data"]["id"]
        stored = (await client.get(f"/api/contacts/{contact_id}/", headers=auth)).json()["data"]
        if stored != created.json()["data"] or stored[field] != value:
            failures.append(f"{name}: stored {stored[field]!r}, sent {value!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("field", ["number", "country_code", "email"])
async def test_unicode_in_contact_keys_is_refused_or_normalised(
    client: httpx.AsyncClient, auth: dict[str, str], field: str
) -> None:
    failures = []
    for name, nasty in NASTY.items():
        answer = await client.post("/api/contacts/", json={**CONTACT, field: nasty}, headers=auth)
        problem = jsend_problem(answer)
        if problem:
            failures.append(f"{name}: {problem}")
        elif answer.status_code == 201 and not answer.json()["data"]["number"].isdigit():
            failures.append(f"{name}: stored number {answer.json()['data']['number']!r}")
    assert not failures, "\n".join(failures)


def _template_payload(field: str, nasty: str, index: int) -> dict[str, Any]:
    payload: dict[str, Any] = {
        **TEMPLATE,
        "name": f"hostile_{index}",
        "body": f"Hi {{{{1}}}} {_fit(nasty, 200)}",
    }
    if field == "footer":
        payload["footer"] = _fit(nasty, 60)
    elif field == "header":
        payload["header"] = {"format": "TEXT", "text": _fit(nasty, 60)}
    elif field == "button_text":
        payload["buttons"] = [{"type": "QUICK_REPLY", "text": _fit(nasty, 25)}]
    elif field == "button_url":
        payload["buttons"] = [{"type": "URL", "text": "Go", "url": f"https://a.example/{nasty}"}]
    return payload


@pytest.mark.parametrize("field", ["body", "footer", "header", "button_text", "button_url"])
async def test_unicode_in_template_fields_round_trips(
    client: httpx.AsyncClient, auth: dict[str, str], field: str
) -> None:
    failures = []
    for index, (name, nasty) in enumerate(NASTY.items()):
        payload = _template_payload(field, nasty, index)
        created = await client.post("/api/v2/whatsapp/templates", json=payload, headers=auth)
        problem = jsend_problem(created)
        if problem:
            failures.append(f"{name}: {problem}")
            continue
        if created.status_code != 201:
            continue  # refused by a rule (a URL with a space, say): a 400 is a fine answer
        template_id = created.json()["data"]["id"]
        path = f"/api/v2/whatsapp/templates/{template_id}"
        stored = (await client.get(path, headers=auth)).json()["data"]
        sent = {k: payload[k] for k in ("body", "footer", "header", "buttons") if k in payload}
        shown = {k: stored[k] for k in sent}
        if field.startswith("button"):
            shown["buttons"] = [
                {k: v for k, v in b.items() if v is not None} for b in shown["buttons"]
            ]
        if field == "header":  # the answer also names the header's (absent) samples
            shown["header"] = {k: v for k, v in shown["header"].items() if v is not None}
        if stored != created.json()["data"] or shown != sent or stored["placeholder_count"] != 1:
            failures.append(f"{name}: stored {shown!r}, sent {sent!r}")
    assert not failures, "\n".join(failures)


@pytest.fixture
async def order_template(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> Template:
    return await approved_template(db, ana, settings, clock.now())


SEND_FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "to": lambda v: {"to": v},
    "country_code": lambda v: {"country_code": v},
    "body_params": lambda v: {"body_params": [_fit(v, 100), "A1"]},
    "idempotency_key": lambda v: {"idempotency_key": _fit(v, 100)},
    "otp_code": lambda v: {"otp_code": v},
    "button_value": lambda v: {"buttons": [{"index": 0, "sub_type": "url", "value": v}]},
}


@pytest.mark.parametrize("field", SEND_FIELDS.keys())
async def test_unicode_in_send_fields_is_never_a_server_error(
    client: httpx.AsyncClient, auth: dict[str, str], order_template: Template, field: str
) -> None:
    failures = []
    for name, nasty in NASTY.items():
        payload = {"to": "21696816277", "country_code": "TN", "body_params": ["Sam", "A1"]}
        payload |= SEND_FIELDS[field](nasty)
        url = f"/api/v2/whatsapp/templates/{order_template.id}/send"
        answer = await client.post(url, json=payload, headers=auth)
        problem = jsend_problem(answer)
        if problem:
            failures.append(f"{name}: {problem}")
        elif answer.status_code == 202:
            message = answer.json()["data"]["message"]
            stored = await client.get(f"/api/whatsapp/{message['id']}/", headers=auth)
            if stored.json()["data"] != message:
                failures.append(f"{name}: stored {stored.json()['data']!r}")
    assert not failures, "\n".join(failures)


HUGE_VALUES: dict[str, Any] = {
    "int_2_63": 2**63,
    "int_below_int64": -(2**63) - 1,
    "int_10_30": 10**30,
    "float_1e308": 1e308,
    "negative_zero": -0.0,
    "long_string": "a" * 200_000,
    "deep_list": [[[[[[[[[[[]]]]]]]]]]],
    "many_items": ["a"] * 20_000,
    "object": {"a": 1},
    "bool": True,
}
SIGNUPS: dict[str, dict[str, Any]] = {
    "/api/contacts/": dict(CONTACT),
    "/api/v2/whatsapp/templates": dict(TEMPLATE),
    "/api/v2/opt-outs": dict(CONTACT),
    "/api/v2/webhooks": {"url": "https://1.1.1.1/hook"},
    "/api/v2/secret-keys": {
        "platform_type": "custom",
        "base_uri": "https://shop.example.com",
        "name": "shop",
    },
    "/api/whatsapp/": {"template_id": 1, "phone_number": "21696816277", "country_code": "TN"},
}


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/contacts/", "number"),
        ("/api/contacts/", "firstname"),
        ("/api/contacts/", "tags"),
        ("/api/v2/whatsapp/templates", "body"),
        ("/api/v2/whatsapp/templates", "buttons"),
        ("/api/v2/opt-outs", "number"),
        ("/api/v2/webhooks", "url"),
        ("/api/v2/webhooks", "events"),
        ("/api/v2/secret-keys", "name"),
        ("/api/whatsapp/", "body_params"),
        ("/api/whatsapp/", "send_at"),
    ],
)
async def test_huge_and_mistyped_values_are_a_4xx(
    client: httpx.AsyncClient, auth: dict[str, str], path: str, field: str
) -> None:
    failures = []
    for name, value in HUGE_VALUES.items():
        answer = await client.post(path, json={**SIGNUPS[path], field: value}, headers=auth)
        problem = jsend_problem(answer)
        if problem or answer.status_code not in (400, 404, 413):
            failures.append(f"{name}: {problem or answer.text[:300]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("route", "fields"),
    [
        ("v1", {"template_id": 2**63, "phone_number": "21696816277", "country_code": "TN"}),
        ("v1", {"template_id": "<approved>", "contact_id": 10**20}),
        ("v1_template", {"contact_id": 2**64}),
        ("v2_document", {"header_media_id": 2**63}),
        ("bulk_document", {"header_media_id": 10**19}),
    ],
    ids=["v1_template_id", "v1_contact_id", "v1_template_contact_id", "v2_media", "bulk_media"],
)
async def test_ids_in_bodies_beyond_int64_are_400(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    ana: User,
    settings: Settings,
    clock: FrozenClock,
    route: str,
    fields: dict[str, Any],
) -> None:
    template = await approved_template(db, ana, settings, clock.now(), header_format="DOCUMENT")
    fields = {k: template.id if v == "<approved>" else v for k, v in fields.items()}
    recipient = {"to": "21696816277", "country_code": "TN", "body_params": ["Sam", "A1"]}
    if route == "v1":
        url, payload = "/api/whatsapp/", {"body_params": ["Sam", "A1"], **fields}
    elif route == "v1_template":
        url = f"/api/whatsapp/templates/{template.id}/send/"
        payload = {"body_params": ["Sam", "A1"], **fields}
    elif route == "v2_document":
        url, payload = f"/api/v2/whatsapp/templates/{template.id}/send", {**recipient, **fields}
    else:
        url = f"/api/v2/whatsapp/templates/{template.id}/send-bulk"
        payload = {"recipients": [{**recipient, **fields}]}
    answer = await client.post(url, json=payload, headers=auth)
    assert_client_error(answer, "validation_failed", "recipients_invalid")
    assert await count_rows(db, "messages") == 0


@pytest.mark.parametrize(
    "url",
    ["https://a..b/hook", "https://" + "a" * 64 + ".example/hook", "https://.example/hook"],
    ids=["empty_label", "label_over_63", "leading_dot"],
)
async def test_callback_host_names_idna_refuses_are_400(
    client: httpx.AsyncClient, auth: dict[str, str], db: DatabaseUnderTest, url: str
) -> None:
    answer = await client.post("/api/v2/webhooks", json={"url": url}, headers=auth)
    body = assert_client_error(answer, "validation_failed")
    assert body["data"]["errors"][0]["field"] == "url"
    assert await count_rows(db, "callback_endpoints") == 0


# --- NUL characters: refused or stored, never a 500 ---------------------------------------------

NUL_REQUESTS: dict[str, tuple[str, str, dict[str, Any], bool]] = {
    "login_username": (
        "POST",
        "/api/login_check",
        {"json": {"username": "a\x00b", "password": "x"}},
        False,
    ),
    "contact_firstname": (
        "POST",
        "/api/contacts/",
        {"json": {**CONTACT, "firstname": "a\x00b"}},
        True,
    ),
    "contact_tag": ("POST", "/api/contacts/", {"json": {**CONTACT, "tags": ["a\x00b"]}}, True),
    "contact_search": ("GET", "/api/contacts/", {"params": {"search": "a\x00b"}}, True),
    "profile_firstname": ("PUT", "/api/user/", {"json": {"firstname": "a\x00b"}}, True),
    "template_body": (
        "POST",
        "/api/v2/whatsapp/templates",
        {"json": {**TEMPLATE, "body": "a\x00b"}},
        True,
    ),
    "template_name_filter": (
        "GET",
        "/api/v2/whatsapp/templates",
        {"params": {"name": "a\x00"}},
        True,
    ),
    "secret_key_name": (
        "POST",
        "/api/v2/secret-keys",
        {"json": {"platform_type": "custom", "base_uri": "https://a.example", "name": "a\x00"}},
        True,
    ),
    "history_phone_filter": ("GET", "/api/whatsapp/", {"params": {"phone_number": "1\x00"}}, True),
    "opt_out_path": ("DELETE", "/api/v2/opt-outs/216%0096816277", {}, True),
    "bulk_group_path": ("GET", "/api/v2/whatsapp/bulk-groups/a%00b", {}, True),
}


@pytest.mark.parametrize("name", NUL_REQUESTS.keys())
async def test_nul_characters_in_text_are_refused(
    request: pytest.FixtureRequest,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    name: str,
) -> None:
    """SQLite stores a NUL; PostgreSQL text cannot hold one. Either way, never a 500."""
    method, path, kwargs, needs_login = NUL_REQUESTS[name]
    answer = await client.request(method, path, headers=auth if needs_login else {}, **kwargs)
    assert_jsend(answer)


async def test_a_nul_in_the_idempotency_key_header_is_never_a_500(
    request: pytest.FixtureRequest,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    order_template: Template,
) -> None:
    answer = await client.post(
        f"/api/v2/whatsapp/templates/{order_template.id}/send",
        json={"to": "21696816277", "country_code": "TN", "body_params": ["Sam", "A1"]},
        headers={**auth, "Idempotency-Key": "a\x00b"},
    )
    assert_jsend(answer)


# --- multipart edge cases on the upload route ---------------------------------------------------

MEDIA = "/api/v2/whatsapp/media"
PDF = files.pdf(50_000)
UPLOAD_CODES = ("validation_failed", "unsupported_media_type", "media_too_large")


def _part(name: bytes = b"file", filename: bytes | None = b"a.pdf", extra: bytes = b"") -> bytes:
    disposition = b'Content-Disposition: form-data; name="' + name + b'"'
    if filename is not None:
        disposition += b'; filename="' + filename + b'"'
    return b"--x\r\n" + disposition + b"\r\n" + extra + b"Content-Type: application/pdf\r\n\r\n"


def _multipart(boundary: str = "x") -> dict[str, str]:
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}


END = b"\r\n--x--\r\n"
REFUSED_UPLOADS: dict[str, tuple[bytes, dict[str, str]]] = {
    "missing_boundary": (_part() + PDF + END, {"Content-Type": "multipart/form-data"}),
    "empty_boundary": (_part() + PDF + END, _multipart('""')),
    "wrong_boundary": (_part() + PDF + END, _multipart("y")),
    "boundary_of_another_type": (_part() + PDF + END, {"Content-Type": "text/plain; boundary=x"}),
    "no_content_type": (_part() + PDF + END, {}),
    "two_file_parts": (
        _part() + PDF + b"\r\n" + _part(filename=b"b.pdf") + PDF + END,
        _multipart(),
    ),
    "only_another_field": (_part(name=b"document") + PDF + END, _multipart()),
    "header_only_part": (_part() + END, _multipart()),
    "headers_never_end": (_part()[:-2], _multipart()),
    "long_part_header": (
        _part(extra=b"X-Long: " + b"a" * 100_000 + b"\r\n") + PDF + END,
        _multipart(),
    ),
    "many_part_headers": (_part(extra=b"X-A: b\r\n" * 100) + PDF + END, _multipart()),
    "filename_of_10000_characters": (
        _part(filename=b"n" * 10_000 + b".pdf") + PDF + END,
        _multipart(),
    ),
    "empty_body": (b"", _multipart()),
    "only_the_closing_boundary": (b"--x--\r\n", _multipart()),
    "cut_in_the_headers": (_part()[:30], _multipart()),
    "cut_early_in_the_file": (_part() + PDF[:100], _multipart()),
    "json_body": (b'{"file": "invoice.pdf"}', _multipart()),
    "json_content_type": (_part() + PDF + END, {"Content-Type": "application/json"}),
    "an_executable": (_part(filename=b"a.pdf") + files.exe() + END, _multipart()),
    "garbage_between_parts": (b"garbage" + _part() + PDF + END, _multipart()),
}


async def assert_nothing_stored(db: DatabaseUnderTest, settings: Settings) -> None:
    assert await count_rows(db, "media_assets") == 0
    assert list(settings.upload_dir.iterdir()) == []
    media_root = settings.data_dir / "media"
    assert not media_root.exists() or [p for p in media_root.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("name", REFUSED_UPLOADS.keys())
async def test_a_broken_upload_is_a_4xx_and_stores_nothing(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    settings: Settings,
    name: str,
) -> None:
    body, headers = REFUSED_UPLOADS[name]
    answer = await client.post(MEDIA, content=body, headers={**auth, **headers})
    assert_client_error(answer, *UPLOAD_CODES)
    await assert_nothing_stored(db, settings)


@pytest.mark.parametrize(
    "body",
    [_part() + PDF[:20_000], _part() + PDF + b"\r\n", _part() + PDF + b"\r\n--x"],
    ids=["cut_mid_file", "cut_before_the_boundary", "no_closing_dashes"],
)
async def test_a_truncated_upload_is_400_and_stores_nothing(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    settings: Settings,
    body: bytes,
) -> None:
    answer = await client.post(MEDIA, content=body, headers={**auth, **_multipart()})
    assert_client_error(answer, "validation_failed")
    await assert_nothing_stored(db, settings)


async def test_a_boundary_over_256_bytes_is_400(
    client: httpx.AsyncClient, auth: dict[str, str], db: DatabaseUnderTest, settings: Settings
) -> None:
    boundary = "b" * 300
    body = f"--{boundary}\r\n".encode() + _part()[5:] + PDF + f"\r\n--{boundary}--\r\n".encode()
    answer = await client.post(MEDIA, content=body, headers={**auth, **_multipart(boundary)})
    assert_client_error(answer, "validation_failed")
    await assert_nothing_stored(db, settings)


ACCEPTED_NAMES: dict[str, tuple[bytes | None, str]] = {
    "no_filename": (None, "file.pdf"),
    "empty_filename": (b"", "file.pdf"),
    "path_traversal": (b"../../../etc/cron.d/evil.pdf", "evil.pdf"),
    "windows_path": (b"C:\\\\Users\\\\x\\\\..\\\\evil.pdf", "evil.pdf"),
    "only_dots": (b"..", "file.pdf"),
    "trailing_slash": (b"a/", "file.pdf"),
    "nul": (b"a\x00b.pdf", "a_b.pdf"),
    "control_characters": (b"a\x01\x1f\x7fb.pdf", "a_b.pdf"),
    "wrong_extension": (b"invoice.png", "invoice.pdf"),
    "255_plus": (b"n" * 300 + b".pdf", "n" * 251 + ".pdf"),
    "utf8": ("Grüße \U0001f600.pdf".encode(), "Grüße \U0001f600.pdf"),
    "invalid_utf8": (b"\xff\xfe.pdf", "\ufffd\ufffd.pdf"),
}


@pytest.mark.parametrize("name", ACCEPTED_NAMES.keys())
async def test_a_file_name_is_cleaned_never_used_as_a_path(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    db: DatabaseUnderTest,
    settings: Settings,
    name: str,
) -> None:
    """A ``file`` part with a usable file is stored whatever its name; the name shown is the
    documented cleaned one (last segment, no control or path characters, the type's extension)."""
    filename, shown = ACCEPTED_NAMES[name]
    body = _part(filename=filename) + PDF + END
    answer = await client.post(MEDIA, content=body, headers={**auth, **_multipart()})
    assert answer.status_code == 201, answer.text
    data = assert_jsend(answer)["data"]
    assert data["filename"] == shown
    assert len(data["filename"]) <= 255
    stored = [p for p in (settings.data_dir / "media").rglob("*") if p.is_file()]
    assert len(stored) == 1
    assert stored[0].read_bytes() == PDF
    assert all(part.isalnum() for part in stored[0].relative_to(settings.data_dir).parts)
    assert list(settings.upload_dir.iterdir()) == []


@pytest.mark.parametrize(
    "filename",
    ["a\x85\x9bb.pdf", "invoice\u202egnp.pdf", "x\u2066y\u2069.pdf"],
    ids=["c1_controls", "right_to_left_override", "bidi_isolate"],
)
async def test_a_file_name_loses_every_control_character(
    client: httpx.AsyncClient, auth: dict[str, str], filename: str
) -> None:
    body = _part(filename=filename.encode()) + PDF + END
    answer = await client.post(MEDIA, content=body, headers={**auth, **_multipart()})
    assert answer.status_code == 201, answer.text
    shown = answer.json()["data"]["filename"]
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in shown), repr(shown)
