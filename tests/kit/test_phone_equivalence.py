"""``normalise`` answers exactly as its libphonenumber-only reference did, for every input.

``kit/phone.py`` decides most numbers without ``phonenumbers.parse`` (see its comment); these
tests compare it with the reference implementation below (the code it replaced, unchanged) over
numbers of every region and every number type, mutated into near misses, and over arbitrary
digit strings: the same E.164 digits and region, or the same refusal with the same message.
"""

from __future__ import annotations

import random
import re

import phonenumbers
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneNumberFormat, PhoneNumberType

from herald.errors import InvalidPhoneNumber
from herald.kit import phone

_TOLERATED = re.compile(r"[\s\-().]")


def reference(raw: str, country_code: str) -> phone.PhoneNumber:
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
    parsed = _reference_parse(cleaned, region, international)
    if parsed is None:
        raise InvalidPhoneNumber(f"The number is not a valid {region} phone number.")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return phone.PhoneNumber(digits=e164.removeprefix("+"), country_code=region)


def _reference_parse(
    digits: str, region: str, international: bool
) -> phonenumbers.PhoneNumber | None:
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


def outcome(function: object, raw: str, country: str) -> object:
    try:
        return function(raw, country)  # type: ignore[operator]
    except InvalidPhoneNumber as exc:
        return ("refused", exc.code, exc.message)


def assert_same(raw: str, country: str) -> None:
    # The cache would answer a repeated input without the code under test.
    phone._normalised.cache_clear()
    assert outcome(phone.normalise, raw, country) == outcome(reference, raw, country), (
        raw,
        country,
    )


REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
TYPES = [t for t in vars(PhoneNumberType).values() if isinstance(t, int)]


def _seeds() -> list[tuple[str, str]]:
    """(region, E.164 digits) of every example number libphonenumber has, of every type, and
    of every non-geographic code (paired with a region sharing nothing with it)."""
    seeds = []
    for region in REGIONS:
        for kind in TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                seeds.append((region, phonenumbers.format_number(number, PhoneNumberFormat.E164)))
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            seeds.append(("US", phonenumbers.format_number(number, PhoneNumberFormat.E164)))
    return sorted({(region, e164[1:]) for region, e164 in seeds})


SEEDS = _seeds()


def _near_misses(digits: str, rng: random.Random) -> list[str]:
    """The number, its national part, and numbers one edit away: what typos and truncations
    make of real numbers is where validity flips."""
    variants = {digits, digits[:-1], digits + rng.choice("0123456789")}
    for _ in range(3):
        at = rng.randrange(len(digits))
        variants.add(digits[:at] + rng.choice("0123456789") + digits[at + 1 :])
    return sorted(v for v in variants if v)


def test_every_example_number_and_its_near_misses_answer_as_the_reference() -> None:
    rng = random.Random(7)
    compared = 0
    for region, digits in SEEDS:
        number = phonenumbers.parse("+" + digits, None)
        national = phonenumbers.national_significant_number(number)
        national_form = re.sub(
            r"\D", "", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        )
        sharing = [r for r in COUNTRY_CODE_TO_REGION_CODE[number.country_code] if r != "001"]
        countries = {region, rng.choice(REGIONS), *rng.sample(sharing, min(2, len(sharing)))}
        for text in {digits, national, national_form}:
            for variant in _near_misses(text, rng):
                for country in countries:
                    # "00" is read as "+" before either implementation sees the digits.
                    for spelled in (variant, "+" + variant):
                        assert_same(spelled, country)
                        compared += 1
    assert compared > 40_000


CODES = sorted(COUNTRY_CODE_TO_REGION_CODE)


@st.composite
def digit_strings(draw: st.DrawFn) -> tuple[str, str]:
    """A dial code (or none) followed by arbitrary digits, for any region."""
    code = draw(st.sampled_from(["", *map(str, CODES)]))
    rest = draw(st.text(alphabet="0123456789", min_size=0, max_size=15))
    prefix = draw(st.sampled_from(["", "+", "00", "0", "+0"]))
    if draw(st.booleans()):
        sharing = [r for r in COUNTRY_CODE_TO_REGION_CODE.get(int(code or 0), ()) if r != "001"]
        country = draw(st.sampled_from(sharing or REGIONS))
    else:
        country = draw(st.sampled_from([*REGIONS, "XX", "tn", " us ", "USA", ""]))
    return prefix + code + rest, country


@hypothesis_settings(max_examples=2000, deadline=None, database=None)
@given(digit_strings())
@example(("21696816277", "TN"))
@example(("96816277", "TN"))
@example(("33612345678", "DE"))
@example(("12423570000", "BS"))  # a NANPA number: the region comes from the number's digits
@example(("79123456789", "KZ"))  # +7 is shared by Russia and Kazakhstan
@example(("5491123456789", "AR"))  # Argentina's national prefix rules are parse's own
@example(("80012345678", "US"))  # a non-geographic code
def test_arbitrary_digits_answer_as_the_reference(case: tuple[str, str]) -> None:
    assert_same(*case)
