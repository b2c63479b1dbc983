"""Request bodies refuse a NUL anywhere, naming where; the quick look never lets one through."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from herald.kit.schemas import RequestBody


class Inner(RequestBody):
    value: str | None = None
    tags: dict[str, str] | None = None


class Outer(RequestBody):
    name: str | None = None
    items: list[Inner] | None = None
    extra: Any = None


def refusal(data: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        Outer.model_validate(data)
    [error] = caught.value.errors()
    return str(error["msg"])


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"name": "a\x00b"}, "name"),
        ({"items": [{"value": "ok"}, {"value": "\x00"}]}, "items.1.value"),
        ({"items": [{"tags": {"k\x00": "v"}}]}, "items.0.tags.'k\\x00'"),
        ({"extra": [["deep", {"x": "\x00"}]]}, "extra.0.1.x"),
        # Not JSON-serialisable (a lone surrogate): the walk still finds the NUL.
        ({"extra": ["\ud800", "\x00"]}, "extra.1"),
    ],
)
def test_a_nul_is_refused_where_it_is(data: dict[str, Any], where: str) -> None:
    assert refusal(data) == f"Value error, {where} must not contain a NUL character"


@pytest.mark.parametrize(
    "data",
    [
        {"name": "\\u0000"},  # a backslash and five characters, not a NUL
        {"items": [{"value": "\\\\u0000"}]},
        {"extra": ["\ud800"]},
        {"extra": b"\x00"},  # bytes are not text: never looked at, as before
    ],
)
def test_text_that_only_looks_like_a_nul_passes(data: dict[str, Any]) -> None:
    Outer.model_validate(data)
