"""Ingest assets: the codebook, and each survey wave (a partition) into staging tables."""

import pandas as pd
from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from tipipeline import registry
from tipipeline.assets.failures import readable_failures
from tipipeline.assets.metadata import schema_check_result, table_metadata
from tipipeline.assets.tables import TableAsset, asset_specs, check_specs, write_tables
from tipipeline.framework import load_framework
from tipipeline.ingest.codebook import load_codebook
from tipipeline.ingest.identifiers import pseudonym_key
from tipipeline.ingest.long_form import (
    ANSWER_CODES,
    ANSWER_ITEMS,
    STORED_ANSWERS,
    answer_codes,
    answer_items,
    responses_view_rows,
    responses_view_sql,
    stored_item_ids,
)
from tipipeline.ingest.policy_audit import audit_files, read_audits
from tipipeline.ingest.surveys import ingest_wave
from tipipeline.ingest.waves import wave_export_files
from tipipeline.inputs import RAW_CODEBOOK, RAW_POLICY_AUDITS, RAW_SURVEY_WAVE
from tipipeline.partitions import survey_waves
from tipipeline.preview import markdown_preview
from tipipeline.reference import AliasResolver, load_reference
from tipipeline.resources import PathsResource, WarehouseResource
from tipipeline.schemas import ingest as schemas
from tipipeline.schemas.validation import validate
from tipipeline.warehouse import replace_table

OWNERS = ["team:tipipeline"]


@asset(
    group_name="ingest",
    description=registry.table("codebook_items").description,
    kinds={"duckdb", "yaml"},
    owners=OWNERS,
    code_version="1",
    pool="duckdb_write",
    tags={"layer": "ingest"},
    deps=[RAW_CODEBOOK, "framework_domains", "framework_principles"],
    check_specs=[
        AssetCheckSpec(
            "codebook_items_schema", asset="survey_codebook", blocking=True, description="pandera schema CodebookItems"
        )
    ],
)
def survey_codebook(paths: PathsResource, warehouse: WarehouseResource) -> MaterializeResult:
    with readable_failures():
        codebook = load_codebook(paths.settings.codebook_path, load_framework())
    items = codebook.item_frame().rename(columns={"id": "item_id"})
    items["text"] = items["text"].fillna("")
    outcome = validate(schemas.CodebookItems, items)
    with warehouse.get_connection() as conn:
        replace_table(conn, "codebook_items", items)
    return MaterializeResult(
        check_results=[schema_check_result("codebook_items_schema", outcome)],
        metadata={
            **table_metadata(items, "codebook_items"),
            "codebook_sha256": codebook.sha256,
            "synthetic": codebook.synthetic,
            "waves_with_overrides": ", ".join(codebook.waves) or "none",
        },
        data_version=DataVersion(codebook.sha256),
    )


# The staging tables one wave writes, each its own asset (table name = asset name).
WAVE_TABLES = [
    TableAsset("stg_respondents"),
    TableAsset("stg_responses", stored_as=STORED_ANSWERS),
    TableAsset("restricted_free_text"),
    TableAsset("survey_quarantine"),
    TableAsset("survey_exclusions"),
    TableAsset("survey_data_quality"),
]


