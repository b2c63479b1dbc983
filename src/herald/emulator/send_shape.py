"""A template send's payload against the shape Meta's spec gives it, before any template is
looked up. The rules, each with where Meta's OpenAPI description (v23.0) says so, are listed in
docs/emulator.md ("What a send is checked for"); the codes are Meta's: 100 for a value of the
wrong type or outside its enum, 131008 for a required member left out, 131009 for a value out of
its range."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

INVALID_PARAMETER = 100
PARAMETER_MISSING = 131008
PARAMETER_VALUE_INVALID = 131009

COMPONENT_TYPES = ("header", "body", "button")
# TemplateComponent.sub_type lists quick_reply, url and catalog; the spec's own send examples
# add "flow" and "CATALOG", and Meta's coupon templates "COPY_CODE": Meta reads it in any case.
SUB_TYPES = ("quick_reply", "url", "catalog", "flow", "copy_code")
TEXT_MAX_LENGTH = 32768  # TextParameter.text.maxLength
_PHONE = re.compile(r"\+?[0-9]{5,20}")
_URL = re.compile(r"https?://\S+")


class Refused(Exception):
    """A send Meta refuses, with Meta's code."""

    def __init__(self, code: int, details: str) -> None:
        super().__init__(details)
        self.code, self.details = code, details


@dataclass(frozen=True)
class SentTemplate:
    to: str  # digits only: how Meta names the recipient in its answer and webhooks
    name: str
    language: str
    components: list[dict[str, Any]]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [c for c in self.components if c["type"] == kind]


def check_recipient(payload: Any) -> str:
    """BaseMessageProperties, common to every message type: the recipient's digits."""
    if not isinstance(payload, dict) or payload.get("messaging_product") != "whatsapp":
        raise Refused(INVALID_PARAMETER, "messaging_product must be whatsapp")
    if payload.get("recipient_type", "individual") not in ("individual", "group"):
        raise Refused(INVALID_PARAMETER, "recipient_type must be individual or group")
    to = payload.get("to")
    if not isinstance(to, str) or not _PHONE.fullmatch(to):
        raise Refused(INVALID_PARAMETER, "to must be the recipient's phone number")
    return to.removeprefix("+")


def read_send(payload: Any) -> SentTemplate:
    """The send's template, or ``Refused`` naming the first member that breaks the spec."""
    to = check_recipient(payload)
    template = payload.get("template")
    if payload.get("type") != "template" or not isinstance(template, dict):
        raise Refused(INVALID_PARAMETER, "a template message needs type template and a template")
    name, language = template.get("name"), template.get("language")
    language = language if isinstance(language, dict) else {}
    code = language.get("code")
    if not isinstance(name, str) or not name or not isinstance(code, str) or not code:
        raise Refused(PARAMETER_MISSING, "template needs name and language.code")
    if language.get("policy", "deterministic") != "deterministic":
        raise Refused(INVALID_PARAMETER, "language.policy must be deterministic")
    components = template.get("components", [])
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise Refused(INVALID_PARAMETER, "template.components must be a list of objects")
    for position, component in enumerate(components):
        _check_component(component, f"components[{position}]")
    indexes = [button_index(c) for c in components if c["type"] == "button"]
    if len(indexes) != len(set(indexes)):
        raise Refused(PARAMETER_VALUE_INVALID, "two button components have the same index")
    return SentTemplate(to, name, code, components)


def button_index(component: dict[str, Any]) -> int:
    """A checked button component's index: a string in the schema, an integer in the spec's
    own catalog and issue-resolution examples; either way 0-9."""
    return int(component["index"])


def _check_component(component: dict[str, Any], where: str) -> None:
    kind = component.get("type")
    if kind not in COMPONENT_TYPES:
        raise Refused(INVALID_PARAMETER, f"{where}.type must be header, body or button")
    parameters = component.get("parameters", [])
    if not isinstance(parameters, list) or not all(isinstance(p, dict) for p in parameters):
        raise Refused(INVALID_PARAMETER, f"{where}.parameters must be a list of objects")
    if kind == "button":
        _check_button(component, parameters, where)
    elif kind == "header" and not parameters:
        raise Refused(PARAMETER_MISSING, f"{where} is a header without parameters")
    for position, parameter in enumerate(parameters):
        _check_parameter(parameter, f"{where}.parameters[{position}]")


