"""Phone numbers: libphonenumber validation, E.164 digits without ``+``, and masking for logs."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import NamedTuple

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

from herald.errors import InvalidPhoneNumber

_TOLERATED = re.compile(r"[\s\-().]")


class PhoneNumber(NamedTuple):
    """A valid number (a named tuple: a bulk send makes 10,000, and a frozen dataclass costs
    twice as much to build)."""

    digits: str  # E.164 without the leading +
    country_code: str  # ISO 3166 alpha-2, upper case


def normalise(raw: str, country_code: str) -> PhoneNumber:
    """Validate ``raw`` (dial code included, ``+``, spaces, dashes tolerated) for a country."""
    return _normalised(raw, country_code)


def normalise_uncached(raw: str, country_code: str) -> PhoneNumber:
    """``normalise`` without its cache, for a bulk send: its numbers are mostly new ones, which
    would only push the single sends' numbers out of the cache (and cost its bookkeeping)."""
    region = country_code.strip().upper()
    if len(region) != 2 or region not in _SUPPORTED_REGIONS:
        raise InvalidPhoneNumber(
            f"Unknown country_code {country_code!r}: use an ISO 3166 alpha-2 code such as 'TN'."
        )
    if raw.isdigit() and raw.isascii() and raw[:1] != "0":
        # The documented form: nothing for the steps below to strip (a leading 0 may be the
        # 00 of an international prefix).
        cleaned, international = raw, False
    else:
        stripped = _TOLERATED.sub("", raw.strip())
        international = stripped.startswith(("+", "00"))
        cleaned = stripped.removeprefix("+").removeprefix("00")
        if not cleaned.isascii() or not cleaned.isdigit():
            raise InvalidPhoneNumber(
                "The phone number must be digits with the country's dial code."
            )
    if not 3 <= len(cleaned) <= 15:
        raise InvalidPhoneNumber("The phone number must be digits with the country's dial code.")
    digits = _e164_digits(cleaned, region, international)
    if digits is None:
        raise InvalidPhoneNumber(f"The number is not a valid {region} phone number.")
    return PhoneNumber(digits, region)


# A pure function of its arguments; single sends go to the same few numbers again and again.
_normalised = functools.lru_cache(maxsize=8192)(normalise_uncached)
_SUPPORTED_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)


def _e164_digits(digits: str, region: str, international: bool) -> str | None:
    """What ``_parse_for_region`` decides, as E.164 digits, most numbers without it."""
    valid = _valid_as_written(digits)
    if valid is None:
        parsed = _parse_for_region(digits, region, international)
        if parsed is None:
            return None
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]
    country, national, home = valid
    if home != region and (
        country != _country_of(region) or not _valid_in(national, _rules(country, region))
    ):
        return None
    return digits  # the country code, then the national number, as written


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


# The shortcut below is hand-written because libphonenumber's ``parse`` and ``is_valid_number``
# cost ~40 µs a number, most of it generic work (normalising any script's digits, extensions,
# recompiling patterns at every call) that E.164 digits never need: a 10,000-recipient bulk
# send spent half its time there. It reads the same metadata with patterns compiled once, and
# only ever answers "valid as written": whenever it is unsure (no country code, a national
# prefix that parse could strip, a number not valid as written) the caller asks libphonenumber
# itself. tests/kit/test_phone_equivalence.py compares it with the reference over many numbers.

Desc = tuple[frozenset[int], str]


@dataclass(frozen=True, slots=True)
class _Rules:
    """One region's (or non-geographic code's) metadata, as ``_number_type_helper`` reads it."""

    # By national number length (None: any other length), one pattern for "the general
    # description and at least one number type match", or None when no number can.
    valid: dict[int | None, re.Pattern[str] | None]
    leading_digits: re.Pattern[str] | None
    national_prefix: re.Pattern[str] | None


def _desc(desc: phonenumbers.PhoneNumberDesc | None) -> Desc | None:
    if desc is None or not desc.national_number_pattern:
        return None
    return frozenset(desc.possible_length or ()), desc.national_number_pattern


