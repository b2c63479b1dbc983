"""``herald rates``: the operator's rate card, which prices the analytics' estimated cost."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from herald.cli.common import JsonOutput, command_group, emit, run, settings_or_exit

if TYPE_CHECKING:
    from herald.models import Rate

app = command_group(
    help="The rate card: what Meta charges per message, by pricing category and country.",
    no_args_is_help=True,
)

Category = Annotated[
    str,
    typer.Argument(
        help="Meta's pricing category: marketing, utility, authentication, "
        "authentication_international, service, marketing_lite, referral_conversion ..."
    ),
]
Country = Annotated[
    str,
    typer.Option(
        "--country",
        help="The recipients' country calling code (49, +49), or * for every country "
        "without a rate of its own.",
    ),
]


def _as_json(rate: Rate) -> dict[str, Any]:
    return {
        "currency": rate.currency,
        "category": rate.pricing_category,
        "country": rate.country_calling_code,
        "price": format(rate.price.normalize(), "f"),
    }


@app.command("set")
def set_rate(
    category: Category,
    price: Annotated[str, typer.Argument(help="Price of one message, e.g. 0.0613.")],
    currency: Annotated[str, typer.Option(help="ISO 4217 code; one for the whole card.")],
    country: Country = "*",
    as_json: JsonOutput = False,
) -> None:
    """Set (add or replace) the price of a category, in a country or for every country."""
    from herald.analytics import rates
    from herald.cli.common import database_session
    from herald.kit.clock import SystemClock

    settings = settings_or_exit()
    line = rates.entry(currency, category, country, price)

    async def work() -> None:
        async with database_session(settings) as session:
            await rates.set_rates(session, [line], SystemClock().now())
            await session.commit()

    run(settings, work)
    where = "every country" if line.calling_code == "*" else f"+{line.calling_code}"
    emit(
        {
            "currency": line.currency,
            "category": line.category,
            "country": line.calling_code,
            "price": str(line.price),
        },
        f"{line.category} in {where}: {line.price} {line.currency}.",
    )


@app.command("list")
def list_rates(as_json: JsonOutput = False) -> None:
    """Show the rate card."""
    from herald.analytics import rates
    from herald.cli.common import database_session

    settings = settings_or_exit()

    async def work() -> list[Rate]:
        async with database_session(settings) as session:
            return list(await rates.list_rates(session))

    found = run(settings, work)
    emit([_as_json(rate) for rate in found], lambda: _table(found))


def _table(found: list[Rate]) -> Table | str:
    if not found:
        return "No rates: the analytics report costs as unknown. Add some with `herald rates set`."
    table = Table("category", "country", "price", "currency")
    for rate in found:
        shown = _as_json(rate)
        country = "every country" if shown["country"] == "*" else f"+{shown['country']}"
        table.add_row(shown["category"], country, shown["price"], shown["currency"])
    return table


@app.command("remove")
def remove(category: Category, country: Country = "*", as_json: JsonOutput = False) -> None:
    """Remove one price."""
    from herald.analytics import rates
    from herald.cli.common import database_session

    settings = settings_or_exit()

    async def work() -> None:
        async with database_session(settings) as session:
            await rates.remove(session, category, country)
            await session.commit()

    run(settings, work)
    emit({"removed": True}, "Removed.")


@app.command("import")
def import_rates(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    as_json: JsonOutput = False,
) -> None:
    """Set many prices from a CSV file with the columns currency,category,country,price
    (country: a calling code, or * for the default). All or nothing."""
    from herald.analytics import rates
    from herald.cli.common import database_session
    from herald.kit.clock import SystemClock

    settings = settings_or_exit()

    async def work() -> int:
        with file.open(encoding="utf-8-sig", newline="") as source:
            lines = rates.read_csv(source)
        async with database_session(settings) as session:
            await rates.set_rates(session, lines, SystemClock().now())
            await session.commit()
        return len(lines)

    count = run(settings, work)
    emit({"imported": count}, f"Imported {count} rates.")
