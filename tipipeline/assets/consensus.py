"""The London definition (issue 15): the consensus panel's rounds in, the agreed definition out.

`definition_panel` reads data/raw/definition/ (no folder: empty tables) into pseudonymised staging
tables; `london_definition` judges every statement in every round by the protocol's rules and
writes the published tables. The logic is in tipipeline.consensus; this is the Dagster layer."""

from dagster import AssetExecutionContext, MetadataValue, multi_asset

from tipipeline.assets.failures import readable_failures
from tipipeline.assets.tables import TableAsset, asset_specs, check_specs, write_tables
from tipipeline.inputs import FRAMEWORK_FILES, RAW_DEFINITION
from tipipeline.preview import markdown_preview
from tipipeline.resources import PathsResource, WarehouseResource

STAGING_TABLES = [
    TableAsset("stg_panellists"),
    TableAsset("stg_panel_invitations"),
    TableAsset("stg_panel_responses"),
    TableAsset("stg_panel_ratings"),
    TableAsset("definition_quarantine"),
    TableAsset("definition_exclusions"),
    TableAsset("definition_data_quality"),
]
RESULT_TABLES = [
    TableAsset("definition_statements"),
    TableAsset("panel_flow"),
    TableAsset("london_definition"),
    TableAsset("definition_framework_links"),
    TableAsset("definition_protocol"),
]


@multi_asset(
    name="definition_panel",
    specs=asset_specs(STAGING_TABLES, "ingest", [RAW_DEFINITION, FRAMEWORK_FILES, "boroughs"]),
    check_specs=check_specs(STAGING_TABLES),
    pool="duckdb_write",
)
def definition_panel(context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource):
    """Read the panel file and every round folder (no definition folder: empty tables)."""
    from tipipeline.consensus.build import read_definition_inputs
    from tipipeline.consensus.rounds import staging_frames

    with readable_failures():
        inputs = read_definition_inputs(paths.settings.definition_dir)
    if inputs is None:
        context.log.info(f"no definition panel in {paths.settings.definition_dir}: the definition tables are empty")
        frames = staging_frames(None, None)
    else:
        frames = staging_frames(inputs.ingest, inputs.protocol)
    quality = frames["definition_data_quality"]
    extra = {"definition_data_quality": {"files": MetadataValue.md(markdown_preview(quality))}}
    yield from write_tables(warehouse, STAGING_TABLES, frames, extra_metadata=extra)


@multi_asset(
    name="london_definition",
    specs=asset_specs(
        RESULT_TABLES, "indicators", [t.name for t in STAGING_TABLES] + [RAW_DEFINITION, FRAMEWORK_FILES]
    ),
    check_specs=check_specs(RESULT_TABLES),
    pool="duckdb_write",
)
def london_definition(context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource):
    """Judge every statement in every round and assemble the agreed definition."""
    from tipipeline.consensus.build import build_results

    with readable_failures(), warehouse.get_connection() as conn:
        frames = build_results(conn, paths.settings.definition_dir)
    agreed = frames["london_definition"]
    extra = {
        "london_definition": {
            "agreed_statements": len(agreed),
            "definition": MetadataValue.md(
                markdown_preview(agreed[["position", "statement_id", "statement_text"]], rows=50)
            ),
        }
    }
    yield from write_tables(warehouse, RESULT_TABLES, frames, extra_metadata=extra)
    context.log.info(f"{len(agreed)} statements agreed in the final round")


definition_assets = [definition_panel, london_definition]
