# Two commands on a fresh clone: `make run` and `make test`.
# Every target creates .venv itself and installs from the committed, hash-pinned lock files.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: run test lint format ui sample check-defs lock clean help

help:
	@echo "make run    build everything on the data directory (default: the bundled synthetic sample)"
	@echo "make test   install test dependencies, lint (ruff) and run the whole test suite"
	@echo "make format format the code with ruff (make test checks it is formatted)"
	@echo "make ui     Dagster UI and daemon on http://127.0.0.1:3000"
	@echo "make sample regenerate the synthetic sample in data/raw"
	@echo "make lock   re-resolve requirements*.lock from pyproject.toml (needs network)"

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

run: $(VENV)/.installed-run
	$(BIN)/tipipeline run

test: lint
	$(BIN)/python -m pytest

# Lint (pyflakes, pycodestyle, imports, bugbear, McCabe complexity <= 15) and formatting.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

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

clean:
	rm -rf $(VENV) .dagster_home outputs data/warehouse .pytest_cache
