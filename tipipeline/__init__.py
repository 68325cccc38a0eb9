"""tipipeline: the London baseline of trauma-informed practice, as a reproducible Dagster pipeline."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"


def open_baseline(data_dir: str | Path | None = None):
    """A read-only DuckDB connection to the published baseline (data/warehouse/baseline.duckdb).

    Safe while the pipeline runs: a new baseline is swapped in atomically and this connection keeps
    the snapshot it opened. To see a newer baseline, close this connection and open a new one
    (DuckDB hands back the same, old, database while any connection to it in the process is open).
    """
    from tipipeline.settings import get_settings
    from tipipeline.warehouse import connect

    return connect(get_settings(data_dir).baseline_path, read_only=True)


__all__ = ["__version__", "open_baseline"]