def _check_button(component: dict[str, Any], parameters: list[Any], where: str) -> None:
    for member in ("sub_type", "index"):
        if component.get(member) is None:
            raise Refused(PARAMETER_MISSING, f"{where} is a button without {member}")
    if not parameters:
        raise Refused(PARAMETER_MISSING, f"{where} is a button without parameters")
    sub_type = component["sub_type"]
    if not isinstance(sub_type, str) or sub_type.lower() not in SUB_TYPES:
        raise Refused(INVALID_PARAMETER, f"{where}.sub_type must be one of {', '.join(SUB_TYPES)}")
    index = component["index"]
    valid = (isinstance(index, int) and not isinstance(index, bool) and 0 <= index <= 9) or (
        isinstance(index, str) and len(index) == 1 and index.isdigit()
    )
    if not valid:
        raise Refused(PARAMETER_VALUE_INVALID, f"{where}.index must be a button position, 0-9")


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _has(*members: str, numbers: tuple[str, ...] = ()) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return (
            isinstance(value, dict)
            and all(isinstance(value.get(m), str) for m in members)
            and all(
                isinstance(value.get(n), int | float) and not isinstance(value.get(n), bool)
                for n in numbers
            )
        )

    return check


def _is_media(value: Any) -> bool:
    return isinstance(value, dict)


# Each parameter type and the check of the member that carries its value (ParameterObject,
# ButtonParameterObject and their children; coupon_code, action and location from the spec's
# examples and Meta's template guides).
_VALUE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "text": _is_text,
    "currency": _has("fallback_value", "code", numbers=("amount_1000",)),
    "date_time": _has("fallback_value"),
    "image": _is_media,
    "video": _is_media,
    "document": _is_media,
    "location": _has(numbers=("latitude", "longitude")),
    "payload": _is_text,
    "coupon_code": _is_text,
    "action": lambda value: isinstance(value, dict),
}
PARAMETER_TYPES = tuple(_VALUE_CHECKS)


def _check_parameter(parameter: dict[str, Any], where: str) -> None:
    kind = parameter.get("type")
    if kind not in _VALUE_CHECKS:
        raise Refused(INVALID_PARAMETER, f"{where}.type must be one of {', '.join(_VALUE_CHECKS)}")
    if parameter.get(kind) is None:
        raise Refused(PARAMETER_MISSING, f"{where} of type {kind} needs {kind}")
    value = parameter[kind]
    if not _VALUE_CHECKS[kind](value):
        raise Refused(INVALID_PARAMETER, f"{where}.{kind} is not a valid {kind}")
    if kind == "text" and len(value) > TEXT_MAX_LENGTH:
        raise Refused(INVALID_PARAMETER, f"{where}.text is over {TEXT_MAX_LENGTH} characters")
    if kind in ("image", "video", "document"):
        check_media(value, f"{where}.{kind}")


def check_media(media: dict[str, Any], where: str) -> None:
    """MediaObject: exactly one of ``id`` and ``link``; a link is http(s) only."""
    given = [member for member in ("id", "link") if member in media]
    if not given:
        raise Refused(PARAMETER_MISSING, f"{where} needs id or link")
    if len(given) == 2:
        raise Refused(INVALID_PARAMETER, f"{where} takes id or link, not both")
    value = media[given[0]]
    if not isinstance(value, str) or not value:
        raise Refused(INVALID_PARAMETER, f"{where}.{given[0]} must be a string")
    if given[0] == "link" and not _URL.fullmatch(value):
        raise Refused(INVALID_PARAMETER, f"{where}.link must be an http(s) URL")


def non_empty_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def only(part: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    """A member outside the schema's is refused (the schemas close their objects)."""
    extra = sorted(set(part) - set(allowed))
    if extra:
        raise Refused(INVALID_PARAMETER, f"{where} does not take {', '.join(extra)}")


def string(part: dict[str, Any], member: str, where: str, limit: int, required: bool) -> None:
    """``member``: a non-empty string of at most ``limit`` characters, if given or required."""
    if member not in part:
        if required:
            raise Refused(PARAMETER_MISSING, f"{where} needs {member}")
        return
    value = part[member]
    if not non_empty_text(value):
        raise Refused(INVALID_PARAMETER, f"{where}.{member} must be a non-empty string")
    if len(value) > limit:
        raise Refused(PARAMETER_VALUE_INVALID, f"{where}.{member} is over {limit} characters")
