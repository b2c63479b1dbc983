"""A template as Meta lists it, as Herald's template fields.

Meta's components are kept as they came (``components``); what Herald can send is read out of
them into the fields a send is checked against (header, body, footer, buttons, OTP options,
placeholder count). A kind Herald cannot send yet is imported all the same, with ``sendable``
false and the reason: never dropped, never a failure of the sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

from herald.provider.base import ProviderTemplate
from herald.template import authentication
from herald.template.preview import variables
from herald.template.provider_news import CATEGORIES

# Meta's template statuses and the state each is in Herald (those not named: DISABLED, as a
# template Meta lists in a status Herald does not know cannot be sent).
STATES = {
    "APPROVED": "APPROVED",
    "PENDING": "PENDING",
    "IN_APPEAL": "PENDING",  # reviewed again
    "REJECTED": "REJECTED",
    "PAUSED": "PAUSED",
    "DISABLED": "DISABLED",
    "LIMIT_EXCEEDED": "DISABLED",
    "ARCHIVED": "DISABLED",
    "PENDING_DELETION": "DELETED",
    "DELETED": "DELETED",
}
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
# Button types a send through Herald can carry (OTP: an AUTHENTICATION template's one button).
SENDABLE_BUTTONS = ("QUICK_REPLY", "URL", "COPY_CODE", "PHONE_NUMBER", "OTP")
# Components Herald cannot send yet, each with the words the reason uses.
UNSENDABLE_COMPONENTS = {
    "CAROUSEL": "a carousel",
    "LIMITED_TIME_OFFER": "a limited-time offer",
    "CALL_PERMISSION_REQUEST": "a call permission request",
}
UNSENDABLE_BUTTONS = {
    "FLOW": "a flow button",
    "MPM": "a multi-product (catalog) button",
    "SPM": "a single-product (catalog) button",
    "CATALOG": "a catalog button",
    "VOICE_CALL": "a voice call button",
}


@dataclass(frozen=True)
class ImportedFields:
    """The columns of a ``Template`` an import or a sync writes."""

    category: str
    state: str
    rejection_reason: str | None
    quality: str | None
    parameter_format: str
    components: list[dict[str, Any]]
    header_format: str | None
    header_text: str | None
    header_example: str | None
    body: str
    footer: str | None
    buttons: list[dict[str, Any]]
    authentication: dict[str, Any] | None
    placeholder_count: int
    sendable: bool
    unsendable_reason: str | None

    def as_columns(self) -> dict[str, Any]:
        return dict(self.__dict__)


def state_of(status: str) -> str:
    return STATES.get(status.upper(), "DISABLED")


def imported(listed: ProviderTemplate) -> ImportedFields:
    """Herald's fields for one listed template (never raises on a kind it does not know)."""
    components = [dict(c) for c in listed.components or ()]
    by_type: dict[str, dict[str, Any]] = {}
    reasons: list[str] = []
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind in ("HEADER", "BODY", "FOOTER", "BUTTONS"):
            by_type.setdefault(kind, component)
        else:
            reasons.append(UNSENDABLE_COMPONENTS.get(kind, f"a {kind or 'nameless'} component"))
    category = str(listed.category or "").upper()
    if category not in CATEGORIES:
        reasons.append(f"Meta's category {category or '(none)'}")
        category = "UTILITY"
    header = _header(by_type.get("HEADER"), reasons)
    buttons, otp = _buttons(by_type.get("BUTTONS"), category, reasons)
    body_component = by_type.get("BODY") or {}
    footer_component = by_type.get("FOOTER") or {}
    options = _otp_options(otp, body_component, footer_component) if otp is not None else None
    if category == "AUTHENTICATION" and options is None:
        reasons.append("an AUTHENTICATION template without an OTP button")
    wording = authentication.wording(options) if options else (None, None)
    body = _text(body_component.get("text")) or wording[0] or ""
    footer = _text(footer_component.get("text")) or wording[1]
    parameter_format = listed.parameter_format.upper()
    rejected = listed.rejected_reason
    state = state_of(listed.status)
    distinct_variables = set(variables(body, parameter_format))
    return ImportedFields(
        category=category,
        state=state,
        rejection_reason=rejected if state == "REJECTED" and rejected != "NONE" else None,
        quality=listed.quality,
        parameter_format=parameter_format if parameter_format == "NAMED" else "POSITIONAL",
        components=components,
        header_format=header[0],
        header_text=header[1],
        header_example=header[2],
        body=body,
        footer=footer,
        buttons=buttons,
        authentication=options,
        # An AUTHENTICATION template's one variable is the code, given as otp_code (as create).
        placeholder_count=0 if category == "AUTHENTICATION" else len(distinct_variables),
        sendable=not reasons,
        unsendable_reason=_reason(reasons),
    )


