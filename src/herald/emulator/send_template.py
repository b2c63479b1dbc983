"""A template send against the template it names, as Meta stores templates (components as
Meta's creation request gives them: HEADER with ``format``, BODY, FOOTER, BUTTONS). Each rule
and where Meta's spec says so is listed in docs/emulator.md ("What a send is checked for")."""

from __future__ import annotations

import posixpath
import re
from typing import Any
from urllib.parse import urlsplit

from herald.emulator.records import EmulatedTemplate
from herald.emulator.send_shape import (
    INVALID_PARAMETER,
    PARAMETER_MISSING,
    PARAMETER_VALUE_INVALID,
    Refused,
    SentTemplate,
    button_index,
)
from herald.emulator.state import EmulatorState

PARAMETER_COUNT_MISMATCH = 132000
FORMAT_MISMATCH = 132012
MEDIA_UNAVAILABLE = 131053
PARAMETER_TEXT_REFUSED = 132018
# Meta's error codes page (132018, not in its OpenAPI file): "Param text cannot have
# new-line/tab characters or more than 4 consecutive spaces" (body and header text parameters).
_REFUSED_IN_TEXT = ("\n", "\t", " " * 5)

MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
BODY_PARAMETER_TYPES = ("text", "currency", "date_time")  # BodyComponent.parameters
COUPON_CODE_MAX_LENGTH = 15
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
# The send's sub_type for each button type of a template, and the one parameter type it takes.
_SUB_TYPE = {
    "QUICK_REPLY": "quick_reply",
    "URL": "url",
    "COPY_CODE": "copy_code",
    "CATALOG": "catalog",
    "FLOW": "flow",
}
_PARAMETER_TYPE = {
    "quick_reply": "payload",
    "url": "text",
    "copy_code": "coupon_code",
    "catalog": "action",
    "flow": "action",
}


