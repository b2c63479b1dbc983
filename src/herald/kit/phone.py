"""Phone numbers: libphonenumber validation, E.164 digits without ``+``, and masking for logs."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from herald.errors import InvalidPhoneNumber

_TOLERATED = re.compile(r"[\s\-().]")


@dataclass(frozen=True)
class PhoneNumber:
    digits: str  # E.164 without the leading +
    country_code: str  # ISO 3166 alpha-2, upper case


def normalise(raw: str, country_code: str) -> PhoneNumber:
    """Validate ``raw`` (dial code included, ``+``, spaces, dashes tolerated) for a country."""
    region = country_code.strip().upper()
    if len(region) != 2 or region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidPhoneNumber(
            f"Unknown country_code {country_code!r}: use an ISO 3166 alpha-2 code such as 'TN'."
        )
    cleaned = _TOLERATED.sub("", raw.strip()).removeprefix("+").removeprefix("00")
    if not cleaned.isdigit() or not 6 <= len(cleaned) <= 15:
        raise InvalidPhoneNumber("The phone number must be digits with the country's dial code.")
    parsed = _parse_for_region(cleaned, region)
    if parsed is None:
        raise InvalidPhoneNumber(f"The number is not a valid {region} phone number.")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return PhoneNumber(digits=e164.removeprefix("+"), country_code=region)


def _parse_for_region(digits: str, region: str) -> phonenumbers.PhoneNumber | None:
    """Read ``digits`` as international (the documented form), else as national for ``region``.

    The national fallback accepts what integrators often send (``96816277`` for TN) without
    letting a number of another country through: both readings must be valid for ``region``.
    """
    for candidate, default_region in (("+" + digits, None), (digits, region)):
        try:
            parsed = phonenumbers.parse(candidate, default_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number_for_region(parsed, region):
            return parsed
    return None


_DIGIT_RUN = re.compile(r"\+?\d{7,15}")


def mask_digits(digits: str) -> str:
    """``21696816277`` → ``216968****77``: enough to tell numbers apart, not to dial one."""
    shown = max(0, min(6, len(digits) - 5))
    return digits[:shown] + "****" + digits[-2:]


def mask_phone_numbers(text: str) -> str:
    """Mask every run of 7 to 15 digits in free text (paths, messages) before it is logged."""
    return _DIGIT_RUN.sub(lambda m: mask_digits(m.group().lstrip("+")), text)
