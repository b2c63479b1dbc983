"""Meta's JSON for templates: Herald's definition as the components Meta's review takes, and a
listed template as Herald reads it (cloud_api.py makes the requests)."""

from __future__ import annotations

import re

from herald.provider.base import JsonObject, OtpOptions, ProviderTemplate, TemplateDefinition

_POSITIONAL_VARIABLE = re.compile(r"\{\{(\d+)\}\}")  # without samples given: sample1, …
_NAMED_VARIABLE = re.compile(r"\{\{([a-z_][a-z0-9_]*)\}\}")
# What a template listing is asked for: Graph API answers only its default fields (id, name,
# language, status, category, components) unless ``fields`` names the others.
TEMPLATE_FIELDS = (
    "id,name,language,status,category,components,rejected_reason,quality_score,parameter_format"
)


def listed_template(item: JsonObject) -> ProviderTemplate:
    """One template of a listing: ``quality_score`` is an object (``{"score": "GREEN"}``)."""
    quality = item.get("quality_score")
    score = quality.get("score") if isinstance(quality, dict) else None
    components = item.get("components")
    return ProviderTemplate(
        id=str(item["id"]),
        name=str(item["name"]),
        language=str(item.get("language", "")),
        status=str(item.get("status", "")),
        category=item.get("category"),
        rejected_reason=item.get("rejected_reason"),
        quality=str(score) if score else None,
        parameter_format=str(item.get("parameter_format") or "POSITIONAL").upper(),
        components=(
            tuple(c for c in components if isinstance(c, dict))
            if isinstance(components, list)
            else None
        ),
    )


def template_components(
    template: TemplateDefinition, header_handle: str | None = None
) -> list[JsonObject]:
    """Herald's template as Meta's components, with the examples Meta's review requires."""
    if template.otp is not None:
        return _authentication_components(template.otp)
    components: list[JsonObject] = []
    named = template.parameter_format == "NAMED"
    if template.header_format:
        header: JsonObject = {"type": "HEADER", "format": template.header_format}
        if template.header_format == "TEXT":
            header["text"] = template.header_text or ""
            if template.header_example is not None:
                name = _header_variable(template.header_text) if named else "1"
                header["example"] = _text_examples(
                    "header_text", [(name, template.header_example)], named
                )
        elif header_handle is not None:
            header["example"] = {"header_handle": [header_handle]}
        components.append(header)
    body: JsonObject = {"type": "BODY", "text": template.body}
    samples = list(template.body_examples) or [
        (n, f"sample{n}") for n in dict.fromkeys(_POSITIONAL_VARIABLE.findall(template.body))
    ]
    if samples:
        body["example"] = _text_examples("body_text", samples, named)
    components.append(body)
    if template.footer:
        components.append({"type": "FOOTER", "text": template.footer})
    if template.buttons:
        buttons: list[JsonObject] = []
        for button in template.buttons:
            item: JsonObject = {"type": button.type}
            if button.type == "COPY_CODE":  # Meta writes its label
                item["example"] = button.example or ""
                buttons.append(item)
                continue
            if button.text:
                item["text"] = button.text
            if button.phone_number:
                item["phone_number"] = button.phone_number
            if button.url:
                item["url"] = button.url
                if "{{1}}" in button.url:
                    item["example"] = [button.url.replace("{{1}}", button.example or "sample")]
            buttons.append(item)
        components.append({"type": "BUTTONS", "buttons": buttons})
    return components


def _header_variable(text: str | None) -> str:
    """A NAMED TEXT header's one variable (Herald's rules allow one)."""
    found = _NAMED_VARIABLE.search(text or "")
    return found.group(1) if found else ""


def _text_examples(key: str, samples: list[tuple[str, str]], named: bool) -> JsonObject:
    """Meta's examples of a text's variables: ``body_text`` (one row of values) or
    ``header_text`` (the one value), or for a NAMED template ``<key>_named_params``, a
    ``param_name`` and ``example`` each."""
    if named:
        return {
            f"{key}_named_params": [
                {"param_name": name, "example": sample} for name, sample in samples
            ]
        }
    values = [sample for _, sample in samples]
    return {key: [values] if key == "body_text" else values}


def _authentication_components(otp: OtpOptions) -> list[JsonObject]:
    """Meta's authentication shape: no text of ours, one OTP button."""
    components: list[JsonObject] = [
        {"type": "BODY", "add_security_recommendation": otp.add_security_recommendation}
    ]
    if otp.code_expiration_minutes is not None:
        components.append(
            {"type": "FOOTER", "code_expiration_minutes": otp.code_expiration_minutes}
        )
    button: JsonObject = {"type": "OTP", "otp_type": otp.otp_type}
    if otp.otp_type == "ONE_TAP":
        button["package_name"] = otp.package_name
        button["signature_hash"] = otp.signature_hash
    components.append({"type": "BUTTONS", "buttons": [button]})
    return components
