"""Hypothesis properties of phone numbers, template bodies and placeholders, and the send
path's ``body_params`` count through the real API. Nothing of Herald's is mocked."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import httpx
import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from herald.config import Settings
from herald.errors import InvalidPhoneNumber, ValidationFailed
from herald.kit.clock import FrozenClock
from herald.kit.phone import normalise
from herald.models import Template, User
from herald.template.rules import RuleBroken, check_placeholder_sequence, check_template
from herald.template.schemas import TemplateCreate
from tests.conftest import DatabaseUnderTest
from tests.hostile.conftest import assert_jsend
from tests.message.helpers import approved_template

PROPERTY = hypothesis_settings(max_examples=300, deadline=None, database=None)
API_PROPERTY = hypothesis_settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- phone numbers -----------------------------------------------------------------------------

TYPES = [
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.UAN,
]


def _examples() -> list[tuple[str, phonenumbers.PhoneNumber]]:
    """libphonenumber's example number of each type for each region, where it is valid."""
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None and phonenumbers.is_valid_number_for_region(number, region):
                found.append((region, number))
    return found


EXAMPLES = _examples()
SEPARATORS = st.sampled_from([" ", "-", ".", "", "  ", " - ", ".-"])


@st.composite
def formatted(draw: st.DrawFn, digits: str) -> str:
    """``digits`` cut into groups joined by the separators Herald tolerates."""
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(digits) - 1)), max_size=5)))
    groups = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    text = groups[0]
    for group in groups[1:]:
        text += draw(SEPARATORS) + group
    return text


@st.composite
def international_spellings(draw: st.DrawFn) -> tuple[str, str, str]:
    """(region, a spelling of one of its valid numbers with the dial code, its E.164 digits)."""
    region, number = draw(st.sampled_from(EXAMPLES))
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164).removeprefix("+")
    dial = str(number.country_code)
    national = e164.removeprefix(dial)
    style = draw(st.sampled_from(["plain", "grouped", "bracketed", "library"]))
    if style == "plain":
        body = e164
    elif style == "grouped":
        body = draw(formatted(e164))
    elif style == "bracketed":
        body = f"({dial})" + draw(SEPARATORS) + draw(formatted(national))
    else:
        body = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        body = body.removeprefix("+")
    prefix = draw(st.sampled_from(["", "+", "00", "+ "]))
    if prefix == "00" and body.startswith("("):
        prefix = ""
    padding = draw(st.sampled_from(["", " ", "\t", " \n"]))
    case = draw(st.sampled_from([str.upper, str.lower, lambda r: f" {r.lower()} "]))
    return case(region), f"{padding}{prefix}{body}{padding}", e164


@PROPERTY
@given(international_spellings())
def test_every_spelling_of_a_valid_number_normalises_to_its_e164_digits(
    spelled: tuple[str, str, str],
) -> None:
    country, raw, e164 = spelled
    phone = normalise(raw, country)
    assert phone.digits == e164
    assert phone.country_code == country.strip().upper()
    assert normalise(phone.digits, phone.country_code) == phone  # idempotent


@st.composite
def national_spellings(draw: st.DrawFn) -> tuple[str, str, str]:
    """(region, one of its valid numbers in national form, its E.164 digits)."""
    region, number = draw(st.sampled_from(EXAMPLES))
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164).removeprefix("+")
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    digits = re.sub(r"\D", "", national)
    # A national form that is also a valid number of another country as written (digits with a
    # dial code, the documented form) is refused on purpose: it more likely belongs there, and
    # guessing would message a stranger. Those are left out here.
    try:
        as_written = phonenumbers.parse("+" + digits, None)
        assume(not phonenumbers.is_valid_number(as_written) or as_written == number)
    except phonenumbers.NumberParseException:
        pass
    return region, draw(st.sampled_from([national, digits, draw(formatted(digits))])), e164


@PROPERTY
@given(national_spellings())
def test_a_valid_number_in_national_form_normalises_for_its_country(
    spelled: tuple[str, str, str],
) -> None:
    country, raw, e164 = spelled
    assert normalise(raw, country).digits == e164


@pytest.mark.parametrize(("raw", "country", "e164"), [("7012", "NU", "6837012")])
def test_a_short_national_number_is_accepted(raw: str, country: str, e164: str) -> None:
    assert normalise(raw, country).digits == e164


REGIONS = st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS))
PHONEISH = st.text(
    alphabet=st.sampled_from("0123456789+-(). \t\u0660\u0661\u0662\u0969\u096a\u00b2"), max_size=25
)


