"""Publish the baseline: only the listed tables and columns, with comments, written to a new file
and swapped in atomically; CSV and Parquet exports beside it.

Readers open the published file read-only. `os.replace` swaps the new file in at once: a reader
that already has the old file open keeps reading the old, complete snapshot, and a new reader gets
the new one. Nobody ever sees a half-written baseline, and a reader never blocks a run.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from tipipeline import registry
from tipipeline.errors import TipipelineError
from tipipeline.files import file_sha256
from tipipeline.outcomes.files import outcome_config_files
from tipipeline.warehouse import sql_literal, table_exists

# The published file's on-disk format. DuckDB 2.0 writes its own format (header version 999) by
# default, which no 1.x release opens ("version number 999, can only read 64"), yet researchers' R
# packages and CLIs are often 1.x. 'v1.0.0' is the oldest storage version that keeps everything the
# baseline holds (BIGINT, DOUBLE, VARCHAR, BOOLEAN columns; table and column comments) and that its
# readers really open: DuckDB 1.0.0 and every later release (checked with 0.10.3, 1.0.0, 1.1.3,
# 1.4.0 and 1.5.0: same tables, rows, types and comments). 'v0.10.0' was tried too: DuckDB 2.0.1
# writes the same format for it (header version 64; a small file came out byte for byte the same),
# and 0.10.0-0.10.2 cannot read it either ("Failed to deserialize: field id mismatch", even with no
# comments), so naming it would only promise readers it does not have. Raise it only if a published
# column needs a type 1.0 lacks. tests/test_duckdb1_compat.py opens the published file with DuckDB
# 1.1.3 (.venv-duckdb1, built by `make test`) and checks the header version.
STORAGE_VERSION = "v1.0.0"


PROVENANCE = "provenance"  # the published table saying where every other came from


@dataclass(frozen=True)
class TableSpec:
    name: str
    comment: str
    sql: str
    order_by: list[str]
    columns: dict[str, str]
    formerly: str | None = None  # the old name, kept readable as a view for one release


def load_spec(min_cell_size: int | None = None) -> list[TableSpec]:
    """The published tables made by a query over the warehouse, in registry order (published.yaml),
    with their comments and column comments (the registry's descriptions).

    `{min_cell_size}` in a table's SQL or comment stands for the disclosure threshold (default:
    the framework's)."""
    if min_cell_size is None:
        from tipipeline.framework import load_framework

        min_cell_size = load_framework().disclosure.min_cell_size

    def fill(text: str) -> str:
        return text.replace("{min_cell_size}", str(int(min_cell_size)))

    return [
        TableSpec(
            table.name,
            fill(table.comment),
            fill(table.sql),
            list(table.order_by),
            {column.name: fill(column.description) for column in table.columns},
            table.formerly,
        )
        for table in registry.published_tables().values()
        if table.sql  # provenance is made from the run's records, not by a query (build_snapshot)
    ]


def build_snapshot(
    conn: duckdb.DuckDBPyConnection,
    target: Path,
    specs: list[TableSpec],
    provenance: dict,
    storage_version: str = STORAGE_VERSION,
) -> dict[str, int]:
    """Write the published tables from the warehouse open in `conn` into a NEW file `target`, in
    the on-disk format of `storage_version` (see STORAGE_VERSION)."""
    if target.exists():
        target.unlink()
    alias = "publication"
    conn.execute(f"ATTACH {sql_literal(str(target))} AS {alias} (STORAGE_VERSION {sql_literal(storage_version)})")
    rows: dict[str, int] = {}
    try:
        for spec in specs:
            columns = ", ".join(f'"{c}"' for c in spec.columns)
            # The listed keys first, then every other column: a total order, so the table (and its
            # exports) come out in the same row order whatever order the warehouse holds the rows in.
            keys = [*spec.order_by, *(f'"{c}"' for c in spec.columns if c not in spec.order_by)]
            order = f" ORDER BY {', '.join(keys)}"
            conn.execute(f"CREATE TABLE {alias}.{spec.name} AS SELECT {columns} FROM ({spec.sql}){order}")
            conn.execute(f"COMMENT ON TABLE {alias}.{spec.name} IS {sql_literal(spec.comment.strip())}")
            for column, comment in spec.columns.items():
                conn.execute(f'COMMENT ON COLUMN {alias}.{spec.name}."{column}" IS {sql_literal(comment)}')
            rows[spec.name] = conn.execute(f"SELECT count(*) FROM {alias}.{spec.name}").fetchall()[0][0]
            if spec.formerly:
                # The view names the table unqualified: it is read in whatever catalog the file is
                # opened as (DuckDB 1.x needs the file opened as its own database, the usual way).
                conn.execute(f"CREATE VIEW {alias}.{spec.formerly} AS SELECT * FROM {spec.name}")
                note = f"Renamed {spec.name} in this release: this view of it goes in the next release."
                conn.execute(f"COMMENT ON VIEW {alias}.{spec.formerly} IS {sql_literal(note)}")
                for column, comment in spec.columns.items():
                    conn.execute(f'COMMENT ON COLUMN {alias}.{spec.formerly}."{column}" IS {sql_literal(comment)}')
        records = [{"table_name": name, "rows": count, **provenance} for name, count in rows.items()]
        provenance_table = registry.published_table(PROVENANCE)
        conn.register("_provenance", pd.DataFrame(records, columns=provenance_table.names))
        conn.execute(f"CREATE TABLE {alias}.{PROVENANCE} AS SELECT * FROM _provenance ORDER BY table_name")
        conn.unregister("_provenance")
        conn.execute(f"COMMENT ON TABLE {alias}.{PROVENANCE} IS {sql_literal(provenance_table.comment)}")
        for column, comment in provenance_table.descriptions.items():
            conn.execute(f'COMMENT ON COLUMN {alias}.provenance."{column}" IS {sql_literal(comment)}')
        rows[PROVENANCE] = len(records)
        conn.execute(f"CHECKPOINT {alias}")
    finally:
        conn.execute(f"DETACH {alias}")
    return rows


class DisclosureError(TipipelineError):
    """The snapshot failed the disclosure audit: it is not published."""


def publish(
    conn: duckdb.DuckDBPyConnection,
    baseline_path: Path,
    specs: list[TableSpec],
    provenance: dict,
    audit: Callable[[Path], list[str]] | None = None,
) -> dict[str, int]:
    """Build the snapshot next to the published file, audit it, then swap it in atomically.

    `audit(snapshot_path)` returns problems; any problem stops the swap (the old baseline stays)."""
    baseline_path.parent.mkdir(parents=True, exist_ok=True)
    # A run killed while building left its temporary file behind: it was never published.
    for stale in baseline_path.parent.glob(f".{baseline_path.name}.*.tmp*"):
        stale.unlink(missing_ok=True)
    temporary = baseline_path.with_name(f".{baseline_path.name}.{uuid.uuid4().hex}.tmp")
    try:
        rows = build_snapshot(conn, temporary, specs, provenance)
        problems = audit(temporary) if audit else []
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise DisclosureError(f"not published: the disclosure audit found {problems[0]}{more}")
        os.replace(temporary, baseline_path)
    finally:
        for leftover in (temporary, temporary.with_name(temporary.name + ".wal")):
            if leftover.exists():
                leftover.unlink()
    return rows


def export_tables(baseline_path: Path, export_dir: Path) -> list[Path]:
    """CSV and Parquet of every published table. Text cells that a spreadsheet would run as a
    formula (starting = + - @) get a leading apostrophe in the CSV; Parquet keeps values as they are.
    The export folder is the pipeline's own: a CSV or Parquet file of a table the baseline no longer
    holds is removed."""
    export_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with duckdb.connect(str(baseline_path), read_only=True) as conn:
        tables = [
            t
            for (t,) in conn.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT internal ORDER BY table_name"
            ).fetchall()
        ]
        for table in tables:
            described = conn.execute(f"DESCRIBE {table}").fetchall()
            selects = []
            for name, column_type, *_ in described:
                if column_type == "VARCHAR":
                    selects.append(
                        f"""CASE WHEN regexp_matches("{name}", '^[=+\\-@\\t\\r]') THEN '''' || "{name}" """
                        f"""ELSE "{name}" END AS "{name}" """
                    )
                else:
                    selects.append(f'"{name}"')
            for suffix, query, options in (
                ("csv", f"SELECT {', '.join(selects)} FROM {table}", "(HEADER, DELIMITER ',')"),
                ("parquet", f"SELECT * FROM {table}", "(FORMAT PARQUET)"),
            ):
                target = export_dir / f"{table}.{suffix}"
                temporary = target.with_name(f".{target.name}.tmp")
                conn.execute(f"COPY ({query}) TO {sql_literal(str(temporary))} {options}")
                os.replace(temporary, target)
                written.append(target)
    # A table no longer published (renamed, or dropped) leaves no export behind with old data.
    for stale in sorted(export_dir.glob("*")):
        if stale.is_file() and stale.suffix in (".csv", ".parquet") and stale.stem not in tables:
            stale.unlink()
    return written


def git_commit(directory: Path) -> str:
    """The checkout's commit (with '-dirty' when there are uncommitted changes), or 'unknown'."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=directory,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def input_files(conn: duckdb.DuckDBPyConnection) -> str:
    """The input files the warehouse was built from, with their SHA-256, as JSON."""
    outcomes = (
        "UNION ALL SELECT 'outcomes/' || source_file, sha256 FROM outcome_data_quality "
        if table_exists(conn, "outcome_data_quality")
        else ""
    )
    rows = conn.execute(
        "SELECT 'surveys/' || wave || '/' || source_file, sha256 FROM survey_data_quality "
        f"UNION ALL SELECT 'policy_audit/' || source_file, sha256 FROM audit_data_quality {outcomes}ORDER BY 1"
    ).fetchall()
    # The outcome configuration decides which offences count and how indicators are described.
    rows += [(name, file_sha256(path)) for name, path in outcome_config_files().items()]
    return json.dumps([{"file": f, "sha256": s} for f, s in rows])
