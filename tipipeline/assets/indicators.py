"""Indicator assets: scores, disclosure-controlled indicators, change, reliability, journey,
borough partnership and promising practice. Read from the warehouse, write back to it.

Per-wave work is partitioned by wave (`wave_indicators`, `wave_journey`): adding or correcting a
wave recomputes that wave only. `london_indicators` puts every wave together with the policy audit,
each row with its source and period (indicators/periods.py), and measures change between waves."""

import time

import duckdb
import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MetadataValue,
    multi_asset,
)

from tipipeline.assets.tables import TableAsset, asset_specs, check_specs, write_tables
from tipipeline.framework import load_framework
from tipipeline.framework.catalogue import load_indicator_catalogue, score_indicators
from tipipeline.indicators.build import assemble_indicators, build_wave_indicators, drop_scores_scratch
from tipipeline.indicators.derived import borough_partnership, journey, journey_summary, promising_practice
from tipipeline.indicators.periods import SURVEY, survey_periods_sql
from tipipeline.ingest.codebook import load_codebook
from tipipeline.partitions import survey_waves
from tipipeline.preview import markdown_preview
from tipipeline.reference import load_reference
from tipipeline.resources import PathsResource, WarehouseResource
from tipipeline.stats.disclosure_audit import audit, audit_fingerprint, record_audit
from tipipeline.warehouse import SqlSource

WAVE_INDICATOR_TABLES = [
    TableAsset("respondent_measures"),
    TableAsset("indicator_cells"),
    TableAsset("survey_indicators"),
    TableAsset("reliability"),
]
DISCLOSURE_CHECK = "survey_indicators_disclosure_control"


@multi_asset(
    name="wave_indicators",
    partitions_def=survey_waves,
    specs=asset_specs(
        WAVE_INDICATOR_TABLES, "indicators", ["stg_respondents", "stg_responses", "survey_codebook", "organisations"]
    ),
    check_specs=[
        *check_specs(WAVE_INDICATOR_TABLES),
        AssetCheckSpec(
            DISCLOSURE_CHECK,
            asset="survey_indicators",
            blocking=True,
            description="Integer-programming audit of the wave's published cells: no cell below the threshold is "
            "shown; from published totals, siblings and the indicators sharing its n, no suppressed cell's n can be "
            "narrowed to fewer than threshold possible values, nor its numerator or count not agreeing to one.",
        ),
    ],
    pool="duckdb_write",
)
def wave_indicators(context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource):
    """One wave's scores, cells, disclosure control and reliability, from that wave's staged rows."""
    wave = context.partition_key
    framework = load_framework()
    codebook = load_codebook(paths.settings.codebook_path, framework)
    catalogue = load_indicator_catalogue(framework)
    threshold = framework.disclosure.min_cell_size
    with warehouse.get_connection() as conn:
        try:
            built = build_wave_indicators(conn, wave, framework, codebook, catalogue, load_reference())
            # Written through the same connection: the scores are in its temporary table.
            results = list(_write_wave_indicators(warehouse, conn, wave, built, threshold))
        finally:
            drop_scores_scratch(conn)
    yield from results


def _write_wave_indicators(
    warehouse: WarehouseResource, conn: duckdb.DuckDBPyConnection, wave: str, built, threshold: int
):
    frames = {
        "respondent_measures": SqlSource(f"SELECT * FROM {built.scores_table}", {}),
        "indicator_cells": built.cells,
        "survey_indicators": built.indicators,
        "reliability": built.reliability,
    }
    check, problems = _disclosure_check(built.cells, threshold, built.families)
    published = built.indicators
    extra = {
        "survey_indicators": {
            "suppressed_cells": int(published["suppressed"].sum()),
            "suppressed_by_reason": MetadataValue.md(
                markdown_preview(published["suppression_reason"].value_counts().rename_axis("reason").reset_index())
            ),
        },
        "reliability": {"alpha": MetadataValue.md(markdown_preview(built.reliability.round(3), rows=40))},
    }
    yield from write_tables(
        warehouse,
        WAVE_INDICATOR_TABLES,
        frames,
        partition=("wave", wave),
        extra_metadata=extra,
        extra_checks={"survey_indicators": [check]},
        conn=conn,
    )
    # The publishing step trusts a passed audit of exactly these counts and flags, else repeats it.
    record_audit(conn, audit_fingerprint(built.cells, threshold, built.families), check.passed, problems)


LONDON_INDICATOR_TABLES = [
    TableAsset("indicators"),
    TableAsset("indicator_catalogue"),
    TableAsset("indicator_changes"),
    TableAsset("promising_practice"),
]


