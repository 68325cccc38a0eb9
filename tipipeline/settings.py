"""Paths and environment: the only place that reads TIPIPELINE_* variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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


def get_settings(data_dir: str | Path | None = None, output_dir: str | Path | None = None) -> Settings:
    """Settings from arguments, else the environment, else the defaults (./data, ./outputs)."""
    data = Path(data_dir or os.environ.get("TIPIPELINE_DATA_DIR") or "data")
    out = Path(output_dir or os.environ.get("TIPIPELINE_OUTPUT_DIR") or "outputs")
    return Settings(data_dir=data.resolve(), output_dir=out.resolve())


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
