"""The rules a template must follow before it is stored (spec/api.md §4).

Each failure names its rule, so an integrator can tell which one without parsing prose.
"""

from __future__ import annotations

import re

from herald.errors import ValidationFailed
from herald.template.schemas import TemplateCreate

MAX_BUTTONS = 10
_ANY_PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")


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
                f"placeholders are numbered like {{{{1}}}}; {match.group(0)} is not one",
            )
        numbers.append(int(inner))
    return numbers


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
    header = template.header
    if header is not None:
        if header.format == "TEXT":
            if not header.text:
                raise RuleBroken("header.text", "header_text", "a TEXT header needs its text")
            if placeholder_numbers(header.text, "header.text"):
                raise RuleBroken("header.text", "header_text", "header text has no placeholders")
        elif header.text is not None:
            raise RuleBroken(
                "header.text", "header_text", f"a {header.format} header carries a file, not text"
            )
    if template.footer and placeholder_numbers(template.footer, "footer"):
        raise RuleBroken("footer", "footer_text", "the footer has no placeholders")
    _check_buttons(template)
    if template.category == "AUTHENTICATION":
        return _check_authentication(template)
    return check_placeholder_sequence(template.body, "body")


def _check_buttons(template: TemplateCreate) -> None:
    if len(template.buttons) > MAX_BUTTONS:
        raise RuleBroken("buttons", "button_limit", f"at most {MAX_BUTTONS} buttons")
    for index, button in enumerate(template.buttons):
        field = f"buttons.{index}"
        if button.type in ("URL", "QUICK_REPLY") and not button.text:
            raise RuleBroken(f"{field}.text", "button_text", f"a {button.type} button needs text")
        if button.type != "URL":
            if button.url is not None:
                raise RuleBroken(f"{field}.url", "button_url", "only URL buttons have a url")
            continue
        if not button.url or not re.match(r"^https?://[^\s/{}]+", button.url):
            raise RuleBroken(f"{field}.url", "button_url", "a URL button needs an http(s) url")
        variables = placeholder_numbers(button.url, f"{field}.url")
        if variables and (variables != [1] or not button.url.endswith("{{1}}")):
            raise RuleBroken(
                f"{field}.url",
                "url_button_variable",
                "a URL button has at most one variable, and only as a trailing {{1}}",
            )


def _check_authentication(template: TemplateCreate) -> int:
    numbers = placeholder_numbers(template.body, "body")
    if numbers not in ([], [1]):
        raise RuleBroken(
            "body",
            "authentication_body",
            "an AUTHENTICATION body has no custom placeholders; only {{1}}, the code, once",
        )
    kinds = [button.type for button in template.buttons]
    if kinds != ["COPY_CODE"]:
        raise RuleBroken(
            "buttons",
            "authentication_buttons",
            "an AUTHENTICATION template has exactly one button, of type COPY_CODE (the OTP)",
        )
    if template.header is not None:
        raise RuleBroken(
            "header", "authentication_header", "AUTHENTICATION templates have no header"
        )
    return 0