def _reason(reasons: list[str]) -> str | None:
    if not reasons:
        return None
    kinds = ", ".join(dict.fromkeys(reasons))
    return f"Herald cannot send this kind of template yet: it has {kinds}."


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _first(values: Any) -> Any:
    """The first of Meta's example lists (``[["a", "b"]]`` or ``["a"]``), or None."""
    while isinstance(values, list):
        if not values:
            return None
        values = values[0]
    return values


def _header(
    component: dict[str, Any] | None, reasons: list[str]
) -> tuple[str | None, str | None, str | None]:
    """(format, text, the sample of its variable)."""
    if component is None:
        return None, None, None
    header_format = str(component.get("format", "")).upper()
    if header_format == "TEXT":
        example = component.get("example") or {}
        sample = _first(example.get("header_text")) if isinstance(example, dict) else None
        named = example.get("header_text_named_params") if isinstance(example, dict) else None
        if sample is None and isinstance(named, list) and named and isinstance(named[0], dict):
            sample = named[0].get("example")
        return "TEXT", _text(component.get("text")), str(sample)[:60] if sample else None
    if header_format in MEDIA_FORMATS:
        return header_format, None, None
    reasons.append(f"a {header_format.lower() or 'nameless'} header")
    return None, None, None


def _buttons(
    component: dict[str, Any] | None, category: str, reasons: list[str]
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Herald's buttons, and the OTP button of an AUTHENTICATION template (or None)."""
    listed = (component or {}).get("buttons") or []
    buttons: list[dict[str, Any]] = []
    otp: dict[str, Any] | None = None
    for button in (b for b in listed if isinstance(b, dict)):
        kind = str(button.get("type", "")).upper()
        if category == "AUTHENTICATION" and kind in ("OTP", "URL"):
            otp = _as_otp(button)
            continue
        if kind not in SENDABLE_BUTTONS or kind == "OTP":
            reasons.append(UNSENDABLE_BUTTONS.get(kind, f"a {kind or 'nameless'} button"))
            continue
        buttons.append(_button(kind, button))
    return buttons, otp


def _button(kind: str, button: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {"type": kind}
    text = _text(button.get("text"))
    if text:
        kept["text"] = text
    if kind == "URL":
        url = str(button.get("url", ""))
        kept["url"] = url
        sample = _first(button.get("example"))
        if "{{1}}" in url and isinstance(sample, str):
            prefix, _, suffix = url.partition("{{1}}")
            value = sample.removeprefix(prefix)
            kept["example"] = value.removesuffix(suffix) if suffix else value
    elif kind == "COPY_CODE":
        sample = _first(button.get("example"))
        if isinstance(sample, str):
            kept["example"] = sample
    elif kind == "PHONE_NUMBER":
        kept["phone_number"] = str(button.get("phone_number", ""))
    return kept


def _as_otp(button: dict[str, Any]) -> dict[str, Any]:
    """An OTP button, as Meta lists it today (``type: OTP``) or did (a URL to whatsapp.com)."""
    if str(button.get("type", "")).upper() == "OTP":
        return button
    query = parse_qs(urlparse(str(button.get("url", ""))).query)
    return {"otp_type": (query.get("otp_type") or ["COPY_CODE"])[0].upper()}


def _otp_options(
    otp: dict[str, Any], body: dict[str, Any], footer: dict[str, Any]
) -> dict[str, Any]:
    """Herald's ``authentication`` options from Meta's listed OTP button, body and footer."""
    otp_type = str(otp.get("otp_type", "COPY_CODE")).upper()
    options: dict[str, Any] = {
        "otp_type": otp_type,
        "add_security_recommendation": bool(body.get("add_security_recommendation")),
    }
    minutes = footer.get("code_expiration_minutes")
    if isinstance(minutes, int):
        options["code_expiration_minutes"] = minutes
    apps = otp.get("supported_apps")
    app = apps[0] if isinstance(apps, list) and apps and isinstance(apps[0], dict) else otp
    if otp_type in ("ONE_TAP", "ZERO_TAP") and app.get("package_name"):
        options["package_name"] = str(app["package_name"])
        options["signature_hash"] = str(app.get("signature_hash", ""))
    return options
