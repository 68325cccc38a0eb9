"""Shared machinery for assets that write several warehouse tables at once.

Each table is its own asset (table name = asset name) with a blocking pandera check. The frames
are validated, written in one transaction, and reported with row count, schema and preview.
"""

from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass

import duckdb
import pandas as pd
import pandera.pandas as pa
from dagster import AssetCheckSpec, AssetKey, AssetSpec, MaterializeResult, MetadataValue

from tipipeline import registry
from tipipeline.assets.metadata import schema_check_result, table_metadata, warehouse_table_metadata
from tipipeline.resources import WarehouseResource
from tipipeline.schemas.models import model
from tipipeline.schemas.validation import ValidationOutcome, conform_empty, validate
from tipipeline.warehouse import SqlSource, replace_partitions, replace_tables

OWNERS = ["team:tipipeline"]


@dataclass(frozen=True)
class TableAsset:
    """A warehouse table written by a multi-asset: its description and schema are its registry
    entry's (tipipeline/registry/), so they are written nowhere else."""

    name: str
    # The table that holds the rows when the asset's own name is a view over it (stg_responses,
    # the long form of the stored wide answers); None: the asset is the table.
    stored_as: str | None = None

    @property
    def table(self) -> str:
        return self.stored_as or self.name

    @property
    def restricted(self) -> bool:
        """Read only by named researchers: not previewed in the UI, tagged `restricted`."""
        return registry.table(self.name).layer == "restricted"

    @property
    def description(self) -> str:
        return registry.table(self.name).description

    @property
    def schema(self) -> pa.DataFrameSchema | None:
        """The pandera schema its frame is validated against; None for a view (its stored table is
        validated) or a table made in DuckDB from validated tables."""
        if self.stored_as or registry.table(self.name).made_in:
            return None
        return model(self.name)

    @property
    def check_name(self) -> str:
        return f"{self.name}_schema"


def asset_specs(tables: list[TableAsset], group: str, deps: list[str], code_version: str = "1") -> list[AssetSpec]:
    return [
        AssetSpec(
            t.name,
            group_name=group,
            description=t.description,
            kinds={"duckdb", "pandas"},
            owners=OWNERS,
            code_version=code_version,
            deps=deps,
            tags={"layer": group, **({"restricted": "true"} if t.restricted else {})},
        )
        for t in tables
    ]


def check_specs(tables: list[TableAsset]) -> list[AssetCheckSpec]:
    def described(t: TableAsset) -> str:
        schema = t.schema
        name = getattr(schema, "__name__", None) or getattr(schema, "name", None) or "built from the codebook"
        return f"pandera schema {name}"

    return [AssetCheckSpec(t.check_name, asset=t.name, blocking=True, description=described(t)) for t in tables]


def write_tables(
    warehouse: WarehouseResource,
    tables: list[TableAsset],
    frames: dict[str, pd.DataFrame | SqlSource],
    outcomes: dict[str, ValidationOutcome] | None = None,
    partition: tuple[str, str] | None = None,
    extra_metadata: dict[str, dict] | None = None,
    extra_checks: dict[str, list] | None = None,
    views: dict[str, Callable] | None = None,
    support: dict[str, pd.DataFrame] | None = None,
    conn: duckdb.DuckDBPyConnection | None = None,
    view_rows: dict[str, Callable[[duckdb.DuckDBPyConnection, str], int]] | None = None,
) -> Iterator[MaterializeResult]:
    """Validate (unless `outcomes` are given), write in one transaction, yield one result per table.

    `partition` = (column, key) replaces only those rows; otherwise each table is replaced whole.
    `views` (partitioned writes only): asset name -> a function of the connection giving the SELECT
    of the view of that name (over its `stored_as` table), made in the same transaction; its
    metadata is the view's. `support`: tables the views read that are not assets themselves
    (a wave's items and codes), written in the same transaction. `conn`: an open warehouse
    connection to write through (so an `SqlSource` can read that connection's temporary tables);
    by default one is opened. `view_rows`: view name -> a function of the connection and the partition
    key giving the view's row count for its metadata without counting through the view.
    """
    frames = {t.name: conform_empty(t.schema, frames[t.name]) for t in tables}
    outcomes = outcomes or {t.name: validate(t.schema, frames[t.name]) for t in tables}
    extra_metadata = extra_metadata or {}
    views = views or {}
    stored = {t.table: frames[t.name] for t in tables} | (support or {})
    if views and not partition:
        raise ValueError("views are made only with partitioned writes")
    connected = nullcontext(conn) if conn is not None else warehouse.get_connection()
    with connected as conn:
        if partition:
            replace_partitions(conn, stored, *partition, views=views)
        else:
            replace_tables(conn, stored)
        metadata = {
            name: (
                warehouse_table_metadata(
                    conn,
                    name,
                    partition[1] if partition else None,
                    rows=view_rows[name](conn, partition[1]) if partition and name in (view_rows or {}) else None,
                )
                if isinstance(frame, SqlSource) or name in views
                else table_metadata(frame, name)
            )
            for name, frame in frames.items()
        }
    for table in tables:
        extra = dict(extra_metadata.get(table.name, {}))
        if partition:
            extra[partition[0]] = partition[1]
        if table.restricted:
            extra["preview"] = MetadataValue.md("Restricted: not previewed.")
        yield MaterializeResult(
            asset_key=AssetKey(table.name),
            metadata={**metadata[table.name], **extra},
            check_results=[
                schema_check_result(table.check_name, outcomes[table.name], AssetKey(table.name)),
                *(extra_checks or {}).get(table.name, []),
            ],
        )
