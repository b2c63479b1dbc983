"""A template's variables and its text with sample values: what Meta's review is shown, and
what the API and the console show as the template's preview.

The samples are the ones Herald sends to Meta with the template: a TEXT header's own
``header.example``, and for the body ``sample1``, ``sample2``… (positional) or
``sample_first_name``… (named), as the caller gives no body samples.
"""

from __future__ import annotations

import re
from typing import Any

_VARIABLE = re.compile(r"\{\{([^{}]*)\}\}")


def variables(text: str | None, parameter_format: str) -> list[str]:
    """The variables of a stored (checked) text, in order: names (NAMED) or numbers as
    strings (POSITIONAL)."""
    if not text:
        return []
    found = (match.group(1) for match in _VARIABLE.finditer(text))
    return list(found) if parameter_format == "NAMED" else [v.strip() for v in found]


def body_samples(body: str, parameter_format: str) -> list[tuple[str, str]]:
    """Each body variable (its name, or its number as a string) with its sample value."""
    return [
        (name, f"sample_{name}" if parameter_format == "NAMED" else f"sample{name}")
        for name in dict.fromkeys(variables(body, parameter_format))
    ]


def header_samples(
    header_text: str | None, example: str | None, parameter_format: str
) -> list[tuple[str, str]]:
    """A TEXT header's variable with its sample value (its ``example``), if it has one."""
    return [(name, example or "") for name in variables(header_text, parameter_format)][:1]


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with each ``{{variable}}`` replaced by its value (unknown ones left as they are)."""

    def value(match: re.Match[str]) -> str:
        return values.get(match.group(1).strip(), match.group(0))

    return _VARIABLE.sub(value, text)


def preview(
    body: str,
    parameter_format: str,
    header_format: str | None,
    header_text: str | None,
    header_example: str | None,
    footer: str | None,
    buttons: list[dict[str, Any]],
) -> dict[str, Any]:
    """The template as a recipient would see it with the sample values."""
    header = None
    if header_format == "TEXT" and header_text:
        samples = header_samples(header_text, header_example, parameter_format)
        header = fill(header_text, dict(samples))
    elif header_format:
        header = f"[{header_format.lower()}]"
    return {
        "header": header,
        "body": fill(body, dict(body_samples(body, parameter_format))),
        "footer": footer,
        "buttons": [b.get("text") or b["type"] for b in buttons],
    }
