"""The partners' workforce figures (issue 30): data/raw/workforce/ into staging, quarantine and
per-file accounting. The denominators of response rates and the targets of weighting."""

from dagster import AssetExecutionContext, multi_asset

from tipipeline.assets.failures import readable_failures
from tipipeline.assets.tables import TableAsset, asset_specs, check_specs, write_tables
from tipipeline.ingest.workforce import read_workforce
from tipipeline.inputs import RAW_WORKFORCE, REFERENCE_FILES
from tipipeline.reference import load_reference
from tipipeline.resources import PathsResource, WarehouseResource

WORKFORCE_TABLES = [
    TableAsset("stg_workforce"),
    TableAsset("workforce_quarantine"),
    TableAsset("workforce_data_quality"),
]


@multi_asset(
    name="workforce_files",
    specs=asset_specs(WORKFORCE_TABLES, "ingest", [RAW_WORKFORCE, REFERENCE_FILES]),
    check_specs=check_specs(WORKFORCE_TABLES),
    pool="duckdb_write",
)
def workforce_files(context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource):
    """Read every workforce file in data/raw/workforce/ (none: empty tables, nothing known)."""
    with readable_failures():
        workforce = read_workforce(paths.settings.workforce_dir, load_reference())
    if workforce.figures.empty:
        context.log.warning(f"no workforce figures in {paths.settings.workforce_dir}: response rates are not known")
    if len(workforce.quarantine):
        first = workforce.quarantine.iloc[0]
        context.log.warning(
            f"{len(workforce.quarantine)} workforce row(s) quarantined, e.g. {first['source_file']} row "
            f"{first['source_row']}, column {first['column']!r}: {first['reason']}"
        )
    frames = {
        "stg_workforce": workforce.figures,
        "workforce_quarantine": workforce.quarantine,
        "workforce_data_quality": workforce.quality,
    }
    yield from write_tables(warehouse, WORKFORCE_TABLES, frames)


workforce_assets = [workforce_files]
