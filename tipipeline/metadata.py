"""Dagster metadata for tables: row count, column schema and a markdown preview."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from dagster import MetadataValue, TableColumn, TableSchema

if TYPE_CHECKING:
    from dagster import AssetCheckResult

PREVIEW_ROWS = 10


def column_schema(frame: pd.DataFrame) -> TableSchema:
    """The frame's columns and dtypes as a Dagster TableSchema."""
    return TableSchema(columns=[TableColumn(name=str(c), type=str(t)) for c, t in frame.dtypes.items()])


def markdown_preview(frame: pd.DataFrame, rows: int = PREVIEW_ROWS) -> str:
    """The first rows as a markdown table (cells escaped, long text shortened)."""
    head = frame.head(rows)

    def cell(value) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return ""
        text = str(value).replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= 60 else text[:57] + "..."

    lines = ["| " + " | ".join(cell(c) for c in head.columns) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in head.itertuples(index=False)]
    return "\n".join(lines)


def table_metadata(frame: pd.DataFrame, table: str) -> dict:
    """Standard metadata for a table asset written to the warehouse."""
    return {
        "dagster/row_count": len(frame),
        "dagster/column_schema": column_schema(frame),
        "dagster/table_name": f"tipipeline.main.{table}",
        "preview": MetadataValue.md(markdown_preview(frame)),
    }


def schema_check_result(check_name: str, outcome, asset_key=None) -> AssetCheckResult:
    """A blocking-check result from a pandera ValidationOutcome: failure count and examples."""
    from dagster import AssetCheckResult, AssetCheckSeverity

    return AssetCheckResult(
        check_name=check_name,
        asset_key=asset_key,
        passed=outcome.passed,
        severity=AssetCheckSeverity.ERROR,
        metadata=outcome.metadata(),
        description=outcome.summary(),
    )


def warehouse_table_metadata(conn, table: str, wave: str | None = None) -> dict:
    """Row count (of the wave, if given), column schema and preview of a table computed in DuckDB."""
    described = conn.execute(f"DESCRIBE {table}").fetchall()
    where, params = ("WHERE wave = ?", [wave]) if wave is not None else ("", [])
    rows = conn.execute(f"SELECT count(*) FROM {table} {where}", params).fetchall()[0][0]
    preview = conn.execute(f"SELECT * FROM {table} {where} LIMIT {PREVIEW_ROWS}", params).df()
    return {
        "dagster/row_count": int(rows),
        "dagster/column_schema": TableSchema(columns=[TableColumn(name=r[0], type=r[1]) for r in described]),
        "dagster/table_name": f"tipipeline.main.{table}",
        "preview": MetadataValue.md(markdown_preview(preview)),
    }
