"""tipipeline: the London baseline of trauma-informed practice, as a reproducible Dagster pipeline."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"


def open_baseline(data_dir: str | Path | None = None):
    """A read-only DuckDB connection to the published baseline (data/warehouse/baseline.duckdb).

    The data directory is `data_dir`, else TIPIPELINE_DATA_DIR, else data/ in the project root (the
    nearest folder at or above the working directory with tipipeline's pyproject.toml), so a notebook
    in notebooks/ opens the same file as `make run` in the root writes.

    Safe while the pipeline runs: a new baseline is swapped in atomically and this connection keeps
    the snapshot it opened. To see a newer baseline, close this connection and open a new one
    (DuckDB hands back the same, old, database while any connection to it in the process is open).
    """
    from tipipeline.settings import data_dir_origin, get_settings
    from tipipeline.warehouse import connect

    path = get_settings(data_dir).baseline_path
    if not path.exists():
        raise FileNotFoundError(
            f"no published baseline at {path} (data directory from {data_dir_origin(data_dir)}). "
            "Build it with `make run` in the project root, or set TIPIPELINE_DATA_DIR (or pass "
            "open_baseline(data_dir=...)) to the data directory that holds warehouse/baseline.duckdb."
        )
    return connect(path, read_only=True)


__all__ = ["__version__", "open_baseline"]