@PROPERTY
@given(
    raw=st.one_of(st.text(), PHONEISH),
    country=st.one_of(st.text(max_size=4), REGIONS, REGIONS.map(str.lower)),
)
def test_any_text_is_a_number_or_invalid_phone_number(raw: str, country: str) -> None:
    try:
        phone = normalise(raw, country)
    except InvalidPhoneNumber:
        return
    assert phone.digits.isascii()
    assert phone.digits.isdigit()
    assert 6 <= len(phone.digits) <= 15
    assert phone.country_code in phonenumbers.SUPPORTED_REGIONS
    assert normalise(phone.digits, phone.country_code) == phone


@PROPERTY
@example(spelled=("FR", "+33612345678", "33612345678"), other="DE")
@example(spelled=("TN", "21696816277", "21696816277"), other="AT")
@given(spelled=international_spellings(), other=REGIONS)
def test_a_number_with_its_dial_code_never_becomes_another_countrys_number(
    spelled: tuple[str, str, str], other: str
) -> None:
    _, raw, e164 = spelled
    if phonenumbers.is_valid_number_for_region(phonenumbers.parse("+" + e164), other):
        return  # shared dial plans (+1, +44, +7...): the same number is valid in both
    try:
        phone = normalise(raw, other)
    except InvalidPhoneNumber:
        return
    assert phone.digits == e164, f"{raw!r} for {other} became {phone.digits}"


# --- template bodies and placeholders ----------------------------------------------------------

# Known bug, pinned by test_unicode_digits_in_a_placeholder_are_refused: placeholder_numbers()
# takes str.isdigit() for a number, so non-ASCII digits crash it or pass as numbers. Arbitrary
# text here leaves them out; every other character may appear.
NON_ASCII_DIGITS = "".join(
    chr(c) for c in range(0x80, 0x110000) if chr(c).isdigit() and not chr(c).isascii()
)
ASCII_DIGITS_ONLY = st.characters(exclude_categories=("Cs",), exclude_characters=NON_ASCII_DIGITS)
BRACEY = st.text(
    alphabet=st.one_of(st.sampled_from("{}{{}}1234567890 x"), ASCII_DIGITS_ONLY), max_size=200
)


def template(body: str, category: str = "UTILITY") -> TemplateCreate:
    return TemplateCreate(name="t", language="en", category=category, body=body)  # type: ignore[arg-type]


@PROPERTY
@given(BRACEY)
def test_any_body_is_a_count_or_a_rule_broken(body: str) -> None:
    try:
        count = check_placeholder_sequence(body, "body")
    except RuleBroken as broken:
        refusal = broken
    else:
        assert count == len(re.findall(r"\{\{[^{}]*\}\}", body))
        return
    assert (refusal.status, refusal.code) == (400, "validation_failed")
    errors = refusal.data["errors"]  # type: ignore[call-overload]
    assert errors[0]["rule"] in ("placeholder_sequence", "placeholder_format")
    assert errors[0]["field"] == "body"


@PROPERTY
@given(BRACEY, st.sampled_from(["MARKETING", "UTILITY", "AUTHENTICATION"]))
def test_any_template_body_passes_or_fails_validation_never_crashes(
    body: str, category: str
) -> None:
    try:
        created = template(body, category)
    except ValueError:  # pydantic's ValidationError: the API answers it 400
        return
    with contextlib.suppress(ValidationFailed):
        check_template(created)


TEXT_BETWEEN = st.text(  # no NUL: a body with one is refused before any placeholder rule
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="{}\x00"), max_size=20
)


@st.composite
def numbered_body(draw: st.DrawFn, numbers: list[int]) -> str:
    parts = [draw(TEXT_BETWEEN)]
    for number in numbers:
        parts += [f"{{{{{number}}}}}", draw(TEXT_BETWEEN)]
    return "x" + "".join(parts) + "x"


@st.composite
def ordered_bodies(draw: st.DrawFn) -> tuple[str, int]:
    n = draw(st.integers(0, 30))
    return draw(numbered_body(list(range(1, n + 1)))), n


@PROPERTY
@given(ordered_bodies())
def test_placeholders_1_to_n_in_order_are_accepted_and_counted(body_and_n: tuple[str, int]) -> None:
    body, n = body_and_n
    assert check_placeholder_sequence(body, "body") == n
    if len(body) <= 1024:
        assert check_template(template(body)) == n


