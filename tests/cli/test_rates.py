"""``herald rates``: the operator's rate card through the real command: set, list, remove,
import from CSV (all or nothing), one currency per installation."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from herald.db import session_factory
from herald.models import Rate
from tests.cli.helpers import herald
from tests.conftest import DatabaseUnderTest


@pytest.fixture
def env(db: DatabaseUnderTest, tmp_path: Path) -> dict[str, str]:
    return {"HERALD_DATABASE_URL": db.url, "HERALD_DATA_DIR": str(tmp_path)}


async def stored(db: DatabaseUnderTest) -> dict[tuple[str, str], tuple[str, Decimal]]:
    async with session_factory(db.engine)() as session:
        rates = (await session.execute(select(Rate))).scalars()
        return {(r.pricing_category, r.country_calling_code): (r.currency, r.price) for r in rates}


async def test_set_list_remove(env: dict[str, str], db: DatabaseUnderTest) -> None:
    done = herald("rates", "set", "marketing", "0.0613", "--currency", "eur", env=env)
    assert done.returncode == 0, done.stderr
    done = herald(
        "rates", "set", "MARKETING", "0.1365", "--currency", "EUR", "--country", "+49", env=env
    )
    assert done.returncode == 0, done.stderr
    # Setting it again replaces it.
    assert herald("rates", "set", "utility", "1", "--currency", "EUR", env=env).returncode == 0
    assert herald("rates", "set", "utility", "0.02", "--currency", "EUR", env=env).returncode == 0
    assert await stored(db) == {
        ("marketing", "*"): ("EUR", Decimal("0.0613")),
        ("marketing", "49"): ("EUR", Decimal("0.1365")),
        ("utility", "*"): ("EUR", Decimal("0.02")),
    }
    listed = herald("rates", "list", "--json", env=env)
    assert json.loads(listed.stdout) == [
        {"currency": "EUR", "category": "marketing", "country": "*", "price": "0.0613"},
        {"currency": "EUR", "category": "marketing", "country": "49", "price": "0.1365"},
        {"currency": "EUR", "category": "utility", "country": "*", "price": "0.02"},
    ]
    shown = herald("rates", "list", env=env).stdout
    assert "every country" in shown
    assert "+49" in shown

    # A second currency is refused: costs in two currencies do not add up.
    refused = herald("rates", "set", "service", "0", "--currency", "USD", "--json", env=env)
    assert refused.returncode != 0
    assert json.loads(refused.stderr)["code"] == "rate_currency_conflict"

    assert herald("rates", "remove", "marketing", "--country", "49", env=env).returncode == 0
    missing = herald("rates", "remove", "marketing", "--country", "49", "--json", env=env)
    assert json.loads(missing.stderr)["code"] == "rate_not_found"
    assert set(await stored(db)) == {("marketing", "*"), ("utility", "*")}


async def test_bad_input_is_refused_clearly(env: dict[str, str], db: DatabaseUnderTest) -> None:
    for args, field in [
        (("marketing", "cheap", "--currency", "EUR"), "price"),
        (("marketing", "-1", "--currency", "EUR"), "price"),
        (("marketing", "0.1234567", "--currency", "EUR"), "price"),
        (("marketing", "0.1", "--currency", "euro"), "currency"),
        (("marketing", "0.1", "--currency", "EUR", "--country", "DE"), "country"),
        (("Marketing Plus", "0.1", "--currency", "EUR"), "category"),
    ]:
        done = herald("rates", "set", *args, "--json", env=env)
        assert done.returncode != 0, args
        assert field in done.stderr, (args, done.stderr)
    assert await stored(db) == {}


async def test_import_is_all_or_nothing(
    env: dict[str, str], db: DatabaseUnderTest, tmp_path: Path
) -> None:
    card = tmp_path / "card.csv"
    card.write_text(
        "\ufeffcurrency,category,country,price\nEUR,marketing,*,0.0613\nEUR,marketing,49,0.1365\n"
        "EUR,authentication,default,0.0368\n",
        encoding="utf-8",
    )
    done = herald("rates", "import", str(card), "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"imported": 3}
    assert len(await stored(db)) == 3

    bad = tmp_path / "bad.csv"
    bad.write_text("currency,category,country,price\nEUR,utility,*,0.02\nEUR,utility,33,x\n")
    refused = herald("rates", "import", str(bad), "--json", env=env)
    assert refused.returncode != 0
    assert "line 3" in refused.stderr
    assert len(await stored(db)) == 3  # the good line before it was not stored either
