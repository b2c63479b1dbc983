"""What ``POST /{waba_id}/message_templates`` refuses, rule by rule, as Meta does.

Each rule is written from Meta's OpenAPI description (v23.0) and the Cloud API's template
guides (docs/emulator.md, "Template creation: what is checked", names each source). Meta
answers a template it refuses with code 100 (Invalid parameter); the components accepted are
kept in Meta's shape, types upper-cased as Meta lists them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from herald.emulator.errors import MetaError

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
COMPONENT_TYPES = ("HEADER", "BODY", "FOOTER", "BUTTONS")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
# What a media header's sample may be (Meta: JPEG/PNG images, MP4 videos, PDF documents).
SAMPLE_TYPES = {
    "IMAGE": ("image/jpeg", "image/png"),
    "VIDEO": ("video/mp4",),
    "DOCUMENT": ("application/pdf",),
}
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "FLOW", "MPM", "CATALOG")
MOST_OF = {"URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1}
OTP_TYPES = ("COPY_CODE", "ONE_TAP", "ZERO_TAP")
MAX_BODY, MAX_HEADER, MAX_FOOTER, MAX_BUTTON_TEXT, MAX_BUTTONS = 1024, 60, 60, 25, 10
MAX_COUPON = 15
MAX_PHONE_NUMBER = 20
LENGTH_SUBCODE = 2388040  # a field over its character limit
HEADER_SUBCODE = 2388047  # the header's format or sample is wrong

_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_POSITIONAL = re.compile(r"\{\{(\d+)\}\}")
_NAMED = re.compile(r"\{\{([a-z_][a-z0-9_]*)\}\}")
_ANY = re.compile(r"\{\{([^{}]*)\}\}")

Handles = Callable[[str], str | None]  # a header handle → its file's MIME type, or None


def check_template(payload: Any, handle_type: Handles) -> dict[str, Any]:
    """The template as kept (Meta's shape), or MetaError for the first rule it breaks."""
    if not isinstance(payload, dict):
        raise MetaError(100, "the body must be a JSON object")
    name, language = payload.get("name"), payload.get("language")
    category, components = payload.get("category"), payload.get("components")
    if not isinstance(name, str) or not _NAME.match(name):
        raise MetaError(100, "name must be lower case letters, digits and underscores")
    if not isinstance(language, str) or not language:
        raise MetaError(100, "language is required")
    if category not in CATEGORIES:
        raise MetaError(100, f"category must be one of {', '.join(CATEGORIES)}")
    named = payload.get("parameter_format", "POSITIONAL")
    if named not in ("POSITIONAL", "NAMED"):
        raise MetaError(100, "parameter_format must be POSITIONAL or NAMED")
    kept = _components(components)
    if category == "AUTHENTICATION":
        _check_authentication(kept)
    else:
        _check_custom(kept, named == "NAMED", handle_type)
    return {
        "name": name,
        "language": language,
        "category": category,
        "components": [kept[kind] for kind in COMPONENT_TYPES if kind in kept],
    }


def _components(components: Any) -> dict[str, dict[str, Any]]:
    """Each component by its type (in either case, as Meta takes it), at most one of each."""
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise MetaError(100, "components must be a list of objects")
    kept: dict[str, dict[str, Any]] = {}
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind not in COMPONENT_TYPES:
            raise MetaError(100, f"component type must be one of {', '.join(COMPONENT_TYPES)}")
        if kind in kept:
            raise MetaError(100, f"only one {kind} component is allowed")
        kept[kind] = {**component, "type": kind}
    if "BODY" not in kept:
        raise MetaError(100, "a BODY component is required")
    return kept


def _text(component: dict[str, Any], limit: int, what: str) -> str:
    text = component.get("text")
    if not isinstance(text, str) or not text.strip():
        raise MetaError(100, f"{what} needs its text")
    if len(text) > limit:
        raise MetaError(100, f"{what} is over {limit} characters", subcode=LENGTH_SUBCODE)
    return text


# --- marketing and utility templates ----------------------------------------------------------


def _check_custom(kept: dict[str, dict[str, Any]], named: bool, handle_type: Handles) -> None:
    body = kept["BODY"]
    _check_variables(body, _text(body, MAX_BODY, "BODY"), "body_text", named)
    if "HEADER" in kept:
        _check_header(kept["HEADER"], named, handle_type)
    if "FOOTER" in kept:
        text = _text(kept["FOOTER"], MAX_FOOTER, "FOOTER")
        if _ANY.search(text):
            raise MetaError(100, "FOOTER text takes no variables")
    if "BUTTONS" in kept:
        kept["BUTTONS"]["buttons"] = _check_buttons(kept["BUTTONS"].get("buttons"))


def _check_variables(component: dict[str, Any], text: str, key: str, named: bool) -> int:
    """Variables numbered {{1}}..{{n}} (or named), with one example value each."""
    pattern = _NAMED if named else _POSITIONAL
    found = [match.group(1) for match in _ANY.finditer(text)]
    if any(not pattern.fullmatch(f"{{{{{v}}}}}") for v in found):
        raise MetaError(
            100, f"{component['type']} variables must be {'named' if named else '{{n}}'}"
        )
    if not found:
        return 0
    example = component.get("example")
    if not isinstance(example, dict):
        raise MetaError(100, f"{component['type']} has variables: example.{key} is required")
    if named:
        return _check_named_examples(component, example, key, found)
    if sorted({int(v) for v in found}) != list(range(1, len(set(found)) + 1)):
        raise MetaError(100, f"{component['type']} variables must run {{{{1}}}} to {{{{n}}}}")
    values = example.get(key)
    if key == "body_text":  # one row of values: [[...]]
        values = values[0] if isinstance(values, list) and values else None
    count = len(set(found))
    if not isinstance(values, list) or len(values) != count:
        raise MetaError(100, f"example.{key} needs {count} value(s)")
    if not all(isinstance(v, str) and v for v in values):
        raise MetaError(100, f"example.{key} values are non-empty strings")
    return count


def _check_named_examples(
    component: dict[str, Any], example: dict[str, Any], key: str, found: list[str]
) -> int:
    given = example.get(f"{key}_named_params")
    names = {
        item.get("param_name")
        for item in given or []
        if isinstance(item, dict) and isinstance(item.get("example"), str)
    }
    if not isinstance(given, list) or names != set(found):
        raise MetaError(
            100, f"example.{key}_named_params needs an example for each of {sorted(set(found))}"
        )
    return len(names)


def _check_header(header: dict[str, Any], named: bool, handle_type: Handles) -> None:
    header_format = header.get("format")
    if header_format not in HEADER_FORMATS:
        raise MetaError(
            100, f"HEADER format must be one of {', '.join(HEADER_FORMATS)}", subcode=HEADER_SUBCODE
        )
    if header_format == "TEXT":
        text = _text(header, MAX_HEADER, "a TEXT HEADER")
        if _check_variables(header, text, "header_text", named) > 1:
            raise MetaError(100, "a TEXT HEADER takes at most one variable", subcode=HEADER_SUBCODE)
        return
    if header_format == "LOCATION":
        return
    handles = (header.get("example") or {}).get("header_handle")
    if not isinstance(handles, list) or not handles or not all(isinstance(h, str) for h in handles):
        raise MetaError(
            100,
            f"a {header_format} HEADER needs example.header_handle: a sample uploaded through "
            "the Resumable Upload API",
            subcode=HEADER_SUBCODE,
        )
    for handle in handles:
        mime_type = handle_type(handle)
        if mime_type is None:
            raise MetaError(100, "header_handle is not a handle of an uploaded file")
        if mime_type not in SAMPLE_TYPES[str(header_format)]:
            raise MetaError(
                100,
                f"a {header_format} HEADER's sample cannot be {mime_type}",
                subcode=HEADER_SUBCODE,
            )


def _check_buttons(buttons: Any) -> list[dict[str, Any]]:
    if not isinstance(buttons, list) or not buttons or len(buttons) > MAX_BUTTONS:
        raise MetaError(100, f"BUTTONS holds 1 to {MAX_BUTTONS} buttons")
    kept = []
    for button in buttons:
        if not isinstance(button, dict):
            raise MetaError(100, "each button is an object")
        kind = str(button.get("type", "")).upper()
        if kind not in BUTTON_TYPES:
            raise MetaError(100, f"button type must be one of {', '.join(BUTTON_TYPES)}")
        button = {**button, "type": kind}
        _check_button(button)
        kept.append(button)
    kinds = [b["type"] for b in kept]
    for kind, most in MOST_OF.items():
        if kinds.count(kind) > most:
            raise MetaError(100, f"at most {most} {kind} button(s)")
    return kept


def _check_button(button: dict[str, Any]) -> None:
    kind = button["type"]
    if kind == "COPY_CODE":
        example = button.get("example")
        if not isinstance(example, str) or not example or len(example) > MAX_COUPON:
            raise MetaError(100, f"a COPY_CODE button needs example: a code of 1-{MAX_COUPON}")
        return
    _text(button, MAX_BUTTON_TEXT, f"a {kind} button")
    if kind == "URL":
        url = button.get("url")
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/{}]+", url):
            raise MetaError(100, "a URL button needs an http(s) url")
        variables = _ANY.findall(url)
        if variables and (variables != ["1"] or not url.endswith("{{1}}")):
            raise MetaError(100, "a URL button's only variable is a trailing {{1}}")
        example = button.get("example")
        if variables and not (
            isinstance(example, list) and len(example) == 1 and isinstance(example[0], str)
        ):
            raise MetaError(100, "a URL button with {{1}} needs example: [one sample]")
    elif kind == "PHONE_NUMBER":
        number = button.get("phone_number")
        # Meta: the business's number in international format, at most 20 characters.
        if not isinstance(number, str) or not re.fullmatch(r"\+?[0-9]{5,20}", number):
            raise MetaError(100, "a PHONE_NUMBER button needs phone_number")
        if len(number) > MAX_PHONE_NUMBER:
            raise MetaError(
                100, f"phone_number is over {MAX_PHONE_NUMBER} characters", subcode=LENGTH_SUBCODE
            )
        if "url" in button or "example" in button:
            raise MetaError(100, "a PHONE_NUMBER button has only text and phone_number")
    elif kind == "FLOW" and not any(button.get(k) for k in ("flow_id", "flow_name", "flow_json")):
        raise MetaError(100, "a FLOW button needs flow_id, flow_name or flow_json")


