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
from tipipeline.schemas import policy as policy_schemas
from tipipeline.schemas.validation import validate
from tipipeline.warehouse import replace_table

OWNERS = ["team:tipipeline"]


@asset(
    group_name="ingest",
    description="The survey instrument (data/raw/surveys/codebook.yaml), validated against the framework: "
    "one row per item with its export column, domain, principle, scale and reverse coding.",
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
    TableAsset(
        "stg_respondents",
        "One row per accepted respondent: pseudonymous id, organisation, borough, BCU, ICB, "
        "role, service area, TI training, willingness to share. No identifiers.",
        schemas.StgRespondents,
    ),
    TableAsset(
        "stg_responses",
        "Item-level answers (long): one row per respondent x item, the value on the scale, the "
        "scored value (reverse-coded items flipped) and why an answer is missing. A view: the rows are stored "
        "wide in `stg_answers` (per item `v__<item>` value, `m__<item>` missing code), which the check validates "
        "against the codebook, and DuckDB makes them long when the view is read.",
        None,
        stored_as=STORED_ANSWERS,
    ),
    TableAsset(
        "restricted_free_text",
        "RESTRICTED. Free-text answers (practice examples); never published. Read only by "
        "named researchers for the promising-practice review.",
        schemas.RestrictedFreeText,
        restricted=True,
    ),
    TableAsset(
        "survey_quarantine",
        "Rows that could not be accepted: file, row, column, offending value and reason. "
        "Fix the export or the alias table and re-run the wave.",
        schemas.SurveyQuarantine,
    ),
    TableAsset(
        "survey_exclusions",
        "Rows excluded by a documented rule (previews, tests, spam, partial responses, "
        "refused consent, duplicate submissions), with the rule and detail.",
        schemas.SurveyExclusions,
    ),
    TableAsset(
        "survey_data_quality",
        "Per export file: SHA-256, format, encoding, rows read = accepted + quarantined + "
        "excluded (by rule), identifying columns dropped at read.",
        schemas.SurveyDataQuality,
    ),
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
    TableAsset(
        "audit_codings",
        "Accepted policy-audit rows: one per document x coder, scores 0/1/2 per principle.",
        policy_schemas.AuditCodings,
    ),
    TableAsset(
        "policy_documents",
        "One row per audited document: coders, consensus, comprehensiveness (% of principles "
        "scored 1 or 2) and strength (% scored 2) over its settled scores, promising-practice candidate flag.",
        policy_schemas.PolicyDocuments,
    ),
    TableAsset(
        "policy_document_scores",
        "The settled score per document x principle and how it was settled (single "
        "coder, coders agree, consensus); unresolved disagreements have no score.",
        policy_schemas.PolicyDocumentScores,
    ),
    TableAsset(
        "policy_unresolved",
        "Disagreements between coders with no consensus row: left out of the scores until "
        "settled. Add a `consensus` row to the audit to settle them.",
        policy_schemas.PolicyUnresolved,
    ),
    TableAsset(
        "coder_agreement",
        "Inter-rater agreement per principle and overall: double-coded documents, % agreement, "
        "Cohen's kappa and linear-weighted kappa (0/1/2).",
        policy_schemas.CoderAgreement,
    ),
    TableAsset(
        "policy_organisations",
        "Per organisation: documents audited, comprehensiveness and strength over its best "
        "settled score per principle, mean document scores, promising-practice candidates.",
        policy_schemas.PolicyOrganisations,
    ),
    TableAsset(
        "policy_principles",
        "Per organisation x principle: the best settled score any of its documents gives the principle (which "
        "principles are missing from its documents), and how many documents have a settled or unsettled score.",
        policy_schemas.PolicyPrinciples,
    ),
    TableAsset(
        "audit_quarantine",
        "Audit rows that could not be accepted, with file, row, column, value and reason.",
        policy_schemas.AuditQuarantine,
    ),
    TableAsset(
        "audit_data_quality",
        "Per audit file: SHA-256, rows read = accepted + quarantined + excluded.",
        policy_schemas.AuditDataQuality,
    ),
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
