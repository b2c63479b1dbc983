"""The bulk send's body (``message/bulk_body.py``): the fast path (orjson, plain dicts) gives the
answers the reference (``json.loads``, then the ``SendBulk`` model, as FastAPI did) gives, for
ordinary bodies and for the unusual ones that go the reference way; the idempotency fingerprint
is unchanged; and a large call allocates without a garbage collection."""

from __future__ import annotations

import gc
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from herald.config import Settings
from herald.kit.clock import FrozenClock
from herald.message import bulk_body
from herald.message.schemas import BulkSend, SendBulk
from herald.models import Template, User
from tests.conftest import DatabaseUnderTest
from tests.message.helpers import approved_template

BODY = TypeAdapter(bulk_body.BulkBody)
PROPERTY = hypothesis_settings(
    max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def outcome(decoded: Any, validate: Any) -> tuple[Any, ...]:
    """What the framework makes of a body: undecodable, its errors, or the validated send."""
    try:
        data = decoded()
    except (ValueError, RecursionError) as failure:  # JSONDecodeError, UnicodeDecodeError
        return ("undecodable", type(failure))
    try:
        value = validate(data)
    except ValidationError as refused:
        return ("invalid", [(e["type"], e["loc"], e["msg"]) for e in refused.errors()])
    return ("valid", value, value.fingerprint_fields())


def reference(raw: bytes) -> tuple[Any, ...]:
    def validate(data: Any) -> BulkSend:
        return BulkSend.of(SendBulk.model_validate(data, from_attributes=True))

    found = outcome(lambda: json.loads(raw), validate)
    if found[0] == "valid":  # the fingerprint as it was computed before the fast path
        checked = SendBulk.model_validate(json.loads(raw), from_attributes=True)
        assert found[2] == checked.model_dump(mode="json")
    return found


def fast(raw: bytes) -> tuple[Any, ...]:
    return outcome(lambda: bulk_body.decode(raw), lambda data: BODY.validate_python(data))


TEXT = st.sampled_from(
    ["21696816277", " 21696816278 ", "TN", "tn", " TN", "", " ", "A", "\u2003B\u00a0", "\x1c", "é"]
)
SCALAR = (
    TEXT
    | st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.sampled_from([0, 1, 7, 9, 10, 2**63 - 1, 2**63, 2**64, 1.0, 2.5, float("nan"), 1e300])
    | st.text(max_size=4)
)
VALUE = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
BUTTON = st.fixed_dictionaries(
    {"index": st.sampled_from([0, 1, 9, 10, "0", 0.0]), "sub_type": st.sampled_from(["url", "x"])},
    optional={"value": TEXT, "extra": VALUE},
)
RECIPIENT = st.fixed_dictionaries(
    {},
    optional={
        "to": TEXT | VALUE,
        "country_code": TEXT | VALUE,
        "body_params": st.none() | st.lists(TEXT, max_size=3) | VALUE,
        "buttons": st.none() | st.lists(BUTTON, max_size=2) | VALUE,
        "header_media_id": st.none() | st.integers(-3, 2**64) | VALUE,
        "other": VALUE,
    },
)
GOOD = st.builds(
    lambda n, params: {"to": f"2169{n:07d}", "country_code": "TN", "body_params": params},
    st.integers(0, 9_999_999),
    st.lists(TEXT, max_size=3),
)
SEND = st.fixed_dictionaries(
    {"recipients": st.lists(GOOD | RECIPIENT, max_size=4) | VALUE},
    optional={
        "send_at": st.sampled_from([None, "2026-12-01T09:00:00Z", "2026-12-01T09:00", "x", 1e9]),
        "skip_invalid": st.sampled_from([True, False, "true", "no", 1, 0.0, None, 2]),
        "idempotency_key": st.sampled_from([None, "k", " k ", "", 5]),
        "extra": VALUE,
    },
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """A body near the schema, sometimes written the way only ``json.loads`` reads it."""
    text = json.dumps(draw(SEND | VALUE), ensure_ascii=draw(st.booleans()))
    spelling = draw(st.sampled_from(["plain", "bom", "utf-16", "surrogate", "nul", "nested"]))
    if spelling == "surrogate":
        text = text.replace('"A"', '"\\ud800"', 1)
    elif spelling == "nul":
        text = text.replace('"A"', '"A\\u0000"', 1)
    elif spelling == "nested":
        text = text.replace('"A"', "[" * 1000 + "]" * 1000, 1)
    if spelling == "bom":
        return b"\xef\xbb\xbf" + text.encode()
    return text.encode("utf-16" if spelling == "utf-16" else "utf-8", "surrogatepass")


@PROPERTY
@given(bodies())
def test_the_fast_path_answers_as_the_reference_does(raw: bytes) -> None:
    assert fast(raw) == reference(raw)


def test_an_ordinary_body_takes_the_fast_path_and_an_unusual_one_the_reference_path() -> None:
    recipients = [
        {"to": f"2169{n:07d}", "country_code": "TN", "body_params": ["A", str(n)]}
        for n in range(100)
    ]
    ordinary = json.dumps({"recipients": recipients, "skip_invalid": True}).encode()
    assert isinstance(bulk_body.decode(ordinary), BulkSend)
    for unusual in (
        b"\xef\xbb\xbf" + ordinary,  # orjson refuses a byte order mark, json.loads does not
        ordinary.replace(b'"A"', b'"A\\u0000"', 1),  # the reference names where the NUL is
        ordinary.replace(b'"TN"', b"5", 1),  # refused: the reference words the errors
        ordinary.replace(b"true", b"NaN"),
    ):
        assert not isinstance(bulk_body.decode(unusual), BulkSend)
        assert fast(unusual) == reference(unusual)


@pytest.fixture
async def template(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> Template:
    return await approved_template(db, ana, settings, clock.now())


RECIPIENT_JSON = b'{"to": "21696816277", "country_code": "TN", "body_params": ["A", "B"]}'


@pytest.mark.parametrize(
    ("raw", "status", "code", "fields"),
    [
        (b"\xef\xbb\xbf" + b'{"recipients": [' + RECIPIENT_JSON + b"]}", 202, None, []),
        (('{"recipients": [' + RECIPIENT_JSON.decode() + "]}").encode("utf-16"), 202, None, []),
        (
            b'{"recipients": [' + RECIPIENT_JSON + b'], "skip_invalid": NaN}',
            400,
            "validation_failed",
            ["skip_invalid"],
        ),
        (
            b'{"recipients": ['
            + RECIPIENT_JSON[:-1]
            + b', "header_media_id": 1'
            + b"0" * 20
            + b"}]}",
            400,
            "validation_failed",
            ["recipients.0.header_media_id"],
        ),
        (
            b'{"recipients": [' + RECIPIENT_JSON.replace(b'"B"', b'"\\ud800"') + b"]}",
            400,
            "validation_failed",
            ["recipients.0.body_params.1"],
        ),
        (
            b'{"recipients": [' + RECIPIENT_JSON.replace(b'"B"', b'"\\u0000"') + b"]}",
            400,
            "validation_failed",
            ["body"],
        ),
        (b'{"recipients": [' + b"[" * 1000 + b"]" * 1000 + b"]}", 400, "malformed_json", []),
        (
            b'{"recipients": [' + b"[" * 500 + b"]" * 500 + b"]}",
            400,
            "validation_failed",
            ["recipients.0"],
        ),
    ],
    ids=["bom", "utf-16", "nan", "huge_integer", "lone_surrogate", "nul", "too_deep", "deep"],
)
async def test_unusual_bodies_are_answered_as_before(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    template: Template,
    raw: bytes,
    status: int,
    code: str | None,
    fields: list[str],
) -> None:
    answer = await client.post(
        f"/api/v2/whatsapp/templates/{template.id}/send-bulk",
        content=raw,
        headers={**auth, "Content-Type": "application/json"},
    )
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body.get("code") == code
    if fields:
        assert [e["field"] for e in body["data"]["errors"]] == fields


async def test_a_ten_thousand_recipient_call_runs_without_a_garbage_collection(
    client: httpx.AsyncClient, auth: dict[str, str], template: Template
) -> None:
    recipients = [
        {"to": f"2169{n:07d}", "country_code": "TN", "body_params": ["A", str(n)]}
        for n in range(1, 10_001)
    ]
    raw = json.dumps({"recipients": recipients}).encode()
    headers = {**auth, "Content-Type": "application/json"}
    path = f"/api/v2/whatsapp/templates/{template.id}/send-bulk"
    # FastAPI builds a router's routes at their first request (thousands of objects).
    warm_up = await client.post(path, json={"recipients": recipients[:1]}, headers=auth)
    assert warm_up.status_code == 202, warm_up.text
    collections: list[int] = []

    def counted(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(counted)
    try:
        answer = await client.post(path, content=raw, headers=headers)
    finally:
        gc.callbacks.remove(counted)
    assert answer.status_code == 202, answer.text[:300]
    # Decoding alone allocates ~100,000 objects: dozens of collections, a full one among them,
    # before the pause covered it. Outside the route's pause, only the framework's few
    # allocations before and after it remain.
    assert len(collections) <= 2, collections
