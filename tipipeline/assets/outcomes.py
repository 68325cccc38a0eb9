"""The evidence base's outcome side: published violence outcomes and denominators in, outcome
indicators per wave and their (descriptive, ecological) link to trauma-informed practice out."""

import pandas as pd
from dagster import AssetExecutionContext, multi_asset

from tipipeline.assets.failures import readable_failures
from tipipeline.assets.tables import TableAsset, asset_specs, check_specs, write_tables
from tipipeline.inputs import FRAMEWORK_FILES, RAW_OUTCOMES
from tipipeline.reference import load_reference
from tipipeline.resources import PathsResource, WarehouseResource
from tipipeline.warehouse import table_exists

SOURCE_TABLES = [
    TableAsset("outcome_measures"),
    TableAsset("outcome_unmapped"),
    TableAsset("outcome_supply"),
    TableAsset("fingertips_values"),
    TableAsset("population_estimates"),
    TableAsset("outcome_data_quality"),
]
EVIDENCE_TABLES = [
    TableAsset("outcome_indicators"),
    TableAsset("outcome_coverage"),
    TableAsset("partnership_outcomes"),
    TableAsset("partnership_outcome_correlations"),
    TableAsset("outcome_catalogue"),
]


@multi_asset(
    name="outcome_files",
    # FRAMEWORK_FILES holds outcomes.yaml and outcome_indicators.yaml: editing them makes these stale.
    specs=asset_specs(SOURCE_TABLES, "ingest", [RAW_OUTCOMES, FRAMEWORK_FILES, "boroughs"]),
    check_specs=check_specs(SOURCE_TABLES),
    pool="duckdb_write",
)
def outcome_files(context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource):
    """Read every file in data/raw/outcomes/ (none: empty tables)."""
    from tipipeline.outcomes.build import read_outcome_folder

    with readable_failures():
        inputs = read_outcome_folder(paths.settings.outcomes_dir, load_reference())
    if inputs.unrecognised:
        context.log.warning(
            f"not outcome files, left out (listed in outcome_data_quality): {', '.join(inputs.unrecognised)}"
        )
    for name, frame in (("MPS borough offences", inputs.measures), ("population estimates", inputs.population)):
        if frame.empty:
            # Without both, evidence_base has no outcome indicators to build: say so here, once.
            context.log.warning(f"no {name} in {paths.settings.outcomes_dir}: the outcome indicators will be empty")
    frames = {
        "outcome_measures": inputs.measures,
        "outcome_unmapped": inputs.unmapped,
        "outcome_supply": inputs.supply,
        "fingertips_values": inputs.fingertips,
        "population_estimates": inputs.population,
        "outcome_data_quality": inputs.data_quality,
    }
    yield from write_tables(warehouse, SOURCE_TABLES, frames)
    context.log.info(f"{len(inputs.data_quality)} outcome file(s) read")


def _submission_dates(conn) -> dict[str, list]:
    if not table_exists(conn, "stg_respondents"):
        return {}
    rows = conn.execute(
        "SELECT wave, submitted_date FROM stg_respondents WHERE submitted_date IS NOT NULL ORDER BY wave"
    ).df()
    return {wave: group["submitted_date"].tolist() for wave, group in rows.groupby("wave")}


@multi_asset(
    name="evidence_base",
    specs=asset_specs(
        EVIDENCE_TABLES,
        "indicators",
        ["outcome_measures", "population_estimates", "indicators", "survey_wave_register", "stg_respondents"],
    ),
    check_specs=check_specs(EVIDENCE_TABLES),
    pool="duckdb_write",
)
def evidence_base(context: AssetExecutionContext, warehouse: WarehouseResource):
    """Outcome indicators for the 12 months before and after each wave, beside the published index."""
    from tipipeline.outcomes.build import outcome_tables

    with warehouse.get_connection() as conn:
        measures = conn.execute("SELECT * FROM outcome_measures").df()
        population = conn.execute("SELECT * FROM population_estimates").df()
        submitted = _submission_dates(conn)
        # The disclosure-controlled cells: a withheld index stays withheld beside the outcomes.
        survey = (
            conn.execute("SELECT * FROM indicators WHERE source = 'survey'").df()
            if table_exists(conn, "indicators")
            else None
        )
    # DuckDB hands dates back as timestamps; the functions work in dates.
    measures["month"] = pd.to_datetime(measures["month"]).dt.date
    if not submitted:
        context.log.warning("no survey wave with submission dates: no outcome periods to build")
    with readable_failures():
        tables = outcome_tables(measures, population, submitted, survey, load_reference())
    frames = {
        "outcome_indicators": tables.cells,
        "outcome_coverage": tables.coverage,
        "partnership_outcomes": tables.practice,
        "partnership_outcome_correlations": tables.correlations,
        "outcome_catalogue": tables.catalogue,
    }
    yield from write_tables(warehouse, EVIDENCE_TABLES, frames)
    context.log.info(f"{len(tables.cells)} outcome cells for {tables.cells['wave'].nunique()} wave(s)")


outcome_assets = [outcome_files, evidence_base]
