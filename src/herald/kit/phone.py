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
    stripped = _TOLERATED.sub("", raw.strip())
    international = stripped.startswith(("+", "00"))
    cleaned = stripped.removeprefix("+").removeprefix("00")
    if not cleaned.isascii() or not cleaned.isdigit() or not 3 <= len(cleaned) <= 15:
        raise InvalidPhoneNumber("The phone number must be digits with the country's dial code.")
    parsed = _parse_for_region(cleaned, region, international)
    if parsed is None:
        raise InvalidPhoneNumber(f"The number is not a valid {region} phone number.")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return PhoneNumber(digits=e164.removeprefix("+"), country_code=region)


def _parse_for_region(
    digits: str, region: str, international: bool
) -> phonenumbers.PhoneNumber | None:
    """Read ``digits`` as international (the documented form), else as national for ``region``.

    The national fallback accepts what integrators often send (``96816277`` for TN), but never
    for a number written with ``+``/``00`` or one that is a valid number of another country as
    written: ``33612345678`` with ``DE`` is a French mobile, not a German number to invent.
    """
    try:
        as_written = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        as_written = None
    if as_written is not None and phonenumbers.is_valid_number(as_written):
        return as_written if phonenumbers.is_valid_number_for_region(as_written, region) else None
    if international:
        return None
    try:
        national = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    return national if phonenumbers.is_valid_number_for_region(national, region) else None


_DIGIT_RUN = re.compile(r"\+?\d{7,15}")


def mask_digits(digits: str) -> str:
    """``21696816277`` → ``216968****77``: enough to tell numbers apart, not to dial one."""
    shown = max(0, min(6, len(digits) - 5))
    return digits[:shown] + "****" + digits[-2:]


def mask_phone_numbers(text: str) -> str:
    """Mask every run of 7 to 15 digits in free text (paths, messages) before it is logged."""
    return _DIGIT_RUN.sub(lambda m: mask_digits(m.group().lstrip("+")), text)


def digits_only(number: str) -> str:
    """A number given without its country (a path or a filter): the formatting characters
    Herald tolerates everywhere are dropped; it must then be E.164 digits to match anything."""
    return re.sub(r"[\s+\-.()]", "", number)
