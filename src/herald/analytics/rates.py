"""The operator's rate card: set, list, remove and import prices (``herald rates``), and the
price of a category in a country, for the analytics' estimated cost.

One currency per installation: a cost adds prices up, and prices of two currencies do not add.
Prices are ``Decimal`` end to end (money is never a float).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from herald.analytics import rates_repository as repository
from herald.errors import Conflict, NotFound, ValidationFailed
from herald.models import Rate
from herald.models.rate import EVERY_COUNTRY

# Meta's categories at the time of writing; the card takes any other Meta may add (lower-case
# words), since a status's category is kept as Meta writes it.
KNOWN_CATEGORIES = (
    "marketing",
    "marketing_lite",
    "utility",
    "authentication",
    "authentication_international",
    "service",
    "referral_conversion",
)
_CATEGORY = re.compile(r"[a-z][a-z0-9_]{0,39}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_CALLING_CODE = re.compile(r"[1-9][0-9]{0,3}")
MAX_PRICE = Decimal("99999999")


class CurrencyConflict(Conflict):
    code = "rate_currency_conflict"
    message = "The rate card has one currency."


class RateNotFound(NotFound):
    code = "rate_not_found"
    message = "No such rate."


@dataclass(frozen=True)
class RateEntry:
    """A checked line of the card."""

    currency: str
    category: str
    calling_code: str  # digits, or EVERY_COUNTRY
    price: Decimal


def entry(currency: str, category: str, country: str, price: str) -> RateEntry:
    """A line as an operator writes it: ``country`` is a calling code (``49``, ``+49``) or
    ``*``/``default`` for every country without a rate of its own."""
    currency = currency.strip().upper()
    if not _CURRENCY.fullmatch(currency):
        raise ValidationFailed.single("currency", "must be an ISO 4217 code such as EUR")
    category = category.strip().lower()
    if not _CATEGORY.fullmatch(category):
        raise ValidationFailed.single("category", "must be a Meta pricing category (a-z, _)")
    return RateEntry(currency, category, calling_code(country), _price(price))


def calling_code(country: str) -> str:
    country = country.strip().lstrip("+")
    if country in ("*", "default", ""):
        return EVERY_COUNTRY
    if not _CALLING_CODE.fullmatch(country):
        raise ValidationFailed.single("country", "must be a calling code (e.g. 49) or *")
    return country


def _price(text: str) -> Decimal:
    try:
        price = Decimal(text.strip())
    except InvalidOperation:
        raise ValidationFailed.single("price", "must be a decimal number") from None
    if not price.is_finite() or price < 0 or price > MAX_PRICE:
        raise ValidationFailed.single("price", "must be a number from 0 to 99999999")
    if price != price.quantize(Decimal("0.000001")):
        raise ValidationFailed.single("price", "has at most 6 decimal places")
    return price


async def set_rates(session: AsyncSession, entries: Sequence[RateEntry], now: datetime) -> None:
    """Set (add or replace) these prices; refused whole if they bring a second currency."""
    held = await repository.currencies(session)
    wanted = {line.currency for line in entries}
    if len(wanted | held) > 1:
        raise CurrencyConflict(
            f"The rate card is in {', '.join(sorted(held or wanted))}: one currency per "
            "installation (remove every rate to change it).",
            data={"currencies": sorted(held | wanted)},
        )
    for line in entries:
        await repository.put(
            session, line.currency, line.category, line.calling_code, line.price, now
        )


async def list_rates(session: AsyncSession) -> Sequence[Rate]:
    return await repository.every_rate(session)


async def remove(session: AsyncSession, category: str, country: str) -> None:
    if not await repository.remove(session, category.strip().lower(), calling_code(country)):
        raise RateNotFound()


def read_csv(source: TextIO) -> list[RateEntry]:
    """A card as CSV with a header row: ``currency,category,country,price`` (any order);
    every line checked before any is stored (an error names its line)."""
    reader = csv.DictReader(source)
    wanted = {"currency", "category", "country", "price"}
    if reader.fieldnames is None or not wanted <= {f.strip() for f in reader.fieldnames}:
        raise ValidationFailed.single("file", "needs the columns currency,category,country,price")
    entries = []
    for line, row in enumerate(reader, start=2):
        values = {(k or "").strip(): (v or "") for k, v in row.items()}
        try:
            entries.append(
                entry(values["currency"], values["category"], values["country"], values["price"])
            )
        except ValidationFailed as exc:
            raise ValidationFailed.single("file", f"line {line}: {exc.message}") from None
    return entries


@dataclass(frozen=True)
class RateCard:
    """The card as the analytics price with it."""

    currency: str | None
    prices: dict[tuple[str, str], Decimal]  # (category, calling code or EVERY_COUNTRY)

    def price(self, category: str, code: str) -> Decimal | None:
        """A country's own rate, else the default; None when neither exists."""
        found = self.prices.get((category, code))
        return found if found is not None else self.prices.get((category, EVERY_COUNTRY))


def card_of(rates: Iterable[Rate]) -> RateCard:
    rates = list(rates)
    return RateCard(
        currency=rates[0].currency if rates else None,
        prices={(r.pricing_category, r.country_calling_code): r.price for r in rates},
    )


async def card(session: AsyncSession) -> RateCard:
    return card_of(await repository.every_rate(session))