@multi_asset(
    name="survey_wave",
    partitions_def=survey_waves,
    specs=asset_specs(
        WAVE_TABLES, "ingest", [RAW_SURVEY_WAVE, "survey_codebook", "organisations", "organisation_aliases", "boroughs"]
    ),
    check_specs=check_specs(WAVE_TABLES),
    pool="duckdb_write",
)
def survey_wave(context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource):
    """Read every export in the wave folder, write the wave's rows of each staging table."""
    wave = context.partition_key
    settings = paths.settings
    with readable_failures():
        codebook = load_codebook(settings.codebook_path, load_framework())
        files = wave_export_files(settings.surveys_dir, wave)
        result = ingest_wave(files, codebook, wave, load_reference(), pseudonym_key(codebook.synthetic))
    frames = {
        "stg_respondents": result.respondents,
        "stg_responses": result.answers,  # stored wide in stg_answers; stg_responses is its long view
        "restricted_free_text": result.free_text,
        "survey_quarantine": result.quarantine,
        "survey_exclusions": result.exclusions,
        "survey_data_quality": result.data_quality,
    }
    outcomes = {t.name: validate(t.schema, frames[t.name]) for t in WAVE_TABLES if t.schema is not None}
    # The long table is made in DuckDB; what is validated is the wide frame it is made from.
    outcomes["stg_responses"] = validate(schemas.answers_schema(codebook), result.answers)
    quality = result.data_quality
    yield from write_tables(
        warehouse,
        WAVE_TABLES,
        frames,
        outcomes,
        partition=("wave", wave),
        extra_metadata={"survey_data_quality": _accounting_metadata(quality)},
        views={"stg_responses": lambda conn: responses_view_sql(stored_item_ids(conn))},
        view_rows={"stg_responses": responses_view_rows},
        support={ANSWER_ITEMS: answer_items(codebook, wave), ANSWER_CODES: answer_codes(codebook, wave)},
    )
    context.log.info(
        f"wave {wave}: {int(quality['rows_read'].sum())} rows read, {int(quality['rows_accepted'].sum())} accepted, "
        f"{int(quality['rows_quarantined'].sum())} quarantined, {int(quality['rows_excluded'].sum())} excluded"
    )


def _accounting_metadata(quality: pd.DataFrame) -> dict:
    return {
        "rows_read": int(quality["rows_read"].sum()),
        "rows_accepted": int(quality["rows_accepted"].sum()),
        "rows_quarantined": int(quality["rows_quarantined"].sum()),
        "rows_excluded": int(quality["rows_excluded"].sum()),
        "accounting": MetadataValue.md(
            markdown_preview(
                quality[
                    [
                        "source_file",
                        "rows_read",
                        "rows_accepted",
                        "rows_quarantined",
                        "rows_excluded",
                        "excluded_by_rule",
                    ]
                ]
            )
        ),
    }


POLICY_TABLES = [
    TableAsset("audit_codings"),
    TableAsset("policy_documents"),
    TableAsset("policy_document_scores"),
    TableAsset("policy_unresolved"),
    TableAsset("coder_agreement"),
    TableAsset("policy_organisations"),
    TableAsset("policy_principles"),
    TableAsset("audit_quarantine"),
    TableAsset("audit_data_quality"),
]


@multi_asset(
    name="policy_audit",
    specs=asset_specs(
        POLICY_TABLES, "ingest", [RAW_POLICY_AUDITS, "organisations", "organisation_aliases", "framework_principles"]
    ),
    check_specs=check_specs(POLICY_TABLES),
    pool="duckdb_write",
)
def policy_audit(context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource):
    """Read every audit file, reconcile coders, score documents and organisations, measure agreement."""
    reference = load_reference()
    with readable_failures():
        result = read_audits(audit_files(paths.settings.policy_audit_dir), load_framework(), AliasResolver(reference))
    frames = {
        "audit_codings": result.codings,
        "policy_documents": result.documents,
        "policy_document_scores": result.document_scores,
        "policy_unresolved": result.unresolved,
        "coder_agreement": result.agreement,
        "policy_organisations": result.organisations,
        "policy_principles": result.principles,
        "audit_quarantine": result.quarantine,
        "audit_data_quality": result.data_quality,
    }
    overall = result.agreement.set_index("principle").loc["overall"]
    extra = {
        "coder_agreement": {
            "agreement": MetadataValue.md(markdown_preview(result.agreement.round(3))),
            "overall_kappa": float(overall["kappa"]),
            "overall_weighted_kappa": float(overall["weighted_kappa_linear"]),
        },
        "policy_unresolved": {"unresolved_count": len(result.unresolved)},
    }
    yield from write_tables(warehouse, POLICY_TABLES, frames, extra_metadata=extra)
    context.log.info(f"{len(result.documents)} documents, {len(result.unresolved)} unresolved disagreements")


ingest_assets = [survey_codebook, survey_wave, policy_audit]
wave_assets = [survey_wave]