# Meta fetches a header's ``link`` when it sends, and a file it cannot use fails the message
# after the send was accepted: a ``failed`` status with 131053 ("Media upload error"). The
# emulator fetches nothing: it reads the file's type from the link's extension (a link without
# a known one is taken as fine). The types Meta takes in a template header: JPEG and PNG
# images, MP4 and 3GPP videos, PDF documents.
_LINK_TYPES = {"image": (".jpg", ".jpeg", ".png"), "video": (".mp4", ".3gp"), "document": (".pdf",)}
_KNOWN_EXTENSIONS = (
    *(extension for extensions in _LINK_TYPES.values() for extension in extensions),
    *(".gif", ".webp", ".bmp", ".svg", ".mov", ".avi", ".mkv", ".webm"),
    *(".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".txt", ".zip", ".html"),
)


def link_failure(sent: SentTemplate) -> int | None:
    """The code a send's header link fails with once Meta fetches it, or None."""
    for component in sent.of_type("header"):
        for parameter in component.get("parameters", []):
            kind = parameter.get("type")
            media = parameter.get(kind) if kind in _LINK_TYPES else None
            if not isinstance(media, dict) or not isinstance(media.get("link"), str):
                continue
            extension = posixpath.splitext(urlsplit(media["link"]).path.lower())[1]
            if extension in _KNOWN_EXTENSIONS and extension not in _LINK_TYPES[str(kind)]:
                return MEDIA_UNAVAILABLE
    return None


def check_against_template(
    state: EmulatorState, template: EmulatedTemplate, sent: SentTemplate, phone_number_id: str
) -> None:
    """``Refused`` with Meta's code when ``sent`` does not fit ``template``."""
    components = {str(c.get("type", "")).upper(): c for c in template.components}
    _check_header(state, components.get("HEADER"), sent, phone_number_id)
    _check_body(template, components.get("BODY"), sent)
    buttons = (components.get("BUTTONS") or {}).get("buttons") or []
    _check_buttons(template, [b for b in buttons if isinstance(b, dict)], sent)


def _variables(text: Any) -> set[str]:
    return set(_VARIABLE.findall(text)) if isinstance(text, str) else set()


def _one_parameter(sent: SentTemplate, kind: str) -> dict[str, Any] | None:
    """The parameter of the send's ``kind`` component, None when there is none; 132000 when
    it has more than the one the template takes."""
    found = sent.of_type(kind)
    parameters = found[0].get("parameters", []) if found else []
    if len(parameters) > 1:
        raise Refused(PARAMETER_COUNT_MISMATCH, f"the {kind} takes one parameter")
    return parameters[0] if parameters else None


def _check_header(
    state: EmulatorState, header: dict[str, Any] | None, sent: SentTemplate, phone_number_id: str
) -> None:
    header_format = str((header or {}).get("format", "")).upper()
    takes_text = header_format == "TEXT" and bool(_variables((header or {}).get("text")))
    if header_format not in (*MEDIA_FORMATS, "LOCATION") and not takes_text:
        if any(c.get("parameters") for c in sent.of_type("header")):
            raise Refused(PARAMETER_COUNT_MISMATCH, "the template's header takes no parameters")
        return
    parameter = _one_parameter(sent, "header")
    if parameter is None:
        raise Refused(PARAMETER_MISSING, f"the template's {header_format} header needs a parameter")
    kind = "text" if takes_text else header_format.lower()
    if parameter["type"] != kind:
        raise Refused(FORMAT_MISMATCH, f"the template's header is {header_format}, not {kind}")
    if takes_text:
        _check_text(parameter)
        _check_names([parameter], _variables((header or {}).get("text")), "header")
    if header_format in MEDIA_FORMATS:
        _check_header_media(state, kind, parameter[kind], phone_number_id)


def _check_text(parameter: dict[str, Any]) -> None:
    text = parameter.get("text")
    if isinstance(text, str) and any(refused in text for refused in _REFUSED_IN_TEXT):
        raise Refused(
            PARAMETER_TEXT_REFUSED,
            "Param text cannot have new-line/tab characters or more than 4 consecutive spaces",
        )


def _check_header_media(
    state: EmulatorState, kind: str, media: dict[str, Any], phone_number_id: str
) -> None:
    if "id" not in media:
        return  # a link: Meta fetches it when it delivers
    known = state.media.get(str(media["id"]))
    if known is None or known.expired or known.phone_number_id != phone_number_id:
        raise Refused(MEDIA_UNAVAILABLE, "the media id is unknown, expired or another number's")
    if kind == "document" and known.mime_type != "application/pdf":
        # DocumentParameter: "Only PDF documents are supported for media-based message templates."
        raise Refused(MEDIA_UNAVAILABLE, "a template's document header takes only a PDF")


def _check_body(
    template: EmulatedTemplate, body: dict[str, Any] | None, sent: SentTemplate
) -> None:
    bodies = sent.of_type("body")
    parameters = [p for c in bodies for p in c.get("parameters", [])]
    variables = _variables((body or {}).get("text"))
    # An authentication template's wording is Meta's, with one variable: the code.
    expected = 1 if template.category == "AUTHENTICATION" else len(variables)
    if len(parameters) != expected:
        raise Refused(
            PARAMETER_COUNT_MISMATCH,
            f"body expects {expected} parameter(s), got {len(parameters)}",
        )
    for parameter in parameters:
        if parameter["type"] not in BODY_PARAMETER_TYPES:
            raise Refused(FORMAT_MISMATCH, f"a body parameter cannot be {parameter['type']}")
        if parameter["type"] == "text":
            _check_text(parameter)
    if template.category != "AUTHENTICATION":
        _check_names(parameters, variables, "body")
    elif any("parameter_name" in p for p in parameters):
        raise Refused(INVALID_PARAMETER, "an authentication template's code is positional")


def _check_names(parameters: list[dict[str, Any]], variables: set[str], where: str) -> None:
    """Named variables ({{first_name}}): each parameter names the one it fills, each once;
    positional ones ({{1}}): no parameter is named (the two never mix)."""
    named = bool(variables) and not all(v.isdigit() for v in variables)
    given = [p.get("parameter_name") for p in parameters]
    if not named:
        if any(name is not None for name in given):
            raise Refused(
                INVALID_PARAMETER,
                f"the template's {where} variables are positional: no parameter_name",
            )
        return
    if not all(isinstance(name, str) and name for name in given):
        # Meta's answer: (#100) Invalid parameter, "Parameter name is missing or empty".
        raise Refused(INVALID_PARAMETER, "Parameter name is missing or empty")
    if len(set(given)) != len(given) or set(given) != variables:
        raise Refused(
            PARAMETER_COUNT_MISMATCH,
            f"the {where}'s named parameters must be its variables, each once: "
            f"{', '.join(sorted(variables))}",
        )


def _expected_sub_type(template: EmulatedTemplate, button: dict[str, Any]) -> str | None:
    kind = str(button.get("type", "")).upper()
    if template.category == "AUTHENTICATION" and kind in ("OTP", "COPY_CODE"):
        return "url"  # the code goes in a url button at index 0, whatever the OTP type
    return _SUB_TYPE.get(kind)


def _takes_value(template: EmulatedTemplate, button: dict[str, Any]) -> bool:
    sub_type = _expected_sub_type(template, button)
    if template.category == "AUTHENTICATION" or sub_type == "copy_code":
        return sub_type is not None
    return sub_type == "url" and bool(_variables(button.get("url")))


def _check_buttons(
    template: EmulatedTemplate, buttons: list[dict[str, Any]], sent: SentTemplate
) -> None:
    given = {button_index(c): c for c in sent.of_type("button")}
    for index, component in sorted(given.items()):
        if index >= len(buttons):
            raise Refused(
                PARAMETER_VALUE_INVALID, f"no button at index {index} ({len(buttons)} in all)"
            )
        button = buttons[index]
        expected = _expected_sub_type(template, button)
        if expected is None or component["sub_type"].lower() != expected:
            raise Refused(
                FORMAT_MISMATCH,
                f"button {index} is {button.get('type')}; sub_type {expected} is expected",
            )
        if expected == "url" and not _takes_value(template, button):
            raise Refused(PARAMETER_COUNT_MISMATCH, f"button {index}'s URL takes no parameter")
        parameter = _one_parameter_of(component)
        if parameter["type"] != _PARAMETER_TYPE[expected]:
            raise Refused(
                FORMAT_MISMATCH,
                f"a {expected} button takes a {_PARAMETER_TYPE[expected]} parameter",
            )
        if expected == "copy_code" and len(parameter["coupon_code"]) > COUPON_CODE_MAX_LENGTH:
            raise Refused(PARAMETER_VALUE_INVALID, "a coupon code is at most 15 characters")
    for index, button in enumerate(buttons):
        if index not in given and _takes_value(template, button):
            raise Refused(PARAMETER_MISSING, f"button {index} needs its value")


def _one_parameter_of(component: dict[str, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = component["parameters"]
    if len(parameters) != 1:
        raise Refused(PARAMETER_COUNT_MISMATCH, "a button takes one parameter")
    return parameters[0]
