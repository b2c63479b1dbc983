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


def test_authentication_templates_are_metas_options_without_text_or_buttons() -> None:
    # Meta writes an AUTHENTICATION template's text and its one OTP button: the caller gives
    # options only (a body of the caller's, as Herald once took, is refused).
    auth: dict[str, Any] = {"category": "AUTHENTICATION", "body": None}
    assert check_template(template(**auth)) == 0
    one_tap = {
        "otp_type": "ONE_TAP",
        "package_name": "com.shop.app",
        "signature_hash": "K8a/AINcGX7",
    }
    assert check_template(template(**auth, **one_tap, code_expiration_minutes=5)) == 0
    assert broken({**auth, "body": "{{1}} is your code."})["rule"] == "authentication_body"
    assert broken({**auth, "buttons": [{"type": "COPY_CODE"}]})["rule"] == (
        "authentication_buttons"
    )
    header = {"format": "TEXT", "text": "Code"}
    assert broken({**auth, "header": header})["rule"] == "authentication_header"
    assert broken({**auth, "otp_type": "ONE_TAP"})["rule"] == "one_tap_app"
    assert broken({**auth, "package_name": "com.shop.app"})["rule"] == "one_tap_app"
    assert broken({"code_expiration_minutes": 5})["rule"] == "authentication_only"


def test_headers() -> None:
    assert check_template(template(header={"format": "TEXT", "text": "Your order"})) == 2
    with_variable = {"format": "TEXT", "text": "Order {{1}}", "example": "A-1"}
    assert check_template(template(header=with_variable)) == 2
    assert check_template(template(header={"format": "DOCUMENT", "example_media_id": 3})) == 2
    assert broken({"header": {"format": "DOCUMENT"}})["rule"] == "header_sample"
    assert broken({"header": {"format": "TEXT"}})["rule"] == "header_text"
    assert broken({"header": {"format": "TEXT", "text": "Hi {{1}}"}})["rule"] == "header_example"
    assert broken({"header": {"format": "TEXT", "text": "Hi", "example": "x"}})["rule"] == (
        "header_example"
    )
    two = {"format": "TEXT", "text": "{{1}} and {{2}}", "example": "x"}
    assert broken({"header": two})["rule"] == "header_variable"
    assert broken({"header": {"format": "IMAGE", "text": "x"}})["rule"] == "header_text"
    text_with_file = {"format": "TEXT", "text": "Hi", "example_media_id": 3}
    assert broken({"header": text_with_file})["rule"] == "header_sample"


def test_copy_code_buttons_take_a_sample_code_and_no_label() -> None:
    assert check_template(template(buttons=[{"type": "COPY_CODE", "example": "SAVE25"}])) == 2
    assert broken({"buttons": [{"type": "COPY_CODE"}]})["rule"] == "copy_code_example"
    too_long = [{"type": "COPY_CODE", "example": "X" * 16}]
    assert broken({"buttons": too_long})["rule"] == "copy_code_example"
    labelled = [{"type": "COPY_CODE", "text": "Copy", "example": "SAVE25"}]
    assert broken({"buttons": labelled})["rule"] == "button_text"
    two = [{"type": "COPY_CODE", "example": "A"}, {"type": "COPY_CODE", "example": "B"}]
    assert broken({"buttons": two})["rule"] == "button_limit"


def test_footer_has_no_placeholders() -> None:
    assert broken({"footer": "Bye {{1}}"})["rule"] == "footer_text"
