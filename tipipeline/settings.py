"""Paths and environment: the only module that reads (or sets) environment variables.

Every variable tipipeline reads is named in `ENVIRONMENT` with what it sets; other modules ask
`env(NAME)` for its value (tests/test_settings.py finds any other read)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

PROJECT_NAME = "tipipeline"

DATA_DIR_ENV = "TIPIPELINE_DATA_DIR"
OUTPUT_DIR_ENV = "TIPIPELINE_OUTPUT_DIR"
WATCH_SECONDS_ENV = "TIPIPELINE_WATCH_SECONDS"
MEMORY_LIMIT_ENV = "TIPIPELINE_DUCKDB_MEMORY_LIMIT"
READER_ENV = "TIPIPELINE_INGEST_READER"
PSEUDONYM_KEY_ENV = "TIPIPELINE_PSEUDONYM_KEY"
PSEUDONYM_KEY_FILE_ENV = "TIPIPELINE_PSEUDONYM_KEY_FILE"
DRAW_WORKERS_ENV = "TIPIPELINE_DRAW_WORKERS"
ALERT_WEBHOOK_ENV = "TIPIPELINE_ALERT_WEBHOOK"
ALERT_EMAIL_ENV = "TIPIPELINE_ALERT_EMAIL"
ALERT_FROM_ENV = "TIPIPELINE_ALERT_FROM"
SMTP_HOST_ENV = "TIPIPELINE_SMTP_HOST"
SMTP_PORT_ENV = "TIPIPELINE_SMTP_PORT"
UI_URL_ENV = "TIPIPELINE_UI_URL"
DAGSTER_HOME_ENV = "DAGSTER_HOME"

ENVIRONMENT = {
    DATA_DIR_ENV: "the data directory (raw inputs, boundaries, warehouse); default data/ in the project root",
    OUTPUT_DIR_ENV: "the output directory (maps, report, journey pages, exports); default outputs/",
    WATCH_SECONDS_ENV: "how often the sensors look at the data folder, in seconds (default 30, at least 5)",
    MEMORY_LIMIT_ENV: "DuckDB's memory limit before it spills to disk (default 2.5GB)",
    READER_ENV: "survey export reader: auto (default), duckdb, python or compare (both, cell for cell)",
    PSEUDONYM_KEY_ENV: "the HMAC key respondent pseudonyms are made with (required for real data)",
    PSEUDONYM_KEY_FILE_ENV: "a file holding that key (default .secrets/pseudonym_key)",
    DRAW_WORKERS_ENV: "at most this many processes draw the maps (default: every core)",
    ALERT_WEBHOOK_ENV: "a Teams or Slack webhook the run-failure alert posts to",
    ALERT_EMAIL_ENV: "comma-separated addresses the run-failure alert e-mails",
    ALERT_FROM_ENV: "the alert e-mail's sender (default tipipeline@<host>)",
    SMTP_HOST_ENV: "the SMTP server for alert e-mails",
    SMTP_PORT_ENV: "its port (default 25)",
    UI_URL_ENV: "the Dagster UI's address, linked from alerts",
    DAGSTER_HOME_ENV: "Dagster's instance folder (default .dagster_home, made with a dagster.yaml)",
}


def env(name: str) -> str:
    """The value of environment variable `name` as set ("" when unset). Only the variables in
    `ENVIRONMENT` may be asked for, so that the list stays the whole of what tipipeline reads."""
    if name not in ENVIRONMENT:
        raise KeyError(f"{name} is not one of tipipeline's environment variables (settings.ENVIRONMENT)")
    return os.environ.get(name, "")


def export_paths(settings: Settings) -> None:
    """Set the data and output directories in the environment, for the Dagster code this process
    loads (`Definitions` read them when built)."""
    os.environ[DATA_DIR_ENV] = str(settings.data_dir)
    os.environ[OUTPUT_DIR_ENV] = str(settings.output_dir)


DAGSTER_YAML = """\
# Written by tipipeline on first use. One DuckDB writer at a time: every asset that writes the
# warehouse runs in the `duckdb_write` pool, limited to one slot.
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
"""


@dataclass(frozen=True)
class Settings:
    """Where inputs are read from and outputs written to."""

    data_dir: Path
    output_dir: Path

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def surveys_dir(self) -> Path:
        return self.raw_dir / "surveys"

    @property
    def codebook_path(self) -> Path:
        return self.surveys_dir / "codebook.yaml"

    @property
    def policy_audit_dir(self) -> Path:
        return self.raw_dir / "policy_audit"

    @property
    def outcomes_dir(self) -> Path:
        """Published outcome files: MPS crime, Fingertips exports, ONS population estimates."""
        return self.raw_dir / "outcomes"

    @property
    def workforce_dir(self) -> Path:
        """The partners' workforce figures: templates (CSV, XLSX) and Home Office police tables (ODS)."""
        return self.raw_dir / "workforce"

    @property
    def definition_dir(self) -> Path:
        """The London definition's panel: protocol, statements, panel file and round folders."""
        return self.raw_dir / "definition"

    @property
    def practice_dir(self) -> Path:
        """The practice library: the form's exports in submissions/ and the reviewers' reviews.csv."""
        return self.raw_dir / "practice"

    @property
    def boundaries_dir(self) -> Path:
        return self.data_dir / "boundaries"

    @property
    def warehouse_dir(self) -> Path:
        return self.data_dir / "warehouse"

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse_dir / "tipipeline.duckdb"

    @property
    def baseline_path(self) -> Path:
        return self.warehouse_dir / "baseline.duckdb"


