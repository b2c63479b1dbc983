"""Dependencies point one way and no import cycle joins Herald's packages: the import-linter
contracts in pyproject.toml (docs/dev-map/layers.md), checked on every test run as well as by
``make lint``."""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter.application.use_cases import read_user_options
from importlinter.cli import lint_imports

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_the_contracts_are_configured() -> None:
    contracts = read_user_options(str(PYPROJECT)).contracts_options
    assert {c["type"] for c in contracts} == {"layers", "acyclic_siblings"}


def test_the_import_contracts_hold(capsys: pytest.CaptureFixture[str]) -> None:
    passed = lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    assert passed == 0, capsys.readouterr().out  # the report names each import that breaks one
