"""Reference assets: geography and the measurement framework, from package data into DuckDB."""

import functools
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
from dagster import AssetCheckSpec, AssetsDefinition, MaterializeResult, asset

from tipipeline.assets.metadata import schema_check_result, table_metadata
from tipipeline.framework import load_framework
from tipipeline.inputs import FRAMEWORK_FILES, REFERENCE_FILES
from tipipeline.reference import load_reference
from tipipeline.reference import tables as t
from tipipeline.resources import WarehouseResource
from tipipeline.schemas import reference as schemas
from tipipeline.schemas.validation import validate
from tipipeline.warehouse import replace_table

GROUP = "reference"
OWNERS = ["team:tipipeline"]


@dataclass(frozen=True)
class ReferenceTable:
    name: str
    description: str
    build: Callable[[], pd.DataFrame]
    schema: type[pa.DataFrameModel]
    source: str  # "geography" or "framework": which data files it comes from


def _geo(builder):
    return lambda: builder(load_reference())


def _fw(builder):
    return lambda: builder(load_framework())


REFERENCE_TABLES = [
    ReferenceTable(
        "boroughs",
        "The 33 London local authorities (32 boroughs and the City): GSS code, name, "
        "3-letter code, inner/outer London (ONS), MPS BCU and current ICB.",
        _geo(t.boroughs_table),
        schemas.Boroughs,
        "geography",
    ),
    ReferenceTable(
        "icbs",
        "The 5 London NHS Integrated Care Boards: GSS and ODS codes, name, valid-from date.",
        _geo(t.icbs_table),
        schemas.Icbs,
        "geography",
    ),
    ReferenceTable(
        "borough_icb_lookup",
        "Which ICB each borough belongs to, with valid-from/valid-to dates (ICB membership changes over time).",
        _geo(t.borough_icb_lookup_table),
        schemas.BoroughIcbLookup,
        "geography",
    ),
    ReferenceTable(
        "bcus",
        "The 12 Metropolitan Police Basic Command Units. The City of London is policed by "
        "the City of London Police and is in no BCU.",
        _geo(t.bcus_table),
        schemas.Bcus,
        "geography",
    ),
    ReferenceTable(
        "organisations",
        "The 39 Serious Violence Duty partners in scope: 33 councils, the "
        "Metropolitan Police Service and the 5 ICBs, with sector and area code.",
        _geo(t.organisations_table),
        schemas.Organisations,
        "geography",
    ),
    ReferenceTable(
        "organisation_aliases",
        "Every spelling the name resolver accepts (normalised: case, '&', "
        "punctuation and spacing ignored) and the code it resolves to, per entity.",
        _geo(t.aliases_table),
        schemas.Aliases,
        "geography",
    ),
    ReferenceTable(
        "tile_grid",
        "The London tile-grid map layout (after 'London Squared'): one tile per borough.",
        _geo(t.tile_grid_table),
        schemas.TileGrid,
        "geography",
    ),
    ReferenceTable(
        "framework_principles",
        "The six OHID (2022) principles of trauma-informed practice.",
        _fw(t.principles_table),
        schemas.Principles,
        "framework",
    ),
    ReferenceTable(
        "framework_domains",
        "The 11 implementation domains (after SAMHSA 2014, with staff wellbeing).",
        _fw(t.domains_table),
        schemas.Domains,
        "framework",
    ),
    ReferenceTable(
        "journey_stages",
        "The journey stages in the VRU's order, each with its roadmap next step and the thresholds of the stage rule.",
        _fw(t.journey_stages_table),
        schemas.JourneyStages,
        "framework",
    ),
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
            AssetCheckSpec(
                check_name, asset=spec.name, blocking=True, description=f"pandera schema {spec.schema.__name__}"
            )
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
