"""An interactive send against Meta's contract: ``InteractiveObject`` of Meta's OpenAPI (v23.0)
with its ``HeaderObject``, ``BodyObject``, ``FooterObject``, ``ActionObject`` (one shape for
each ``type``) and ``SectionObject``. Every type of the reference is taken (Herald sends reply
buttons and lists; an integrator may test the others against the emulator), each action
checked for its own shape. Where the reference is loose, Meta's interactive-message guide
decides, stricter: a media header only on reply buttons, a list's and a product list's header
text only. The codes are ``send_shape``'s (100, 131008, 131009)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from herald.emulator.send_shape import (
    INVALID_PARAMETER,
    PARAMETER_MISSING,
    PARAMETER_VALUE_INVALID,
    Refused,
    only,
    string,
)

MediaCheck = Callable[[str, dict[str, Any], str], None]
"""Checks a header's media object (kind, object, where) as a media message's file."""

INTERACTIVE_TYPES = (
    "button",
    "call_permission_request",
    "catalog_message",
    "list",
    "product",
    "product_list",
    "flow",
)
_MEDIA_HEADERS = ("image", "video", "document")


def check_interactive(part: dict[str, Any], check_media: MediaCheck) -> None:
    only(part, ("type", "header", "body", "footer", "action"), "interactive")
    kind = part.get("type")
    if kind is None:
        raise Refused(PARAMETER_MISSING, "interactive needs type")
    if kind not in INTERACTIVE_TYPES:
        raise Refused(INVALID_PARAMETER, f"interactive.type must be one of {INTERACTIVE_TYPES}")
    action = part.get("action")
    if not isinstance(action, dict):
        raise Refused(PARAMETER_MISSING, "interactive needs its action object")
    # BodyObject: "Optional for 'product' type, required for other interactive message types."
    if "body" in part or kind != "product":
        body = part.get("body")
        if not isinstance(body, dict):
            raise Refused(PARAMETER_MISSING, "interactive needs its body object")
        only(body, ("text",), "interactive.body")
        string(body, "text", "interactive.body", 1024, required=True)
    if "footer" in part:
        footer = part["footer"]
        if not isinstance(footer, dict):
            raise Refused(INVALID_PARAMETER, "interactive.footer must be an object")
        only(footer, ("text",), "interactive.footer")
        string(footer, "text", "interactive.footer", 60, required=True)
    _check_header(kind, part, check_media)
    _ACTIONS[kind](action)


def _check_header(kind: str, part: dict[str, Any], check_media: MediaCheck) -> None:
    # HeaderObject: "Required for 'product_list' type. Cannot be set for 'product' type."
    if "header" not in part:
        if kind == "product_list":
            raise Refused(PARAMETER_MISSING, "a product_list message needs a header")
        return
    if kind == "product":
        raise Refused(INVALID_PARAMETER, "a product message takes no header")
    header = part["header"]
    if not isinstance(header, dict):
        raise Refused(INVALID_PARAMETER, "interactive.header must be an object")
    form = header.get("type")
    if form == "text":
        only(header, ("type", "text", "sub_text"), "interactive.header")
        string(header, "text", "interactive.header", 60, required=True)
        string(header, "sub_text", "interactive.header", 60, required=False)
    elif form in _MEDIA_HEADERS:
        if kind != "button":
            raise Refused(INVALID_PARAMETER, f"a {kind} message takes a text header only")
        only(header, ("type", form), "interactive.header")
        media = header.get(form)
        if not isinstance(media, dict):
            raise Refused(PARAMETER_MISSING, f"interactive.header needs its {form} object")
        check_media(form, media, f"interactive.header.{form}")
    elif form is None:
        raise Refused(PARAMETER_MISSING, "interactive.header needs type")
    else:
        raise Refused(INVALID_PARAMETER, "interactive.header.type: text, image, video, document")


def _check_buttons(action: dict[str, Any]) -> None:
    only(action, ("buttons",), "interactive.action")
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise Refused(PARAMETER_MISSING, "interactive.action needs buttons")
    if len(buttons) > 3:
        raise Refused(PARAMETER_VALUE_INVALID, "interactive.action.buttons: at most 3")
    ids, titles = [], []
    for position, button in enumerate(buttons):
        where = f"interactive.action.buttons[{position}]"
        if not isinstance(button, dict) or button.get("type") != "reply":
            raise Refused(INVALID_PARAMETER, f"{where}.type must be reply")
        reply = button.get("reply")
        if not isinstance(reply, dict):
            raise Refused(PARAMETER_MISSING, f"{where} needs reply")
        only(button, ("type", "reply"), where)
        only(reply, ("id", "title"), f"{where}.reply")
        string(reply, "id", f"{where}.reply", 256, required=True)
        string(reply, "title", f"{where}.reply", 20, required=True)
        if reply["id"] != reply["id"].strip():
            raise Refused(PARAMETER_VALUE_INVALID, f"{where}.reply.id has spaces around it")
        ids.append(reply["id"])
        titles.append(reply["title"])
    if len(set(ids)) < len(ids) or len(set(titles)) < len(titles):
        raise Refused(PARAMETER_VALUE_INVALID, "each button's id and title must be unique")


def _sections(action: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The sections (1 to 10 objects, each titled when there are several), with their paths."""
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise Refused(PARAMETER_MISSING, "interactive.action needs sections")
    if len(sections) > 10:
        raise Refused(PARAMETER_VALUE_INVALID, "interactive.action.sections: at most 10")
    checked = []
    for position, section in enumerate(sections):
        where = f"interactive.action.sections[{position}]"
        if not isinstance(section, dict):
            raise Refused(INVALID_PARAMETER, f"{where} must be an object")
        string(section, "title", where, 24, required=len(sections) > 1)
        checked.append((where, section))
    return checked


