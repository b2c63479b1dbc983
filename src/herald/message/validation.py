"""Everything a send is checked against before it is accepted (spec/api.md §5)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from herald.callback.urls import CallbackUrlRefused, check_public_https
from herald.errors import HeraldError, ValidationFailed
from herald.kit.phone import PhoneNumber, normalise
from herald.media.service import HeaderMediaMismatch, MediaNotFound, check_header_asset
from herald.message.schemas import ButtonParam, RecipientFields
from herald.models import MediaAsset, Template
from herald.template.preview import variables
from herald.template.rules import MAX_COUPON_CODE

MEDIA_HEADERS = ("IMAGE", "VIDEO", "DOCUMENT")
# The send's sub_type of each button type that takes a value at send; a PHONE_NUMBER button
# takes none (its number is the template's), so no send names its index.
SUB_TYPE_OF = {"URL": "url", "QUICK_REPLY": "quick_reply", "COPY_CODE": "copy_code"}
# Meta refuses a text parameter with a newline, a tab or more than four spaces in a row
# (132018, "Param text cannot have new-line/tab characters or more than 4 consecutive
# spaces"), and only when it sends, long after the 202: refused here at intake instead.
_REFUSED_IN_PARAM_TEXT = ("\n", "\t", " " * 5)


class TemplateNotApproved(HeraldError):
    code = "template_not_approved"


class BodyParamsMismatch(HeraldError):
    code = "body_params_mismatch"


class ParamTextInvalid(HeraldError):
    code = "param_text_invalid"


class InvalidButton(HeraldError):
    code = "invalid_button"


class HeaderMediaRequired(HeraldError):
    code = "header_media_required"


class OtpCodeInvalid(HeraldError):
    code = "otp_code_invalid"


class HeaderParamsMismatch(HeraldError):
    code = "header_params_mismatch"


class HeaderMediaUrlInvalid(HeraldError):
    code = "header_media_url_invalid"


Params = list[str] | dict[str, str]


class RecipientOptedOut(HeraldError):
    status = 409
    code = "recipient_opted_out"
    message = "The recipient opted out of this user's messages."


class Prepared(NamedTuple):
    """A recipient that passed every check, with the content its payload is built from."""

    phone: PhoneNumber
    content: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TemplateRules:
    """What recipients are checked against, read from a template once for the thousands of a
    bulk send (each read of a mapped attribute goes through SQLAlchemy's instrumentation)."""

    category: str
    header_format: str | None
    placeholder_count: int
    buttons: list[dict[str, Any]]
    header_text: str | None = None
    parameter_format: str = "POSITIONAL"
    body: str = ""

    @classmethod
    def of(cls, template: Template) -> TemplateRules:
        return cls(
            template.category,
            template.header_format,
            template.placeholder_count,
            template.buttons,
            template.header_text,
            template.parameter_format,
            template.body,
        )


Rules = Template | TemplateRules


class TemplateDeleted(HeraldError):
    code = "template_deleted"
    message = "The template was deleted at Meta; it can no longer be sent."


class TemplateNotSendable(HeraldError):
    code = "template_not_sendable"


def check_sendable(template: Template) -> None:
    if template.state == "DELETED":
        raise TemplateDeleted(data={"state": template.state})
    if template.sendable is False:
        raise TemplateNotSendable(
            template.unsendable_reason or "Herald cannot send this kind of template yet.",
            data={"reason": template.unsendable_reason},
        )
    if template.state != "APPROVED":
        raise TemplateNotApproved(
            f"The template is {template.state}; only APPROVED templates can be sent.",
            data={"state": template.state},
        )


def prepare(
    template: Template, fields: RecipientFields, otp_code: str | None, to: str, country: str
) -> Prepared:
    """Check one recipient against an APPROVED template (raises the first problem found)."""
    return prepare_values(
        template,
        fields.body_params,
        fields.buttons,
        fields.header_media_id,
        otp_code,
        to,
        country,
        header_params=fields.header_params,
        header_media_url=fields.header_media_url,
    )


def prepare_values(
    template: Rules,
    body_params: Params | None,
    buttons: list[ButtonParam] | None,
    header_media_id: int | None,
    otp_code: str | None,
    to: str,
    country: str,
    numbers: Callable[[str, str], PhoneNumber] = normalise,
    header_params: Params | None = None,
    header_media_url: str | None = None,
) -> Prepared:
    """``prepare`` for a recipient given as its fields' values (a bulk recipient's dict);
    ``numbers`` normalises its number."""
    content: dict[str, Any] = {}
    if template.category == "AUTHENTICATION":
        content["otp_code"] = _check_otp(body_params, buttons, otp_code)
    else:
        if otp_code is not None:
            raise OtpCodeInvalid("otp_code is only for AUTHENTICATION templates.")
        content["body_params"] = _check_body_params(template, body_params)
        checked = _check_buttons(template, buttons or [])
        if checked:
            content["buttons"] = checked
        header_values = _check_header_params(template, header_params)
        if header_values:
            content["header_params"] = header_values
    if template.header_format in MEDIA_HEADERS:
        media = _header_media(str(template.header_format), header_media_id, header_media_url)
        content.update(media)
    elif header_media_id is not None or header_media_url is not None:
        field = "header_media_id" if header_media_id is not None else "header_media_url"
        raise HeaderMediaMismatch(
            f"The template has no media header; {field} does not apply.",
            data={"header_format": template.header_format},
        )
    return Prepared(numbers(to, country), content)


def _header_media(header_format: str, media_id: int | None, url: str | None) -> dict[str, Any]:
    """A media header's file: an uploaded one (``header_media_id``) or a public https URL the
    provider fetches (``header_media_url``; the provider checks its type when it sends)."""
    if media_id is not None and url is not None:
        raise ValidationFailed.single(
            "header_media_url", "give header_media_id or header_media_url, not both"
        )
    if media_id is not None:
        return {"header_media_id": media_id}
    if url is None:
        raise HeaderMediaRequired(
            f"The template has a {header_format} header: give header_media_id (an uploaded "
            "file) or header_media_url (a public https URL).",
            data={"header_format": header_format},
        )
    try:
        link = check_public_https(url)
    except CallbackUrlRefused as refused:
        reason = refused.message.removeprefix("url: ")
        raise HeaderMediaUrlInvalid(
            f"header_media_url {reason}.", data={"field": "header_media_url", "reason": reason}
        ) from None
    return {"header_media_url": link, "header_media_kind": header_format.lower()}


def _check_otp(
    body_params: Params | None, buttons: list[ButtonParam] | None, otp_code: str | None
) -> str:
    if body_params or buttons:
        raise OtpCodeInvalid(
            "AUTHENTICATION templates take otp_code, never body_params or buttons."
        )
    if not otp_code:
        raise OtpCodeInvalid("AUTHENTICATION templates need otp_code.")
    if not otp_code.isalnum():
        raise OtpCodeInvalid("otp_code is letters and digits only.")
    return otp_code


@functools.lru_cache(maxsize=4096)
def _variables(text: str | None, parameter_format: str) -> tuple[str, ...]:
    """A stored template text's variables (read once per text, not per recipient)."""
    return tuple(dict.fromkeys(variables(text, parameter_format)))


def _check_header_params(template: Rules, params: Params | None) -> Params:
    """A TEXT header with a variable takes its one value; any other header takes none."""
    names = _variables(template.header_text, template.parameter_format)
    if template.header_format != "TEXT":
        names = ()
    if template.parameter_format == "NAMED":
        return _check_named("header_params", names, params, HeaderParamsMismatch)
    given = _positional("header_params", len(names), params, HeaderParamsMismatch)
    if len(given) != len(names):
        raise HeaderParamsMismatch(
            f"The template's header takes {len(names)} parameter(s); {len(given)} given.",
            data={"expected": len(names), "given": len(given)},
        )
    for index, value in enumerate(given):
        _check_value(f"header_params.{index}", value)
    return given


def _check_body_params(template: Rules, params: Params | None) -> Params:
    if template.parameter_format == "NAMED":
        names = _variables(template.body, "NAMED")
        return _check_named("body_params", names, params, BodyParamsMismatch)
    count = template.placeholder_count
    given = _positional("body_params", count, params, BodyParamsMismatch)
    if len(given) != count:
        raise BodyParamsMismatch(
            f"The template takes {count} body parameter(s); {len(given)} given.",
            data={"expected": count, "given": len(given)},
        )
    for index, value in enumerate(given):
        _check_value(f"body_params.{index}", value)
    return given


def _positional(
    field: str, count: int, params: Params | None, error: type[HeraldError]
) -> list[str]:
    """A POSITIONAL template's values: a list (an empty object stands for none)."""
    if isinstance(params, Mapping):
        if not params and not count:
            return []
        raise error(
            f"The template's variables are numbered ({{{{1}}}}..): give {field} as a list of "
            f"{count} value(s) in order, not an object.",
            data={"parameter_format": "POSITIONAL", "expected": count, "given": "object"},
        )
    return list(params or [])


def _check_named(
    field: str, names: tuple[str, ...], params: Params | None, error: type[HeraldError]
) -> dict[str, str]:
    """A NAMED template's values: an object with exactly the template's names, in its order."""
    if params is None or (not params and not names):
        params = {}
    expected = ", ".join(names) or "none"
    if not isinstance(params, Mapping):
        raise error(
            f"The template's variables are named: give {field} as an object by name "
            f"(expected: {expected}), not a list.",
            data={"parameter_format": "NAMED", "expected": list(names), "given": "list"},
        )
    missing = [name for name in names if name not in params]
    unknown = sorted(set(params) - set(names))
    if missing or unknown:
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"unknown {', '.join(unknown)}"] if unknown else []
        raise error(
            f"{field} must name the template's variables ({expected}): {'; '.join(problems)}.",
            data={
                "parameter_format": "NAMED",
                "expected": list(names),
                "missing": missing,
                "unknown": unknown,
            },
        )
    for name in names:
        _check_value(f"{field}.{name}", params[name])
    return {name: params[name] for name in names}