@st.composite
def misnumbered_bodies(draw: st.DrawFn) -> str:
    n = draw(st.integers(1, 12))
    numbers = list(range(1, n + 1))
    fault = draw(st.sampled_from(["shuffle", "skip", "repeat", "start_at_0", "start_at_2"]))
    if fault == "shuffle" and n >= 2:
        shuffled = draw(st.permutations(numbers).filter(lambda p: list(p) != numbers))
        numbers = list(shuffled)
    elif fault == "skip" or (fault == "shuffle" and n < 2):
        gone = draw(st.sampled_from(numbers))
        numbers = [k for k in range(1, n + 2) if k != gone]
    elif fault == "repeat":
        numbers.insert(draw(st.integers(0, n)), draw(st.sampled_from(numbers)))
    elif fault == "start_at_0":
        numbers = [0, *numbers]
    else:
        numbers = [k + 1 for k in numbers]
    return draw(numbered_body(numbers))


@PROPERTY
@given(misnumbered_bodies())
def test_out_of_order_skipped_or_repeated_numbering_is_refused(body: str) -> None:
    with pytest.raises(RuleBroken) as refused:
        check_placeholder_sequence(body, "body")
    assert refused.value.data["errors"][0]["rule"] == "placeholder_sequence"  # type: ignore[call-overload]


@pytest.mark.parametrize(
    "body", ["Hi {{²}}", "Hi {{\u0661}}", "Hi {{\U0001d7d9}}", "Hi {{1}} {{\u0662}}"]
)
def test_unicode_digits_in_a_placeholder_are_refused(body: str) -> None:
    with pytest.raises(RuleBroken) as refused:
        check_placeholder_sequence(body, "body")
    assert refused.value.data["errors"][0]["rule"] == "placeholder_format"  # type: ignore[call-overload]


@pytest.mark.parametrize("body", ["Your code {{²}}", "{{1}} and {{¹}}"])
async def test_a_template_with_a_superscript_placeholder_is_a_400_not_a_500(
    client: httpx.AsyncClient, auth: dict[str, str], body: str
) -> None:
    answer = await client.post(
        "/api/v2/whatsapp/templates",
        json={"name": "sup", "language": "en", "category": "UTILITY", "body": body},
        headers=auth,
    )
    assert_jsend(answer)
    assert answer.status_code == 400, answer.text


# --- body_params through the API ---------------------------------------------------------------


@pytest.fixture
async def templates_by_count(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> dict[int, Template]:
    """An APPROVED template with 0 to 5 body placeholders."""
    made = {}
    for n in range(6):
        body = "Hello" + "".join(f" {{{{{k}}}}}" for k in range(1, n + 1))
        made[n] = await approved_template(
            db, ana, settings, clock.now(), name=f"count_{n}", body=body, placeholder_count=n
        )
    return made


PARAM = st.text(  # NUL is refused as validation_failed before the count (test_payloads)
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40
)


# Four spaces in a row pass; a fifth, a newline or a tab is refused, as WhatsApp refuses them.
WHITESPACE_EDGES = st.sampled_from(["a    b", "a     b", "a\nb", "a\tb", "a\r\nb", "    "])


def _refused_param(text: str) -> bool:
    return not text.strip() or "\n" in text or "\t" in text or " " * 5 in text


@API_PROPERTY
@given(
    n=st.integers(0, 5),
    params=st.lists(st.one_of(PARAM, WHITESPACE_EDGES), max_size=8),
    omit_when_empty=st.booleans(),
)
async def test_body_params_are_400_body_params_mismatch_iff_the_count_differs(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    templates_by_count: dict[int, Template],
    n: int,
    params: list[str],
    omit_when_empty: bool,
) -> None:
    payload: dict[str, Any] = {"to": "21696816277", "country_code": "TN"}
    if params or not omit_when_empty:
        payload["body_params"] = params
    template_id = templates_by_count[n].id
    answer = await client.post(
        f"/api/v2/whatsapp/templates/{template_id}/send", json=payload, headers=auth
    )
    body = assert_jsend(answer)
    # Each parameter in turn: blank, or with what WhatsApp refuses in a parameter's text.
    refused = next((i for i, p in enumerate(params) if _refused_param(p)), None)
    if len(params) != n:
        assert answer.status_code == 400, answer.text
        assert body["code"] == "body_params_mismatch"
        assert body["data"] == {"expected": n, "given": len(params)}
    elif refused is not None and not params[refused].strip():
        assert answer.status_code == 400, answer.text
        assert body["code"] == "validation_failed"
        assert body["data"]["errors"][0]["field"] == f"body_params.{refused}"
    elif refused is not None:
        assert answer.status_code == 400, answer.text
        assert body["code"] == "param_text_invalid"
        assert body["data"] == {"field": f"body_params.{refused}"}
    else:
        assert answer.status_code == 202, answer.text
        assert body["data"]["message"]["state"] == "queued"
