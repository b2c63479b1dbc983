from __future__ import annotations

import pytest

from herald.errors import InvalidPhoneNumber
from herald.kit.phone import mask_digits, mask_phone_numbers, normalise


@pytest.mark.parametrize(
    ("raw", "country", "digits"),
    [
        ("21696816277", "TN", "21696816277"),
        ("+216 96-816-277", "tn", "21696816277"),
        ("(216) 96.816.277", "TN", "21696816277"),
        ("96816277", "TN", "21696816277"),  # national form: read for the given country
        ("14155552671", "US", "14155552671"),
        ("447400123456", "GB", "447400123456"),
    ],
)
def test_numbers_become_e164_digits(raw: str, country: str, digits: str) -> None:
    phone = normalise(raw, country)
    assert phone.digits == digits
    assert phone.country_code == country.upper()


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        ("21696816277", "FR"),  # a Tunisian number is not French
        ("2169681627", "TN"),  # too short
        ("216968162771234", "TN"),
        ("phone", "TN"),
        ("", "TN"),
        ("21696816277", "XX"),
        ("21696816277", "TUN"),
    ],
)
def test_invalid_numbers_are_refused(raw: str, country: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalise(raw, country)


def test_masking_keeps_enough_to_tell_numbers_apart() -> None:
    assert mask_digits("21696816277") == "216968****77"
    assert mask_phone_numbers("to 21696816277 and +447911123456.") == (
        "to 216968****77 and 447911****56."
    )
    assert "12345678" not in mask_phone_numbers("id 12345678")
