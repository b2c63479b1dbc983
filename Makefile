# Herald: `make run` serves it on one machine, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
TEST_INSTALLED := $(VENV)/.installed-test
BENCH_INSTALLED := $(VENV)/.installed-bench

.PHONY: install run test test-fast lint format clean bench

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Herald needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(TEST_INSTALLED): pyproject.toml sdk/python/pyproject.toml $(INSTALLED)
	$(BIN)/pip install --quiet -e '.[test]' -e sdk/python
	@touch $@

install: $(INSTALLED)

run: install
	$(BIN)/herald db upgrade
	$(BIN)/herald serve

lint: $(TEST_INSTALLED)
	$(BIN)/ruff check src tests migrations sdk bench
	$(BIN)/ruff format --check src tests migrations sdk bench
	$(BIN)/mypy
	$(BIN)/mypy --strict sdk/python/src bench
	$(BIN)/lint-imports --no-logo

# The console's browser tests drive Debian's Chromium (a browser downloaded by Playwright itself
# is not an option: only package registries are reachable).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@echo "Installing Debian's chromium for the console's browser tests"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# Four workers, whole files to each (a file's module fixtures and order stay together): the
# suite waits on servers, subprocesses and the emulator's pacing as much as it computes, so
# four workers overlap the waits even on two cores (8.5-11 minutes of pytest here, against
# 10.3-10.5 on two earlier the same day: docs/development.md). Each worker has its own databases and ports
# (tests/conftest.py). `make test PYTEST_WORKERS=0` runs it in one process.
PYTEST_WORKERS ?= 4

# Bytecode is cached during the run even where the environment sets PYTHONDONTWRITEBYTECODE
# (this machine's does): each worker otherwise rewrote and compiled every test module again
# (4 s of CPU), and each `herald` process a test starts compiled Herald again (1 s).
test: lint $(CHROMIUM)
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25

# The benchmarks of docs/benchmarks.md (installs wrk from Debian if missing; `--quick` took
# 4 minutes here, the full run several times that).
$(BENCH_INSTALLED): pyproject.toml $(TEST_INSTALLED)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	@touch $@

bench: $(BENCH_INSTALLED)
	$(BIN)/python -m bench all

format: $(TEST_INSTALLED)
	$(BIN)/ruff format src tests migrations sdk
	$(BIN)/ruff check --fix src tests migrations sdk

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