def _items(section: dict[str, Any], member: str, where: str, limit: int) -> list[Any]:
    items = section.get(member)
    if not isinstance(items, list) or not items:
        raise Refused(PARAMETER_MISSING, f"{where} needs {member}")
    if len(items) > limit:
        raise Refused(PARAMETER_VALUE_INVALID, f"{where}.{member}: at most {limit}")
    for number, item in enumerate(items):
        if not isinstance(item, dict):
            raise Refused(INVALID_PARAMETER, f"{where}.{member}[{number}] must be an object")
    return items


def _check_list(action: dict[str, Any]) -> None:
    only(action, ("button", "sections"), "interactive.action")
    string(action, "button", "interactive.action", 20, required=True)
    ids: list[str] = []
    for where, section in _sections(action):
        only(section, ("title", "rows"), where)
        for number, row in enumerate(_items(section, "rows", where, 10)):
            at = f"{where}.rows[{number}]"
            only(row, ("id", "title", "description"), at)
            string(row, "id", at, 200, required=True)
            string(row, "title", at, 24, required=True)
            string(row, "description", at, 72, required=False)
            ids.append(row["id"])
    if len(ids) > 10:
        raise Refused(PARAMETER_VALUE_INVALID, "a list has at most 10 rows in all")
    if len(set(ids)) < len(ids):
        raise Refused(PARAMETER_VALUE_INVALID, "each row's id must be unique")


def _check_product(action: dict[str, Any]) -> None:
    only(action, ("catalog_id", "product_retailer_id"), "interactive.action")
    string(action, "catalog_id", "interactive.action", 256, required=True)
    string(action, "product_retailer_id", "interactive.action", 256, required=True)


