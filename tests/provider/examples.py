"""A request against the shape of the spec's examples, for operations whose schema is loose
(template creation: ``type: object`` with example values). A member the request sends must
appear in some example of the same kind, with the same JSON type; a member every example of
that kind has, the request must have too. Kinds: an object in a list is known by its ``type``
(and a HEADER by its ``format``, IMAGE, VIDEO and DOCUMENT being one kind: the spec shows no
VIDEO header), and an AUTHENTICATION template is held to the AUTHENTICATION examples only (its
shape is Meta's own), any other to the others. A kind the examples never show (a COPY_CODE
button) is checked by the schema alone."""

from __future__ import annotations

from typing import Any

MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
# Members every example shows that Meta documents as optional: an OTP button's label and its
# one-tap autofill text default to Meta's own wording, localised to the template's language
# (the project's spec/whatsapp-cloud-api.md: `"text"?`), so Herald leaves them to Meta.
OPTIONAL_MEMBERS = {("OTP", ""): {"text", "autofill_text"}}


def example_violations(request: Any, examples: list[Any]) -> list[str]:
    authentication = isinstance(request, dict) and request.get("category") == "AUTHENTICATION"
    alike = [
        e
        for e in examples
        if isinstance(e, dict) and (e.get("category") == "AUTHENTICATION") == authentication
    ]
    request, problems = _as_positional(request)
    return problems + _conform(request, alike, "(body)")


# Named parameters, which the OpenAPI file never shows (spec/whatsapp-cloud-api.md and Meta's
# template guide, "Named parameters"): ``"parameter_format": "NAMED"`` beside the name, and each
# text's samples as ``example.<key>_named_params``, a ``param_name`` and an ``example`` each,
# instead of ``example.<key>`` (``body_text``: one row of values; ``header_text``: the values).
_NAMED_EXAMPLES = {"body_text_named_params": "body_text", "header_text_named_params": "header_text"}


def _as_positional(request: Any) -> tuple[Any, list[str]]:
    """A NAMED template in the shape of the positional examples, and what in its named members
    breaks Meta's named shape."""
    if not isinstance(request, dict) or "parameter_format" not in request:
        return request, []
    if request["parameter_format"] not in ("POSITIONAL", "NAMED"):
        return request, ["(body).parameter_format: POSITIONAL or NAMED"]
    request = {k: v for k, v in request.items() if k != "parameter_format"}
    problems: list[str] = []
    components = []
    for position, component in enumerate(request.get("components") or []):
        example = component.get("example") if isinstance(component, dict) else None
        if isinstance(example, dict):
            example = dict(example)
            for named, key in _NAMED_EXAMPLES.items():
                if named not in example:
                    continue
                items = example.pop(named)
                where = f"(body).components[{position}].example.{named}"
                if not isinstance(items, list) or not items:
                    problems.append(f"{where}: a non-empty list")
                    continue
                values = []
                for item in items:
                    if not (
                        isinstance(item, dict)
                        and set(item) == {"param_name", "example"}
                        and all(isinstance(v, str) for v in item.values())
                    ):
                        problems.append(f"{where}: each item is {{param_name, example}}")
                        continue
                    values.append(item["example"])
                example[key] = [values] if key == "body_text" else values
            component = {**component, "example": example}
        components.append(component)
    if "components" in request:
        request["components"] = components
    return request, problems


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}[type(value)]


def _kind(item: Any) -> tuple[str, str] | None:
    if not isinstance(item, dict) or not isinstance(item.get("type"), str):
        return None
    kind = item["type"].upper()
    fmt = str(item.get("format", "")).upper()
    return kind, "MEDIA" if fmt in MEDIA_FORMATS else fmt


def _has_variable(item: dict[str, Any]) -> bool:
    return any("{{" in str(item.get(member, "")) for member in ("text", "url"))


def _conform(
    ours: Any, examples: list[Any], where: str, kind: tuple[str, str] | None = None
) -> list[str]:
    if not examples:
        return []
    types = {_json_type(e) for e in examples}
    if _json_type(ours) not in types:
        return [
            f"{where}: {_json_type(ours)}, where the examples have {' or '.join(sorted(types))}"
        ]
    if isinstance(ours, dict):
        optional = OPTIONAL_MEMBERS.get(kind, set()) if kind else set()
        alike = [e for e in examples if isinstance(e, dict)]
        return _conform_object(ours, alike, where, optional)
    if isinstance(ours, list):
        items = [item for e in examples if isinstance(e, list) for item in e]
        problems: list[str] = []
        for position, item in enumerate(ours):
            kind = _kind(item)
            alike = [e for e in items if _kind(e) == kind] if kind else items
            if kind and not alike:
                continue  # a kind no example shows: the schema alone decides
            problems += _conform(item, alike, f"{where}[{position}]", kind)
        return problems
    return []


def _conform_object(
    ours: dict[str, Any], examples: list[dict[str, Any]], where: str, optional: set[str]
) -> list[str]:
    problems = [
        f"{where}.{member}: no example of this kind has it"
        for member in ours
        if not any(member in e for e in examples)
    ]
    required = set.intersection(*(set(e) for e in examples)) - optional
    if all(_has_variable(e) for e in examples) and not _has_variable(ours):
        required.discard("example")  # the examples show variables' samples; ours has none
    problems += [
        f"{where}.{member}: every example has it" for member in sorted(required - set(ours))
    ]
    for member, value in ours.items():
        alike = [e[member] for e in examples if member in e]
        problems += _conform(value, alike, f"{where}.{member}")
    return problems