def _is_project_file(pyproject: Path) -> bool:
    """Whether `pyproject` is this project's own pyproject.toml (`[project] name = "tipipeline"`)."""
    try:
        with pyproject.open("rb") as file:
            project = tomllib.load(file).get("project")
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return isinstance(project, dict) and project.get("name") == PROJECT_NAME


def project_root(start: str | Path | None = None) -> Path | None:
    """The nearest folder from `start` (default: the working directory) upwards, itself included,
    that holds tipipeline's pyproject.toml; None outside a checkout. Another project's
    pyproject.toml on the way up is passed over. Never the installed package's own folder: a
    process working elsewhere (a test in a temporary folder) must not read or write the checkout's data."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _is_project_file(pyproject):
            return folder
    return None


def get_settings(data_dir: str | Path | None = None, output_dir: str | Path | None = None) -> Settings:
    """Settings from arguments, else the environment (TIPIPELINE_DATA_DIR, TIPIPELINE_OUTPUT_DIR),
    else `data/` and `outputs/` in the project root: the nearest folder at or above the working
    directory with tipipeline's pyproject.toml, so a notebook in notebooks/ finds the same baseline
    as `make run` in the root. Outside a checkout, ./data and ./outputs."""
    data = data_dir or env(DATA_DIR_ENV)
    out = output_dir or env(OUTPUT_DIR_ENV)
    if not data or not out:
        base = project_root() or Path.cwd()
        data = data or base / "data"
        out = out or base / "outputs"
    return Settings(data_dir=Path(data).resolve(), output_dir=Path(out).resolve())


def data_dir_origin(data_dir: str | Path | None = None) -> str:
    """Where get_settings(data_dir) takes the data directory from, in words (for error messages)."""
    if data_dir:
        return "the data_dir argument"
    if env(DATA_DIR_ENV):
        return DATA_DIR_ENV
    root = project_root()
    if root is not None:
        return f"data/ in the project root {root}"
    return f"./data: no tipipeline pyproject.toml in {Path.cwd()} or any folder above it"


def watch_seconds() -> int:
    """How often the sensors look at the data folder and for stale assets (TIPIPELINE_WATCH_SECONDS, default 30)."""
    return max(5, int(env(WATCH_SECONDS_ENV) or 30))


def ensure_dagster_home() -> Path:
    """Default DAGSTER_HOME to ./.dagster_home (git-ignored) and give it a dagster.yaml."""
    home = Path(env(DAGSTER_HOME_ENV) or ".dagster_home").resolve()
    os.environ[DAGSTER_HOME_ENV] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return home
