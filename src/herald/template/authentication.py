"""AUTHENTICATION templates: Meta's options in, the text Meta displays out.

Meta writes these templates' wording itself (in the template's language); Herald shows the
English of it as the template's body and footer, so the caller sees what the recipient will.
"""

from __future__ import annotations

from typing import Any

from herald.template.schemas import TemplateCreate

CODE_TEXT = "{{1}} is your verification code."
SECURITY_RECOMMENDATION = "For your security, do not share this code."
EXPIRY_TEXT = "This code expires in {minutes} minutes."


def options(template: TemplateCreate) -> dict[str, Any]:
    """What is stored (and sent to Meta) for an AUTHENTICATION template."""
    chosen: dict[str, Any] = {
        "otp_type": template.otp_type or "COPY_CODE",
        "add_security_recommendation": bool(template.add_security_recommendation),
    }
    if template.code_expiration_minutes is not None:
        chosen["code_expiration_minutes"] = template.code_expiration_minutes
    if chosen["otp_type"] == "ONE_TAP":
        chosen["package_name"] = template.package_name
        chosen["signature_hash"] = template.signature_hash
    return chosen


def wording(chosen: dict[str, Any]) -> tuple[str, str | None]:
    """The body and footer Meta displays for these options."""
    body = CODE_TEXT
    if chosen.get("add_security_recommendation"):
        body = f"{body} {SECURITY_RECOMMENDATION}"
    minutes = chosen.get("code_expiration_minutes")
    return body, EXPIRY_TEXT.format(minutes=minutes) if minutes else None