# --- authentication templates -----------------------------------------------------------------


def _check_authentication(kept: dict[str, dict[str, Any]]) -> None:
    """Meta writes these: no text of the sender's, one OTP button."""
    if "HEADER" in kept:
        raise MetaError(100, "AUTHENTICATION templates have no HEADER")
    body = kept["BODY"]
    if "text" in body or "example" in body:
        raise MetaError(100, "an AUTHENTICATION BODY has no text: Meta writes it")
    if not isinstance(body.get("add_security_recommendation", False), bool):
        raise MetaError(100, "add_security_recommendation is true or false")
    footer = kept.get("FOOTER")
    if footer is not None:
        minutes = footer.get("code_expiration_minutes")
        if "text" in footer or not isinstance(minutes, int) or not 1 <= minutes <= 90:
            raise MetaError(100, "an AUTHENTICATION FOOTER is only code_expiration_minutes, 1-90")
    buttons = (kept.get("BUTTONS") or {}).get("buttons")
    if not isinstance(buttons, list) or len(buttons) != 1 or not isinstance(buttons[0], dict):
        raise MetaError(100, "an AUTHENTICATION template has exactly one OTP button")
    button = {**buttons[0], "type": str(buttons[0].get("type", "")).upper()}
    if button["type"] != "OTP" or button.get("otp_type") not in OTP_TYPES:
        raise MetaError(100, f"the button is type OTP with otp_type {', '.join(OTP_TYPES)}")
    if button["otp_type"] != "COPY_CODE" and not _android_app(button):
        raise MetaError(
            100, f"a {button['otp_type']} button needs the app's package_name and signature_hash"
        )
    for key in ("text", "autofill_text"):
        if key in button and not (
            isinstance(button[key], str) and 0 < len(button[key]) <= MAX_BUTTON_TEXT
        ):
            raise MetaError(100, f"{key} is 1 to {MAX_BUTTON_TEXT} characters")
    kept["BUTTONS"]["buttons"] = [button]


def _android_app(button: dict[str, Any]) -> bool:
    apps = button.get("supported_apps") or [button]
    return isinstance(apps, list) and all(
        isinstance(app, dict)
        and isinstance(app.get("package_name"), str)
        and isinstance(app.get("signature_hash"), str)
        and bool(app["package_name"] and app["signature_hash"])
        for app in apps
    )