def _validity(general: Desc, kinds: list[Desc], length: int | None) -> re.Pattern[str] | None:
    """A description without lengths applies to every length, as in _is_number_matching_desc."""
    if general[0] and length not in general[0]:
        return None
    fits = [f"(?:{pattern})" for lengths, pattern in kinds if not lengths or length in lengths]
    if not fits:
        return None
    return re.compile(f"(?=(?:{general[1]})\\Z)(?:{'|'.join(fits)})")


@functools.cache
def _rules(country: int, region: str) -> _Rules | None:
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country, region)
    if metadata is None:
        return None
    descs = [
        metadata.premium_rate,
        metadata.toll_free,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
        metadata.fixed_line,
    ]
    # _number_type_helper consults the mobile pattern only when it differs from fixed lines.
    if not metadata.same_mobile_and_fixed_line_pattern:
        descs.append(metadata.mobile)
    kinds = [kind for kind in map(_desc, descs) if kind is not None]
    general = _desc(metadata.general_desc)
    valid: dict[int | None, re.Pattern[str] | None] = {None: None}
    if general is not None:
        lengths: set[int | None] = {None, *general[0]}
        for kind_lengths, _ in kinds:
            lengths.update(kind_lengths)
        valid = {length: _validity(general, kinds, length) for length in lengths}
    prefix = metadata.national_prefix_for_parsing
    return _Rules(
        valid=valid,
        leading_digits=re.compile(metadata.leading_digits) if metadata.leading_digits else None,
        national_prefix=re.compile(prefix) if prefix else None,
    )


def _valid_in(national: str, rules: _Rules | None) -> bool:
    if rules is None:
        return False
    size = len(national)
    pattern = rules.valid[size] if size in rules.valid else rules.valid[None]
    return pattern is not None and pattern.fullmatch(national) is not None


@functools.cache
def _country_of(region: str) -> int:
    return int(phonenumbers.country_code_for_valid_region(region))


# Each country calling code by its digits: looked up by a number's first digits, unparsed.
_CALLING_CODES = {
    str(code): (code, regions) for code, regions in COUNTRY_CODE_TO_REGION_CODE.items()
}


def _valid_as_written(digits: str) -> tuple[int, str, str] | None:
    """(country code, national number, region) when ``+digits`` is surely a valid number (as
    ``is_valid_number`` decides: valid for the region it belongs to), else None."""
    if digits[0] == "0":
        return None
    for size in (1, 2, 3):
        found = _CALLING_CODES.get(digits[:size])
        if found is not None:
            break
    else:
        return None
    country, regions = found
    national = digits[size:]
    main = _rules(country, regions[0])
    if len(national) < 2 or main is None:
        return None
    if main.national_prefix is not None and main.national_prefix.match(national):
        return None  # parse might strip it: its rules for that are many, let it decide
    rules: _Rules | None = main
    region = regions[0]
    if len(regions) > 1:
        found_region = _region_of(country, national, regions)
        if found_region is None:
            return None
        region, rules = found_region, _rules(country, found_region)
    if not _valid_in(national, rules):
        return None
    return country, national, region


def _region_of(country: int, national: str, regions: tuple[str, ...]) -> str | None:
    """``_region_code_for_number_from_list``: the first region claiming the number."""
    for region in regions:
        rules = _rules(country, region)
        if rules is None:
            continue
        if rules.leading_digits is not None:
            if rules.leading_digits.match(national):
                return region
        elif _valid_in(national, rules):
            return region
    return None


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


def country_of(digits: str) -> str | None:
    """The ISO country (upper case) of E.164 ``digits`` (a customer's WhatsApp id), or None
    when no country claims the number."""
    if not digits.isascii() or not digits.isdigit() or not 3 <= len(digits) <= 15:
        return None
    valid = _valid_as_written(digits)
    if valid is not None:
        return valid[2]
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(parsed)
    return str(region) if region and region != "ZZ" else None
