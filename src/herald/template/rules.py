"""The rules a template must follow before it is stored (spec/api.md §4).

Each failure names its rule, so an integrator can tell which one without parsing prose.
"""

from __future__ import annotations

import re

from herald.errors import ValidationFailed
from herald.template.schemas import Button, Header, TemplateCreate

MAX_BUTTONS = 10
MAX_BUTTONS_OF = {"URL": 2, "COPY_CODE": 1, "PHONE_NUMBER": 1}  # Meta's limits per kind
MAX_COUPON_CODE = 15
AUTHENTICATION_OPTIONS = (
    "add_security_recommendation",
    "code_expiration_minutes",
    "otp_type",
    "package_name",
    "signature_hash",
)
# Android's application id: two or more dot-separated Java identifiers.
_ANDROID_PACKAGE = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+")
_ANY_PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")
# A named variable, as Meta takes it: lower-case letters, digits and underscores.
_VARIABLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,59}")
# A PHONE_NUMBER button's number: digits, an optional leading +, at most 20 characters.
_BUTTON_PHONE = re.compile(r"\+?[0-9]{5,20}")


class RuleBroken(ValidationFailed):
    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(
            [{"field": field, "rule": rule, "message": message}], message=f"{field}: {message}"
        )


_ASCII_NUMBER = re.compile(r"[0-9]{1,4}")


def placeholder_numbers(text: str, field: str) -> list[int]:
    """The numbers of ``{{n}}`` placeholders in order; anything else in braces is refused."""
    numbers = []
    for match in _ANY_PLACEHOLDER.finditer(text):
        inner = match.group(1).strip()
        if not _ASCII_NUMBER.fullmatch(inner):  # not isdigit(): superscripts are digits too
            raise RuleBroken(
                field,
                "placeholder_format",
                f"placeholders are numbered like {{{{1}}}}; {match.group(0)} is not one "
                '(named variables like {{first_name}} need "parameter_format": "NAMED")',
            )
        numbers.append(int(inner))
    return numbers


def placeholder_names(text: str, field: str) -> list[str]:
    """The names of ``{{first_name}}`` placeholders in order (a NAMED template's); anything
    else in braces is refused."""
    names = []
    for match in _ANY_PLACEHOLDER.finditer(text):
        if not _VARIABLE_NAME.fullmatch(match.group(1)):
            raise RuleBroken(
                field,
                "placeholder_format",
                "a NAMED template's placeholders are lower-case names like {{first_name}} "
                f"(letters, digits, underscores); {match.group(0)} is not one",
            )
        names.append(match.group(1))
    return names


def check_named_placeholders(text: str, field: str) -> int:
    """``{{name}}`` placeholders, each once; returns how many."""
    names = placeholder_names(text, field)
    for position, name in enumerate(names):
        if name in names[:position]:
            raise RuleBroken(
                field, "placeholder_sequence", f"{{{{{name}}}}} repeats; each name appears once"
            )
    return len(names)


def check_placeholder_sequence(text: str, field: str) -> int:
    """``{{1}}..{{n}}``, each once, in order, with no gap; returns n."""
    numbers = placeholder_numbers(text, field)
    for position, number in enumerate(numbers, start=1):
        if number == position:
            continue
        if number in numbers[: position - 1]:
            problem = f"{{{{{number}}}}} repeats; each placeholder appears once"
        elif number > position:
            problem = (
                f"placeholders must run {{{{1}}}} to {{{{n}}}} without gaps: "
                f"{{{{{position}}}}} is missing before {{{{{number}}}}}"
            )
        else:
            problem = f"{{{{{number}}}}} is out of order; number placeholders as they appear"
        raise RuleBroken(field, "placeholder_sequence", problem)
    return len(numbers)


def check_template(template: TemplateCreate) -> int:
    """Raise on the first broken rule; returns the number of body parameters a send needs."""
    if template.category == "AUTHENTICATION":
        if template.parameter_format == "NAMED":
            raise RuleBroken(
                "parameter_format",
                "parameter_format",
                "Meta writes an AUTHENTICATION template's text, with a positional {{1}}",
            )
        return _check_authentication(template)
    for option in AUTHENTICATION_OPTIONS:
        if getattr(template, option) is not None:
            raise RuleBroken(
                option, "authentication_only", f"{option} is for AUTHENTICATION templates only"
            )
    if template.body is None:
        raise RuleBroken("body", "body_required", f"a {template.category} template needs a body")
    named = template.parameter_format == "NAMED"
    if template.header is not None:
        _check_header(template.header, named)
    footer = template.footer or ""
    if _ANY_PLACEHOLDER.search(footer) if named else placeholder_numbers(footer, "footer"):
        raise RuleBroken("footer", "footer_text", "the footer has no placeholders")
    _check_buttons(template)
    if named:
        return check_named_placeholders(template.body, "body")
    return check_placeholder_sequence(template.body, "body")


