"""Paths and environment: the only place that reads TIPIPELINE_* variables."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

PROJECT_NAME = "tipipeline"

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
    data = data_dir or os.environ.get("TIPIPELINE_DATA_DIR")
    out = output_dir or os.environ.get("TIPIPELINE_OUTPUT_DIR")
    if not data or not out:
        base = project_root() or Path.cwd()
        data = data or base / "data"
        out = out or base / "outputs"
    return Settings(data_dir=Path(data).resolve(), output_dir=Path(out).resolve())


def data_dir_origin(data_dir: str | Path | None = None) -> str:
    """Where get_settings(data_dir) takes the data directory from, in words (for error messages)."""
    if data_dir:
        return "the data_dir argument"
    if os.environ.get("TIPIPELINE_DATA_DIR"):
        return "TIPIPELINE_DATA_DIR"
    root = project_root()
    if root is not None:
        return f"data/ in the project root {root}"
    return f"./data: no tipipeline pyproject.toml in {Path.cwd()} or any folder above it"


def watch_seconds() -> int:
    """How often the sensors look at the data folder and for stale assets (TIPIPELINE_WATCH_SECONDS, default 30)."""
    return max(5, int(os.environ.get("TIPIPELINE_WATCH_SECONDS") or 30))


def ensure_dagster_home() -> Path:
    """Default DAGSTER_HOME to ./.dagster_home (git-ignored) and give it a dagster.yaml."""
    home = Path(os.environ.get("DAGSTER_HOME") or ".dagster_home").resolve()
    os.environ["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return home