def _check_value(field: str, value: str) -> None:
    if not value.strip():
        raise ValidationFailed.single(field, "must not be empty")
    _check_param_text(field, value)


def _check_param_text(field: str, value: str) -> None:
    if any(refused in value for refused in _REFUSED_IN_PARAM_TEXT):
        raise ParamTextInvalid(
            f"{field} has a newline, a tab or more than four spaces in a row, "
            "which WhatsApp refuses.",
            data={"field": field},
        )


def _check_buttons(template: Rules, given: list[ButtonParam]) -> list[dict[str, Any]]:
    buttons = template.buttons
    if not given and not buttons:
        return []  # what the loops below make of nothing, without making it
    seen: dict[int, ButtonParam] = {}
    for param in given:
        if param.index >= len(buttons):
            raise InvalidButton(
                f"Button index {param.index} does not exist; the template has {len(buttons)}.",
                data={"index": param.index},
            )
        expected = SUB_TYPE_OF.get(buttons[param.index]["type"])
        if expected is None:  # a button imported from Meta whose send carries nothing
            raise InvalidButton(
                f"Button {param.index} is {buttons[param.index]['type']}: it takes no value.",
                data={"index": param.index},
            )
        if param.sub_type != expected:
            raise InvalidButton(
                f"Button {param.index} is {buttons[param.index]['type']}: sub_type must be "
                f"{expected!r}.",
                data={"index": param.index, "sub_type": expected},
            )
        if param.index in seen:
            raise InvalidButton(
                f"Button {param.index} is given twice.", data={"index": param.index}
            )
        if expected == "url" and "{{1}}" not in str(buttons[param.index].get("url", "")):
            raise InvalidButton(
                f"Button {param.index}'s URL has no variable: it takes no value.",
                data={"index": param.index},
            )
        if expected == "copy_code" and len(param.value) > MAX_COUPON_CODE:
            raise InvalidButton(
                f"A coupon code is at most {MAX_COUPON_CODE} characters.",
                data={"index": param.index},
            )
        seen[param.index] = param
    for index, button in enumerate(buttons):
        needs_value = button["type"] == "URL" and "{{1}}" in str(button.get("url", ""))
        needs_value = needs_value or button["type"] == "COPY_CODE"
        if needs_value and index not in seen:
            raise InvalidButton(
                f"Button {index} ({button['type']}) needs its value in buttons.",
                data={"index": index},
            )
    return [p.model_dump() for p in sorted(seen.values(), key=lambda p: p.index)]


def check_header_media(template: Rules, prepared: Prepared, assets: dict[int, MediaAsset]) -> None:
    """The header file is the caller's (``assets`` holds only theirs) and of the header's kind."""
    media_id = prepared.content.get("header_media_id")
    if media_id is None:
        return
    asset = assets.get(media_id)
    if asset is None:
        raise MediaNotFound(data={"header_media_id": media_id})
    check_header_asset(str(template.header_format), asset)
