"""Reference assets: geography and the measurement framework, from package data into DuckDB."""

import functools
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
from dagster import AssetCheckSpec, AssetsDefinition, MaterializeResult, asset

from tipipeline import registry
from tipipeline.assets.metadata import schema_check_result, table_metadata
from tipipeline.framework import load_framework
from tipipeline.inputs import FRAMEWORK_FILES, REFERENCE_FILES
from tipipeline.reference import load_reference
from tipipeline.reference import tables as t
from tipipeline.resources import WarehouseResource
from tipipeline.schemas.models import model
from tipipeline.schemas.validation import validate
from tipipeline.warehouse import replace_table

GROUP = "reference"
OWNERS = ["team:tipipeline"]


@dataclass(frozen=True)
class ReferenceTable:
    """A reference table: how it is built; its description and schema are its registry entry's."""

    name: str
    build: Callable[[], pd.DataFrame]
    source: str  # "geography" or "framework": which data files it comes from

    @property
    def description(self) -> str:
        return registry.table(self.name).description

    @property
    def schema(self) -> pa.DataFrameSchema:
        return model(self.name)


def _geo(builder):
    return lambda: builder(load_reference())


def _fw(builder):
    return lambda: builder(load_framework())


REFERENCE_TABLES = [
    ReferenceTable("boroughs", _geo(t.boroughs_table), "geography"),
    ReferenceTable("icbs", _geo(t.icbs_table), "geography"),
    ReferenceTable("borough_icb_lookup", _geo(t.borough_icb_lookup_table), "geography"),
    ReferenceTable("bcus", _geo(t.bcus_table), "geography"),
    ReferenceTable("organisations", _geo(t.organisations_table), "geography"),
    ReferenceTable("organisation_aliases", _geo(t.aliases_table), "geography"),
    ReferenceTable("tile_grid", _geo(t.tile_grid_table), "geography"),
    ReferenceTable("framework_principles", _fw(t.principles_table), "framework"),
    ReferenceTable("framework_domains", _fw(t.domains_table), "framework"),
    ReferenceTable("journey_stages", _fw(t.journey_stages_table), "framework"),
]


@functools.cache
def _code_version(source: str) -> str:
    # Content-derived, so the UI marks reference assets stale when their data files change.
    if source == "framework":
        return load_framework().sha256[:12]
    import hashlib

    joined = "".join(f"{k}:{v}" for k, v in sorted(load_reference().sha256.items()))
    return hashlib.sha256(joined.encode()).hexdigest()[:12]


def build_reference_asset(spec: ReferenceTable) -> AssetsDefinition:
    """One reference asset: build the frame, write it, validate it as a blocking check."""
    check_name = f"{spec.name}_schema"

    @asset(
        name=spec.name,
        group_name=GROUP,
        description=spec.description,
        kinds={"duckdb", "pandas"},
        owners=OWNERS,
        code_version=_code_version(spec.source),
        pool="duckdb_write",
        tags={"layer": "reference"},
        deps=[FRAMEWORK_FILES if spec.source == "framework" else REFERENCE_FILES],
        check_specs=[
            AssetCheckSpec(check_name, asset=spec.name, blocking=True, description=f"pandera schema {spec.schema.name}")
        ],
    )
    def _reference_asset(warehouse: WarehouseResource) -> MaterializeResult:
        frame = spec.build()
        outcome = validate(spec.schema, frame)
        with warehouse.get_connection() as conn:
            replace_table(conn, spec.name, frame)
        return MaterializeResult(
            metadata=table_metadata(frame, spec.name),
            check_results=[schema_check_result(check_name, outcome)],
        )

    return _reference_asset


reference_assets = [build_reference_asset(spec) for spec in REFERENCE_TABLES]
