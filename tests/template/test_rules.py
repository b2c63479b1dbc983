"""The template rules of spec/api.md §4, each failure naming its rule."""

from __future__ import annotations

from typing import Any

import pytest

from herald.template.rules import RuleBroken, check_template
from herald.template.schemas import TemplateCreate


def template(**fields: Any) -> TemplateCreate:
    base: dict[str, Any] = {
        "name": "order_confirmed",
        "language": "en",
        "category": "UTILITY",
        "body": "Hello {{1}}, your order {{2}} is confirmed.",
    }
    return TemplateCreate.model_validate({**base, **fields})


def broken(fields: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(RuleBroken) as failure:
        check_template(template(**fields))
    errors = failure.value.data["errors"]  # type: ignore[call-overload]
    assert len(errors) == 1
    error: dict[str, str] = errors[0]
    return error


def test_sequential_placeholders_count() -> None:
    assert check_template(template()) == 2
    assert check_template(template(body="No parameters at all.")) == 0


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("Hi {{1}} {{3}}", "{{2}} is missing"),
        ("Hi {{2}}", "{{1}} is missing"),
        ("Hi {{1}} and {{1}}", "repeats"),
        ("Hi {{2}} {{1}}", "{{1}} is missing"),
        ("Hi {{1}} {{2}} {{1}}", "repeats"),
    ],
)
def test_placeholder_gaps_repeats_and_order_are_refused(body: str, fragment: str) -> None:
    error = broken({"body": body})
    assert error["rule"] == "placeholder_sequence"
    assert error["field"] == "body"
    assert fragment in error["message"]


@pytest.mark.parametrize("body", ["Hi {{name}}", "Hi {{ }}", "Hi {{1.5}}"])
def test_named_or_malformed_placeholders_are_refused(body: str) -> None:
    assert broken({"body": body})["rule"] == "placeholder_format"


def test_url_button_takes_one_trailing_variable_only() -> None:
    ok = {"type": "URL", "text": "Track", "url": "https://x.example/track/{{1}}"}
    assert check_template(template(buttons=[ok])) == 2
    for url in (
        "https://x.example/{{1}}/track",
        "https://x.example/{{1}}/{{2}}",
        "https://x.example/{{2}}",
    ):
        error = broken({"buttons": [{"type": "URL", "text": "Track", "url": url}]})
        assert error == {
            "field": "buttons.0.url",
            "rule": "url_button_variable",
            "message": "a URL button has at most one variable, and only as a trailing {{1}}",
        }


def test_url_buttons_need_an_http_url_and_text() -> None:
    assert broken({"buttons": [{"type": "URL", "text": "Go", "url": "ftp://x"}]})["rule"] == (
        "button_url"
    )
    assert broken({"buttons": [{"type": "URL", "url": "https://x.example"}]})["rule"] == (
        "button_text"
    )


def test_at_most_ten_buttons() -> None:
    buttons = [{"type": "QUICK_REPLY", "text": f"Option {n}"} for n in range(11)]
    assert broken({"buttons": buttons})["rule"] == "button_limit"
    assert check_template(template(buttons=buttons[:10])) == 2


def test_authentication_templates_have_one_copy_code_button_and_no_custom_placeholders() -> None:
    auth = {
        "category": "AUTHENTICATION",
        "body": "{{1}} is your verification code.",
        "buttons": [{"type": "COPY_CODE", "text": "Copy code"}],
    }
    assert check_template(template(**auth)) == 0
    assert broken({**auth, "body": "Hi {{1}}, code {{2}}"})["rule"] == "authentication_body"
    assert broken({**auth, "buttons": []})["rule"] == "authentication_buttons"
    two = [{"type": "COPY_CODE"}, {"type": "QUICK_REPLY", "text": "No"}]
    assert broken({**auth, "buttons": two})["rule"] == "authentication_buttons"
    header = {"format": "TEXT", "text": "Code"}
    assert broken({**auth, "header": header})["rule"] == "authentication_header"


def test_headers() -> None:
    assert check_template(template(header={"format": "TEXT", "text": "Your order"})) == 2
    assert check_template(template(header={"format": "DOCUMENT"})) == 2
    assert broken({"header": {"format": "TEXT"}})["rule"] == "header_text"
    assert broken({"header": {"format": "TEXT", "text": "Hi {{1}}"}})["rule"] == "header_text"
    assert broken({"header": {"format": "IMAGE", "text": "x"}})["rule"] == "header_text"


def test_footer_has_no_placeholders() -> None:
    assert broken({"footer": "Bye {{1}}"})["rule"] == "footer_text"
