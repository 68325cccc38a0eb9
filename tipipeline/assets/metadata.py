"""Dagster metadata for tables and maps: row count, column schema with descriptions, a markdown
preview rounded for reading (`tipipeline.preview`), and map images for the UI. The Dagster layer's
own: it reads the table registry and the map layers, which sit below it."""

from __future__ import annotations

import base64
import functools
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from dagster import MetadataValue, TableColumn, TableColumnConstraints, TableSchema

from tipipeline import registry
from tipipeline.preview import PREVIEW_ROWS, markdown_preview

if TYPE_CHECKING:
    from dagster import AssetCheckResult


def column_descriptions(table: str) -> dict[str, str]:
    """The description of each of the table's columns, from its registry entry (empty for a table
    the registry does not hold)."""
    tables = registry.tables()
    if table not in tables:
        return {}
    threshold = str(_min_cell_size())
    return {column: text.replace("{min_cell_size}", threshold) for column, text in tables[table].descriptions.items()}


@functools.cache
def _min_cell_size() -> int:
    # `{min_cell_size}` in a description stands for the framework's disclosure threshold, as it
    # does in the published comments (publish.baseline.load_spec).
    from tipipeline.framework import load_framework

    return load_framework().disclosure.min_cell_size


def _column_info(spec, column, threshold: str) -> tuple[str, TableColumnConstraints]:
    """A registered column's description and its rules as the UI shows them."""
    other = [f"{rule} {value}" for rule, value in column.constraints.items() if rule != "unique"]
    other += [f"check {name}" for name in column.checks]
    if column.identifying:
        other.append("may identify a person")
    if spec.key and column.name in spec.key:
        other.append(f"key: {', '.join(spec.key)}")
    constraints = TableColumnConstraints(
        nullable=column.nullable,
        unique=bool(column.constraints.get("unique")) or tuple(spec.key) == (column.name,),
        other=other,
    )
    return column.description.replace("{min_cell_size}", threshold), constraints


def _columns(pairs, table: str | None) -> TableSchema:
    """Each stored column with its type, and its registry description and rules where the table is
    registered (a column of a family named by a pattern takes the pattern's)."""
    spec = registry.tables().get(table) if table else None
    threshold = str(_min_cell_size()) if spec else ""
    columns = []
    for name, kind in pairs:
        registered = spec.column_named(name) if spec else None
        description, constraints = _column_info(spec, registered, threshold) if registered else (None, None)
        columns.append(TableColumn(name=name, type=kind, description=description, constraints=constraints))
    return TableSchema(columns=columns)


def column_schema(frame: pd.DataFrame, table: str | None = None) -> TableSchema:
    """The frame's columns and dtypes as a Dagster TableSchema, described and constrained as the
    registry says where `table` is registered."""
    return _columns([(str(c), str(t)) for c, t in frame.dtypes.items()], table)


def table_metadata(frame: pd.DataFrame, table: str) -> dict:
    """Standard metadata for a table asset written to the warehouse."""
    return {
        "dagster/row_count": len(frame),
        "dagster/column_schema": column_schema(frame, table),
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


def warehouse_table_metadata(conn, table: str, wave: str | None = None, rows: int | None = None) -> dict:
    """Row count (of the wave, if given), column schema and preview of a table computed in DuckDB.
    `rows`: the count when it is known without counting (a view's, from the table it shows)."""
    described = conn.execute(f"DESCRIBE {table}").fetchall()
    where, params = ("WHERE wave = ?", [wave]) if wave is not None else ("", [])
    if rows is None:
        rows = conn.execute(f"SELECT count(*) FROM {table} {where}", params).fetchall()[0][0]
    preview = conn.execute(f"SELECT * FROM {table} {where} LIMIT {PREVIEW_ROWS}", params).df()
    return {
        "dagster/row_count": int(rows),
        "dagster/column_schema": _columns([(r[0], r[1]) for r in described], table),
        "dagster/table_name": f"tipipeline.main.{table}",
        "preview": MetadataValue.md(markdown_preview(preview)),
    }


def published_columns_markdown(baseline_path: Path) -> str:
    """Every published table's columns with type and description, as the published file holds
    them (its table and column comments), as markdown."""
    import duckdb

    with duckdb.connect(str(baseline_path), read_only=True) as conn:
        tables = conn.execute(
            "SELECT table_name, coalesce(comment, '') FROM duckdb_tables() WHERE NOT internal ORDER BY table_name"
        ).fetchall()
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, coalesce(comment, '') FROM duckdb_columns() "
            "WHERE NOT internal ORDER BY table_name, column_index"
        ).df()
    sections = []
    for table, comment in tables:
        rows = columns[columns["table_name"] == table].drop(columns="table_name")
        rows.columns = ["column", "type", "description"]
        sections.append(f"**{table}**: {comment.strip()}\n\n{markdown_preview(rows, rows=len(rows))}")
    return "\n\n".join(sections)


# Dagster 1.13 shows a markdown metadata value inline on the asset page only when it is shorter than
# 1,000 characters (MetadataEntry.tsx, `expandSmallValues`); an image as a data URI never is, so the
# maps open from a "[Show Markdown]" link in a dialog (up to 80% of the window wide). An asset's
# description is markdown too but fixed when the definitions load, so it cannot carry a new map.
MAP_DISPLAY_WIDTH = 1200  # pixels: the dialog is at most 80% of the window wide


def _display_png(png: bytes, max_width: int = MAP_DISPLAY_WIDTH) -> bytes:
    """The PNG for the UI: at full size up to `max_width` pixels wide (scaled down beyond), in at
    most 64 colours; about a quarter of the bytes, the same to the eye, the same bytes every time."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        picture = image.convert("RGB")
    if picture.width > max_width:
        picture = picture.resize((max_width, round(picture.height * max_width / picture.width)), Image.LANCZOS)
    reduced = picture.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    reduced.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def maps_markdown(records) -> str:
    """Map images (atlas MapRecords) one after another, each under its heading, as one markdown value."""
    from tipipeline.viz.atlas import LAYERS

    headings = {layer: label for layer, (_, _, label) in LAYERS.items()} | {
        "partnership": "Borough partnership",
        "outcomes": "Violence outcomes compared with London",
    }
    parts = []
    for record in records:
        data = base64.b64encode(_display_png(record.png)).decode("ascii")
        alt = re.sub(r"[\[\]]", "", record.alt_text.replace(" The table below gives every value.", ""))
        parts.append(f"**{headings.get(record.layer, record.layer)}**\n\n![{alt}](data:image/png;base64,{data})")
    return "\n\n".join(parts)