@multi_asset(
    name="london_indicators",
    specs=asset_specs(
        LONDON_INDICATOR_TABLES,
        "indicators",
        ["survey_wave_register", "indicator_cells", "stg_respondents", "policy_organisations", "policy_documents"],
    ),
    check_specs=check_specs(LONDON_INDICATOR_TABLES),
    pool="duckdb_write",
)
def london_indicators(context: AssetExecutionContext, warehouse: WarehouseResource):
    """Every wave's disclosure-controlled cells with the policy audit's, change between waves, and
    promising practice (the latest wave's willingness to share with the audit's strong documents)."""
    framework = load_framework()
    catalogue = load_indicator_catalogue(framework)
    reference = load_reference()
    with warehouse.get_connection() as conn:
        cells = conn.execute("SELECT * FROM indicator_cells").df()
        policy_orgs = conn.execute("SELECT * FROM policy_organisations ORDER BY org_id").df()
        documents = conn.execute("SELECT * FROM policy_documents").df()
        submission_dates = conn.execute(survey_periods_sql()).df()
    indicators, changes = assemble_indicators(cells, policy_orgs, catalogue, reference, submission_dates, documents)
    waves = sorted(set(cells["wave"]))
    frames = {
        "indicators": indicators,
        "indicator_catalogue": catalogue,
        "indicator_changes": changes,
        "promising_practice": promising_practice(
            indicators[indicators["source"] == SURVEY], documents, framework, reference, waves
        ),
    }
    extra = {
        "indicators": {
            "waves": ", ".join(sorted(set(cells["wave"]))) or "none",
            "suppressed_cells": int(indicators["suppressed"].sum()),
        }
    }
    yield from write_tables(warehouse, LONDON_INDICATOR_TABLES, frames, extra_metadata=extra)


def _disclosure_check(cells: pd.DataFrame, threshold: int, families: dict[str, str]) -> tuple[AssetCheckResult, int]:
    """The independent audit (stats/disclosure_audit.py: integer programming over everything
    published) of what the published cells reveal, and how many problems it found. `cells`: true
    counts with the flags to publish."""
    started = time.monotonic()
    problems = audit(cells, threshold, families)
    passed = problems.empty
    reasons = cells["suppression_reason"].dropna()
    result = AssetCheckResult(
        check_name=DISCLOSURE_CHECK,
        asset_key="survey_indicators",
        passed=passed,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "cells_checked": len(cells),
            "cells_below_threshold": int((cells["n"] < threshold).sum()),
            "suppressed_primary": int(reasons.str.startswith("primary").sum()),
            "suppressed_secondary": int(reasons.str.startswith("secondary").sum()),
            "audit_seconds": round(time.monotonic() - started, 1),
            "problems": len(problems),
            "examples": MetadataValue.md(markdown_preview(problems) if len(problems) else "none"),
        },
        description="disclosure control holds: every suppressed cell is protected"
        if passed
        else f"{len(problems)} disclosure problems, e.g. {problems.iloc[0]['problem']} ({problems.iloc[0]['indicator_id']}, "
        f"{problems.iloc[0]['wave']}, {problems.iloc[0]['geography_code']})",
    )
    return result, len(problems)


JOURNEY_TABLES = [
    TableAsset("journey"),
    TableAsset("journey_summary"),
    TableAsset("borough_partnership"),
]


@multi_asset(
    name="wave_journey",
    partitions_def=survey_waves,
    specs=asset_specs(JOURNEY_TABLES, "indicators", ["survey_indicators", "policy_organisations"]),
    check_specs=check_specs(JOURNEY_TABLES),
    pool="duckdb_write",
)
def wave_journey(context: AssetExecutionContext, warehouse: WarehouseResource):
    """One wave's journey stages, London's distribution of them and the borough partnership view,
    from the wave's disclosure-controlled cells and the policy audit."""
    wave = context.partition_key
    framework = load_framework()
    reference = load_reference()
    with warehouse.get_connection() as conn:
        cells = conn.execute("SELECT * FROM survey_indicators WHERE wave = ?", [wave]).df()
        policy_orgs = conn.execute("SELECT * FROM policy_organisations").df()
    waves = [wave]
    stages = journey(cells, policy_orgs, framework, reference, waves)
    frames = {
        "journey": stages,
        "journey_summary": journey_summary(stages),
        "borough_partnership": borough_partnership(cells, reference, score_indicators(framework)),
    }
    extra = {
        "journey": {
            "insufficient_evidence": int(stages["stage_level"].isna().sum()),
            "stages": MetadataValue.md(
                markdown_preview(stages.groupby(["wave", "stage"]).size().rename("cells").reset_index(), rows=20)
            ),
        }
    }
    yield from write_tables(warehouse, JOURNEY_TABLES, frames, partition=("wave", wave), extra_metadata=extra)


indicator_assets = [wave_indicators, london_indicators, wave_journey]
wave_indicator_assets = [wave_indicators, wave_journey]