def _check_product_list(action: dict[str, Any]) -> None:
    only(action, ("catalog_id", "sections"), "interactive.action")
    string(action, "catalog_id", "interactive.action", 256, required=True)
    products = 0
    for where, section in _sections(action):
        only(section, ("title", "product_items"), where)
        items = _items(section, "product_items", where, 30)
        for number, item in enumerate(items):
            at = f"{where}.product_items[{number}]"
            only(item, ("product_retailer_id",), at)
            string(item, "product_retailer_id", at, 256, required=True)
        products += len(items)
    if products > 30:  # Meta's guide: up to 30 products in all, across the sections
        raise Refused(PARAMETER_VALUE_INVALID, "a product list has at most 30 products in all")


def _named(action: dict[str, Any], name: str, members: tuple[str, ...]) -> dict[str, Any]:
    """An action of the ``name`` + ``parameters`` shapes: its parameters (empty if none)."""
    only(action, ("name", *members), "interactive.action")
    if action.get("name") != name:
        raise Refused(INVALID_PARAMETER, f"interactive.action.name must be {name}")
    parameters = action.get("parameters", {})
    if not isinstance(parameters, dict):
        raise Refused(INVALID_PARAMETER, "interactive.action.parameters must be an object")
    if "parameters" in members and "parameters" not in action:
        raise Refused(PARAMETER_MISSING, "interactive.action needs parameters")
    return parameters


def _check_catalog(action: dict[str, Any]) -> None:
    parameters = _named(action, "catalog_message", ("parameters",))
    only(parameters, ("thumbnail_product_retailer_id",), "interactive.action.parameters")
    string(
        parameters,
        "thumbnail_product_retailer_id",
        "interactive.action.parameters",
        256,
        required=True,
    )


_FLOW_MEMBERS = (
    "flow_message_version",
    "flow_id",
    "flow_name",
    "flow_cta",
    "mode",
    "flow_token",
    "flow_action",
    "flow_action_payload",
)
_FLOW_ACTIONS = ("navigate", "data_exchange")


def _check_flow(action: dict[str, Any]) -> None:
    where = "interactive.action.parameters"
    parameters = _named(action, "flow", ("parameters",))
    only(parameters, _FLOW_MEMBERS, where)
    if "flow_message_version" not in parameters:
        raise Refused(PARAMETER_MISSING, f"{where} needs flow_message_version")
    if parameters["flow_message_version"] != "3":
        raise Refused(INVALID_PARAMETER, f'{where}.flow_message_version must be "3"')
    string(parameters, "flow_cta", where, 30, required=True)
    if ("flow_id" in parameters) == ("flow_name" in parameters):
        raise Refused(PARAMETER_MISSING, f"{where} needs flow_id or flow_name, not both")
    string(parameters, "flow_id", where, 256, required=False)
    string(parameters, "flow_name", where, 256, required=False)
    string(parameters, "flow_token", where, 4096, required=False)
    for member, allowed in (("mode", ("draft", "published")), ("flow_action", _FLOW_ACTIONS)):
        if member in parameters and parameters[member] not in allowed:
            raise Refused(INVALID_PARAMETER, f"{where}.{member} must be one of {allowed}")
    if "flow_action_payload" not in parameters:
        return
    payload = parameters["flow_action_payload"]
    if not isinstance(payload, dict):
        raise Refused(INVALID_PARAMETER, f"{where}.flow_action_payload must be an object")
    only(payload, ("screen", "data"), f"{where}.flow_action_payload")
    string(payload, "screen", f"{where}.flow_action_payload", 256, required=False)
    if "data" in payload and (not isinstance(payload["data"], dict) or not payload["data"]):
        raise Refused(INVALID_PARAMETER, f"{where}.flow_action_payload.data must be non-empty")


def _check_call_permission(action: dict[str, Any]) -> None:
    _named(action, "call_permission_request", ())


_ACTIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "button": _check_buttons,
    "list": _check_list,
    "product": _check_product,
    "product_list": _check_product_list,
    "catalog_message": _check_catalog,
    "flow": _check_flow,
    "call_permission_request": _check_call_permission,
}
