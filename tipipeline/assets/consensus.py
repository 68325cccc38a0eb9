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
from tipipeline.schemas import consensus as schemas

STAGING_TABLES = [
    TableAsset(
        "stg_panellists",
        "The definition panel, pseudonymised: one row per panellist with their stakeholder group and borough; "
        "e-mail addresses and names never reach the warehouse (the pseudonym is an HMAC of the e-mail).",
        schemas.StgPanellists,
    ),
    TableAsset(
        "stg_panel_invitations",
        "Who was invited to each round: the whole panel to round 1, then (invite: previous_responders) those "
        "who responded to the round before.",
        schemas.StgPanelInvitations,
    ),
    TableAsset(
        "stg_panel_responses",
        "Accepted responses: one per panellist and round, with the source file and row.",
        schemas.StgPanelResponses,
    ),
    TableAsset(
        "stg_panel_ratings",
        "Every accepted response's rating of each statement in play in its round; missing with a reason "
        "(not_answered, unable_to_rate).",
        schemas.StgPanelRatings,
    ),
    TableAsset(
        "definition_quarantine",
        "Panel and round rows that could not be accepted, with file, row, column, value and reason.",
        schemas.DefinitionQuarantine,
    ),
    TableAsset(
        "definition_exclusions",
        "Round rows excluded by a documented rule (blank_row, non_genuine_status, partial_response, not_invited, "
        "no_ratings, duplicate_submission).",
        schemas.DefinitionExclusions,
    ),
    TableAsset(
        "definition_data_quality",
        "Per panel or round file: SHA-256 and rows read = accepted + quarantined + excluded (by rule).",
        schemas.DefinitionDataQuality,
    ),
]
RESULT_TABLES = [
    TableAsset(
        "definition_statements",
        "Per statement x round x panel group (all, then each stakeholder group): ratings, median and IQR, the share "
        "in each band, the RAND/UCLA disagreement index, the consensus (in, out, none) under definition.yaml's rule "
        "and its stability since the round before. A group with too few panellists in a round is withheld.",
        schemas.DefinitionStatements,
    ),
    TableAsset(
        "panel_flow",
        "Panellists invited and responding per round and stakeholder group, and those who also responded to the "
        "round before (the attrition a Delphi reader checks first).",
        schemas.PanelFlow,
    ),
    TableAsset(
        "london_definition",
        "The London definition: the statements the whole panel agreed (consensus in) in the final round, in the "
        "framework's order of principles, then domains, then the rest, with their evidence.",
        schemas.LondonDefinition,
    ),
    TableAsset(
        "definition_framework_links",
        "Each framework principle and domain with the agreed statements behind it (or none), and agreed statements "
        "with no place in the framework.",
        schemas.DefinitionFrameworkLinks,
    ),
    TableAsset(
        "definition_protocol",
        "The study protocol the results were judged by (definition.yaml): scale and bands, the consensus and "
        "stability rules in words, the group threshold, who is invited, and the file's SHA-256.",
        schemas.DefinitionProtocolTable,
    ),
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
