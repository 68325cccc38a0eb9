"""Ingest assets: the codebook, and each survey wave (a partition) into staging tables."""

import pandas as pd
import pandera.pandas as pa
from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from tipipeline.framework import load_framework
from tipipeline.ingest.codebook import load_codebook
from tipipeline.ingest.identifiers import pseudonym_key
from tipipeline.ingest.long_form import items_frame, long_responses_sql, missing_codes
from tipipeline.ingest.surveys import ingest_wave
from tipipeline.ingest.waves import wave_export_files
from tipipeline.metadata import markdown_preview, schema_check_result, table_metadata, warehouse_table_metadata
from tipipeline.partitions import survey_waves
from tipipeline.reference import load_reference
from tipipeline.resources import PathsResource, WarehouseResource
from tipipeline.schemas import ingest as schemas
from tipipeline.schemas.validation import validate
from tipipeline.warehouse import SqlSource, replace_partitions, replace_table

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
    deps=["framework_domains", "framework_principles"],
    check_specs=[AssetCheckSpec("codebook_items_schema", asset="survey_codebook", blocking=True,
                                description="pandera schema CodebookItems")],
)
def survey_codebook(paths: PathsResource, warehouse: WarehouseResource) -> MaterializeResult:
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
WAVE_TABLES: dict[str, tuple[type[pa.DataFrameModel] | None, str]] = {
    "stg_respondents": (schemas.StgRespondents, "One row per accepted respondent: pseudonymous id, organisation, "
                        "borough, BCU, ICB, role, service area, TI training, willingness to share. No identifiers."),
    "stg_responses": (None, "Item-level answers (long): one row per respondent x item, the value on the "
                      "scale, the scored value (reverse-coded items flipped) and why an answer is missing. "
                      "Made by DuckDB from the wide answers, which the check validates."),
    "restricted_free_text": (schemas.RestrictedFreeText, "RESTRICTED. Free-text answers (practice examples); never "
                             "published. Read only by named researchers for the promising-practice review."),
    "survey_quarantine": (schemas.SurveyQuarantine, "Rows that could not be accepted: file, row, column, offending "
                          "value and reason. Fix the export or the alias table and re-run the wave."),
    "survey_exclusions": (schemas.SurveyExclusions, "Rows excluded by a documented rule (previews, tests, spam, partial "
                          "responses, refused consent, duplicate submissions), with the rule and detail."),
    "survey_data_quality": (schemas.SurveyDataQuality, "Per export file: SHA-256, format, encoding, rows read = "
                            "accepted + quarantined + excluded (by rule), identifying columns dropped at read."),
}


def _check_name(table: str) -> str:
    return f"{table}_schema"


@multi_asset(
    name="survey_wave",
    partitions_def=survey_waves,
    specs=[
        AssetSpec(
            table,
            group_name="ingest",
            description=description,
            kinds={"duckdb", "pandas"},
            owners=OWNERS,
            code_version="1",
            tags={"layer": "ingest", **({"restricted": "true"} if table == "restricted_free_text" else {})},
            deps=["survey_codebook", "organisations", "organisation_aliases", "boroughs"],
        )
        for table, (_, description) in WAVE_TABLES.items()
    ],
    check_specs=[
        AssetCheckSpec(_check_name(table), asset=table, blocking=True,
                       description=f"pandera schema {schema.__name__ if schema else 'StgAnswersWide (from the codebook)'}")
        for table, (schema, _) in WAVE_TABLES.items()
    ],
    pool="duckdb_write",
)
def survey_wave(context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource):
    """Read every export in the wave folder, write the wave's rows of each staging table."""
    wave = context.partition_key
    settings = paths.settings
    codebook = load_codebook(settings.codebook_path, load_framework())
    files = wave_export_files(settings.surveys_dir, wave)
    result = ingest_wave(files, codebook, wave, load_reference(), pseudonym_key(codebook.synthetic))
    items = items_frame(codebook)
    frames = {
        "stg_respondents": result.respondents,
        "stg_responses": SqlSource(
            long_responses_sql(items["item_id"].tolist()),
            {"_answers": result.answers, "_items": items, "_missing_codes": missing_codes(codebook)},
        ),
        "restricted_free_text": result.free_text,
        "survey_quarantine": result.quarantine,
        "survey_exclusions": result.exclusions,
        "survey_data_quality": result.data_quality,
    }
    outcomes = {
        table: validate(schema or schemas.answers_schema(codebook), result.answers if schema is None else frames[table])
        for table, (schema, _) in WAVE_TABLES.items()
    }
    quality = result.data_quality
    with warehouse.get_connection() as conn:
        replace_partitions(conn, frames, "wave", wave)
        metadata = {
            table: (warehouse_table_metadata(conn, table, wave) if isinstance(frame, SqlSource)
                    else table_metadata(frame, table))
            for table, frame in frames.items()
        }
    for table in frames:
        extra = {"wave": wave}
        if table == "restricted_free_text":
            extra["preview"] = MetadataValue.md("Restricted: free text is not previewed.")
        if table == "survey_data_quality":
            extra.update(_accounting_metadata(quality))
        yield MaterializeResult(
            asset_key=AssetKey(table),
            metadata={**metadata[table], **extra},
            check_results=[schema_check_result(_check_name(table), outcomes[table], AssetKey(table))],
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
        "accounting": MetadataValue.md(markdown_preview(
            quality[["source_file", "rows_read", "rows_accepted", "rows_quarantined", "rows_excluded", "excluded_by_rule"]]
        )),
    }


ingest_assets = [survey_codebook, survey_wave]
wave_assets = [survey_wave]
