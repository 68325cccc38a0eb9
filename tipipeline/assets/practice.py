"""The practice library (issue 16): organisations' submissions in, the reviewed library out.

`practice_submissions` reads data/raw/practice/ (no folder: empty tables) into screened staging
tables; `practice_library` decides what is shown (published, with consent, screened clear) and
writes the tables the baseline publishes. The logic is in tipipeline.practice; this is the Dagster
layer."""

from dagster import AssetExecutionContext, MetadataValue, multi_asset

from tipipeline.assets.failures import readable_failures
from tipipeline.assets.tables import TableAsset, asset_specs, check_specs, write_tables
from tipipeline.inputs import FRAMEWORK_FILES, RAW_PRACTICE
from tipipeline.preview import markdown_preview
from tipipeline.resources import PathsResource, WarehouseResource

STAGING_TABLES = [
    TableAsset("stg_practice_submissions"),
    TableAsset("practice_reviews"),
    TableAsset("practice_quarantine"),
    TableAsset("practice_exclusions"),
    TableAsset("practice_data_quality"),
]
RESULT_TABLES = [
    TableAsset("practice_entry_status"),
    TableAsset("practice_library"),
    TableAsset("practice_status_summary"),
]


@multi_asset(
    name="practice_submissions",
    specs=asset_specs(STAGING_TABLES, "ingest", [RAW_PRACTICE, FRAMEWORK_FILES, "organisations"]),
    check_specs=check_specs(STAGING_TABLES),
    pool="duckdb_write",
)
def practice_submissions(context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource):
    """Read the form's exports and the reviews file (no practice folder: empty tables)."""
    from tipipeline.practice.build import read_practice_folder, staging_frames

    with readable_failures():
        inputs = read_practice_folder(paths.settings.practice_dir)
    if inputs is None:
        context.log.info(f"no practice library folder {paths.settings.practice_dir}: the library is empty")
    frames = staging_frames(inputs)
    extra = {"practice_data_quality": {"files": MetadataValue.md(markdown_preview(frames["practice_data_quality"]))}}
    yield from write_tables(warehouse, STAGING_TABLES, frames, extra_metadata=extra)


@multi_asset(
    name="practice_library",
    specs=asset_specs(RESULT_TABLES, "indicators", [t.name for t in STAGING_TABLES] + [FRAMEWORK_FILES]),
    check_specs=check_specs(RESULT_TABLES),
    pool="duckdb_write",
)
def practice_library(context: AssetExecutionContext, warehouse: WarehouseResource):
    """Decide what the library shows and build its published tables."""
    from tipipeline.practice.build import build_library

    with readable_failures(), warehouse.get_connection() as conn:
        frames = build_library(conn)
    library = frames["practice_library"]
    extra = {
        "practice_library": {
            "entries_shown": len(library),
            "entries": MetadataValue.md(markdown_preview(library[["entry_id", "organisation", "evidence_level"]])),
        }
    }
    yield from write_tables(warehouse, RESULT_TABLES, frames, extra_metadata=extra)
    context.log.info(f"{len(library)} of {len(frames['practice_entry_status'])} submissions shown in the library")


practice_assets = [practice_submissions, practice_library]