def _check_header(header: Header, named: bool) -> None:
    if header.format != "TEXT":
        if header.text is not None or header.example is not None:
            field = "header.text" if header.text is not None else "header.example"
            raise RuleBroken(
                field, "header_text", f"a {header.format} header carries a file, not text"
            )
        if header.example_media_id is None:
            raise RuleBroken(
                "header.example_media_id",
                "header_sample",
                f"a {header.format} header needs a sample file for Meta's review: upload one "
                "through the media API and give its media_id",
            )
        return
    if header.example_media_id is not None:
        raise RuleBroken(
            "header.example_media_id", "header_sample", "a TEXT header has no sample file"
        )
    if not header.text:
        raise RuleBroken("header.text", "header_text", "a TEXT header needs its text")
    found: list[int] | list[str]
    if named:
        found = placeholder_names(header.text, "header.text")
        one = "one variable, like {{order_id}}"
    else:
        found = placeholder_numbers(header.text, "header.text")
        one = "one variable: {{1}}"
    if len(found) > 1 or (not named and found not in ([], [1])):
        raise RuleBroken("header.text", "header_variable", f"a TEXT header has at most {one}")
    if found and header.example is None:
        raise RuleBroken(
            "header.example", "header_example", "a header with a variable needs its sample value"
        )
    if not found and header.example is not None:
        raise RuleBroken(
            "header.example",
            "header_example",
            "only a header with a variable takes a sample value",
        )


def _check_buttons(template: TemplateCreate) -> None:
    if len(template.buttons) > MAX_BUTTONS:
        raise RuleBroken("buttons", "button_limit", f"at most {MAX_BUTTONS} buttons")
    kinds: list[str] = [button.type for button in template.buttons]
    for kind, most in MAX_BUTTONS_OF.items():
        if kinds.count(kind) > most:
            raise RuleBroken("buttons", "button_limit", f"at most {most} {kind} button(s)")
    for index, button in enumerate(template.buttons):
        field = f"buttons.{index}"
        if button.type != "COPY_CODE" and not button.text:
            raise RuleBroken(f"{field}.text", "button_text", f"a {button.type} button needs text")
        if button.type != "URL" and button.url is not None:
            raise RuleBroken(f"{field}.url", "button_url", "only URL buttons have a url")
        if button.type != "PHONE_NUMBER" and button.phone_number is not None:
            raise RuleBroken(
                f"{field}.phone_number",
                "button_phone_number",
                "only PHONE_NUMBER buttons have a phone_number",
            )
        if button.type == "COPY_CODE":
            _check_copy_code(button, field)
        elif button.type == "URL":
            _check_url(button, field)
        elif button.example is not None:
            raise RuleBroken(
                f"{field}.example", "button_example", f"a {button.type} button takes no example"
            )
        elif button.type == "PHONE_NUMBER":
            _check_phone_number(button, field)


def _check_copy_code(button: Button, field: str) -> None:
    if button.text is not None:
        raise RuleBroken(
            f"{field}.text", "button_text", "Meta writes a COPY_CODE button's label: leave text out"
        )
    if button.example is None:
        raise RuleBroken(
            f"{field}.example",
            "copy_code_example",
            "a COPY_CODE button needs a sample coupon code in example",
        )
    if len(button.example) > MAX_COUPON_CODE or not button.example.isalnum():
        raise RuleBroken(
            f"{field}.example",
            "copy_code_example",
            f"a coupon code is letters and digits, at most {MAX_COUPON_CODE}",
        )


def _check_phone_number(button: Button, field: str) -> None:
    if button.phone_number is None or not _BUTTON_PHONE.fullmatch(button.phone_number):
        raise RuleBroken(
            f"{field}.phone_number",
            "button_phone_number",
            "a PHONE_NUMBER button needs phone_number: the number to call in international "
            "format, digits with an optional leading + (like +15550051310)",
        )


def _check_url(button: Button, field: str) -> None:
    if not button.url or not re.match(r"^https?://[^\s/{}]+", button.url):
        raise RuleBroken(f"{field}.url", "button_url", "a URL button needs an http(s) url")
    variables = placeholder_numbers(button.url, f"{field}.url")
    if variables and (variables != [1] or not button.url.endswith("{{1}}")):
        raise RuleBroken(
            f"{field}.url",
            "url_button_variable",
            "a URL button has at most one variable, and only as a trailing {{1}}",
        )
    if button.example is not None and not variables:
        raise RuleBroken(
            f"{field}.example", "button_example", "only a URL with {{1}} takes an example"
        )


def _check_authentication(template: TemplateCreate) -> int:
    """Meta's format: no text of the caller's, one OTP button chosen by ``otp_type``."""
    for field in ("body", "footer", "header"):
        if getattr(template, field) is not None:
            raise RuleBroken(
                field,
                f"authentication_{field}",
                f"Meta writes an AUTHENTICATION template's text: leave {field} out "
                "(options: add_security_recommendation, code_expiration_minutes)",
            )
    if template.buttons:
        raise RuleBroken(
            "buttons",
            "authentication_buttons",
            "an AUTHENTICATION template has one OTP button, which Meta adds: choose it with "
            "otp_type (COPY_CODE or ONE_TAP)",
        )
    one_tap = template.otp_type == "ONE_TAP"
    for field in ("package_name", "signature_hash"):
        given = getattr(template, field) is not None
        if one_tap and not given:
            raise RuleBroken(field, "one_tap_app", f"a ONE_TAP button needs the app's {field}")
        if given and not one_tap:
            raise RuleBroken(field, "one_tap_app", f"{field} is for otp_type ONE_TAP only")
    if template.package_name and not _ANDROID_PACKAGE.fullmatch(template.package_name):
        raise RuleBroken(
            "package_name",
            "one_tap_app",
            "package_name is an Android package, like com.example.app",
        )
    return 0
