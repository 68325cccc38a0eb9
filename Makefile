# Two commands on a fresh clone: `make run` and `make test`.
# Every target creates .venv itself and installs from the committed, hash-pinned lock files.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# A separate environment with an older DuckDB, in which tests/test_duckdb1_compat.py opens the
# published baseline. 1.1.3 (the last 1.1 release): the release issue 12 was reported with, old
# enough to stand for the 1.x clients researchers' R and CLI installs still have, with wheels for
# Python 3.11-3.13 so no compiler is needed. The baseline is written for DuckDB 1.0.0 and later
# (STORAGE_VERSION in tipipeline/publish/baseline.py).
DUCKDB1_VENV := .venv-duckdb1
DUCKDB1_PIN  := duckdb==1.1.3
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: run test lint format docs ui sample check-defs duckdb1 axe lock clean help

help:
	@echo "make run    build everything on the data directory (default: the bundled synthetic sample)"
	@echo "make test   install test dependencies, lint (ruff) and run the whole test suite"
	@echo "make format format the code with ruff (make test checks it is formatted)"
	@echo "make docs   rewrite the table lists in README.md and docs/DESIGN.md from the table registry"
	@echo "make ui     Dagster UI and daemon on http://127.0.0.1:3000"
	@echo "make sample regenerate the synthetic sample in data/raw"
	@echo "make lock   re-resolve requirements*.lock from pyproject.toml (needs network)"
	@echo "make duckdb1 build .venv-duckdb1 (DuckDB 1.x, for the test that opens the baseline in it)"

# The stamp files record which lock was installed, so editing a lock reinstalls.
$(VENV)/.installed-run: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

$(VENV)/.installed-dev: requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@ $(VENV)/.installed-run

$(DUCKDB1_VENV)/.installed: requirements-duckdb1.lock
	test -x $(DUCKDB1_VENV)/bin/python || $(PYTHON) -m venv $(DUCKDB1_VENV)
	$(DUCKDB1_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements-duckdb1.lock
	@touch $@

duckdb1: $(DUCKDB1_VENV)/.installed

# axe-core (npm, pinned by tests/a11y/package-lock.json): the report's WCAG 2.2 AA check. Without
# npm the check skips outside CI (.ci/run installs npm); in CI the test fails instead.
AXE := tests/a11y/node_modules/axe-core/axe.min.js
$(AXE): tests/a11y/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/a11y --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the report's axe-core check will skip (install nodejs and npm)"; fi

axe: $(AXE)

run: $(VENV)/.installed-run
	$(BIN)/tipipeline run

# The suite on every core (pytest-xdist). --dist loadfile keeps each test file on one worker, so a
# module's shared fixtures are built once; the session's built samples are built once per worker.
PYTEST_WORKERS ?= auto
test: lint $(DUCKDB1_VENV)/.installed axe
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=25

# Lint (pyflakes, pycodestyle, imports, bugbear, McCabe complexity <= 15) and formatting.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The table lists in README.md and docs/DESIGN.md, rewritten from the table registry.
docs: $(VENV)/.installed-run
	$(BIN)/python -m tipipeline.registry.docs

# `dg dev` runs the webserver, the code server and the daemon (sensor, schedule) together.
ui: $(VENV)/.installed-run
	$(BIN)/python -c "from tipipeline.settings import ensure_dagster_home; ensure_dagster_home()"
	VIRTUAL_ENV=$(CURDIR)/$(VENV) PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/dg dev --host 127.0.0.1 --port 3000

sample: $(VENV)/.installed-run
	$(BIN)/tipipeline sample --out data/raw

check-defs: $(VENV)/.installed-run
	$(BIN)/dg check defs

lock:
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --python-version 3.11 --generate-hashes --no-header -o requirements.lock
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes --no-header -o requirements-dev.lock
	echo "$(DUCKDB1_PIN)" | $(PYTHON) -m uv pip compile - --python-version 3.11 --generate-hashes --no-header -o requirements-duckdb1.lock

clean:
	rm -rf $(VENV) $(DUCKDB1_VENV) tests/a11y/node_modules .dagster_home outputs data/warehouse .pytest_cache
