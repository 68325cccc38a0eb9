"""Indicator assets: scores, disclosure-controlled indicators, change, reliability, journey,
borough partnership and promising practice. Read from the warehouse, write back to it."""

import time

import pandas as pd
from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetExecutionContext, MetadataValue, multi_asset

from tipipeline.assets.tables import TableAsset, asset_specs, check_specs, write_tables
from tipipeline.framework import load_framework
from tipipeline.framework.catalogue import indicator_families, load_indicator_catalogue, score_indicators
from tipipeline.indicators.cells import POLICY_WAVE, aggregate_cells, policy_cells, survey_cells
from tipipeline.indicators.derived import (
    borough_partnership,
    indicator_changes,
    journey,
    journey_summary,
    promising_practice,
    reliability,
)
from tipipeline.indicators.scores import respondent_scores_sql
from tipipeline.ingest.codebook import load_codebook
from tipipeline.metadata import markdown_preview
from tipipeline.reference import load_reference
from tipipeline.resources import PathsResource, WarehouseResource
from tipipeline.schemas import indicators as schemas
from tipipeline.stats.disclosure import suppress
from tipipeline.stats.disclosure_audit import audit
from tipipeline.warehouse import SqlSource

PUBLISHED_CELL_COLUMNS = ["indicator_id", "wave", "geography_level", "geography_code", "geography_name", "sector",
                          "value", "lower_ci", "upper_ci", "n", "numerator", "comparison", "suppressed",
                          "suppression_reason"]

INDICATOR_TABLES = [
    TableAsset("respondent_measures", "Each respondent's domain, principle and index scores (and yes/no answers as "
               "1/0): the input to the indicators. Pseudonymous, row-level: never published.", None),
    TableAsset("indicator_cells", "Every indicator cell before disclosure control, with the true n and standard "
               "deviation. Working table only: never published.", schemas.IndicatorCells),
    TableAsset("indicators", "The baseline indicators: value, 95% CI, n and numerator per indicator, wave and "
               "geography, compared with London, disclosure-controlled (suppressed cells flagged with a reason).",
               schemas.Indicators),
    TableAsset("indicator_catalogue", "One row per indicator with the Fingertips metadata fields.",
               schemas.IndicatorCatalogue),
    TableAsset("indicator_changes", "Change between consecutive waves per indicator and geography, with a 95% CI "
               "of the change and whether it is significant.", schemas.IndicatorChanges),
    TableAsset("reliability", "Cronbach's alpha per domain per wave (all respondents with every item of the domain "
               "answered).", schemas.Reliability),
]
DISCLOSURE_CHECK = "indicators_disclosure_control"


@multi_asset(
    name="indicator_build",
    specs=asset_specs(INDICATOR_TABLES, "indicators", ["stg_respondents", "stg_responses", "policy_organisations",
                                                       "survey_codebook"]),
    check_specs=[*check_specs(INDICATOR_TABLES),
                 AssetCheckSpec(DISCLOSURE_CHECK, asset="indicators", blocking=True,
                                description="No published cell below the threshold is unsuppressed, and no suppressed "
                                            "cell can be worked out from published totals and siblings.")],
    pool="duckdb_write",
)
def indicator_build(context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource):
    framework = load_framework()
    codebook = load_codebook(paths.settings.codebook_path, framework)
    catalogue = load_indicator_catalogue(framework)
    reference = load_reference()
    threshold = framework.disclosure.min_cell_size
    scores_sql = respondent_scores_sql(codebook.scoring.min_share_answered, framework.scoring.min_share_of_domains,
                                       framework.stage_rule.agree_threshold,
                                       value_denominator=codebook.value_denominator)
    # The warehouse only adds whole numbers (stats/exact.py), so the published values are the same
    # bits whatever order the staged rows are stored or added in, on any number of threads.
    with warehouse.get_connection() as conn:
        conn.execute(f"CREATE OR REPLACE TEMP TABLE respondent_measures AS {scores_sql}")
        aggregates = aggregate_cells(conn)
        waves = [w for (w,) in conn.execute("SELECT DISTINCT wave FROM stg_respondents ORDER BY wave").fetchall()]
        policy_orgs = conn.execute("SELECT * FROM policy_organisations ORDER BY org_id").df()
        reliability_table = reliability(conn, codebook.value_denominator)
    parts = [survey_cells(aggregates, catalogue, reference), policy_cells(policy_orgs, catalogue, reference)]
    # An empty part (no policy audit yet) would turn typed columns into objects.
    internal = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    survey = internal[internal["wave"] != POLICY_WAVE]
    families = indicator_families(catalogue)
    controlled = suppress(survey, threshold, families)
    policy = internal[internal["wave"] == POLICY_WAVE].assign(suppressed=False, suppression_reason=None)
    published = pd.concat([controlled, policy], ignore_index=True)[PUBLISHED_CELL_COLUMNS]
    published = published.sort_values(["indicator_id", "wave", "geography_level", "geography_code"]).reset_index(drop=True)
    changes = indicator_changes(pd.concat([controlled, policy]).reset_index(drop=True), catalogue, waves)
    frames = {
        "respondent_measures": SqlSource(scores_sql, {}),
        "indicator_cells": internal,
        "indicators": published,
        "indicator_catalogue": catalogue,
        "indicator_changes": changes,
        "reliability": reliability_table,
    }
    checks = {"indicators": [_disclosure_check(survey, controlled, threshold, families)]}
    extra = {
        "indicators": {"suppressed_cells": int(published["suppressed"].sum()),
                       "suppressed_by_reason": MetadataValue.md(markdown_preview(
                           published["suppression_reason"].value_counts().rename_axis("reason").reset_index()))},
        "reliability": {"alpha": MetadataValue.md(markdown_preview(frames["reliability"].round(3), rows=40))},
    }
    yield from write_tables(warehouse, INDICATOR_TABLES, frames, extra_metadata=extra, extra_checks=checks)


def _disclosure_check(cells: pd.DataFrame, controlled: pd.DataFrame, threshold: int,
                      families: dict[str, str]) -> AssetCheckResult:
    """The independent audit (stats/disclosure_audit.py: integer programming over everything
    published) of what the published cells reveal."""
    started = time.monotonic()
    problems = audit(cells.assign(suppressed=controlled["suppressed"].to_numpy()), threshold, families)
    passed = problems.empty
    reasons = controlled["suppression_reason"].dropna()
    return AssetCheckResult(
        check_name=DISCLOSURE_CHECK,
        asset_key="indicators",
        passed=passed,
        severity=AssetCheckSeverity.ERROR,
        metadata={"cells_checked": len(cells), "cells_below_threshold": int((cells["n"] < threshold).sum()),
                  "suppressed_primary": int(reasons.str.startswith("primary").sum()),
                  "suppressed_secondary": int(reasons.str.startswith("secondary").sum()),
                  "audit_seconds": round(time.monotonic() - started, 1),
                  "problems": len(problems),
                  "examples": MetadataValue.md(markdown_preview(problems) if len(problems) else "none")},
        description="disclosure control holds: every suppressed cell is protected" if passed else
        f"{len(problems)} disclosure problems, e.g. {problems.iloc[0]['problem']} ({problems.iloc[0]['indicator_id']}, "
        f"{problems.iloc[0]['wave']}, {problems.iloc[0]['geography_code']})",
    )


JOURNEY_TABLES = [
    TableAsset("journey", "A journey stage per organisation x domain x wave from the framework's rule (survey "
               "score and % agreeing, policy comprehensiveness and strength), or 'Insufficient evidence', with "
               "the evidence and the roadmap's next step.", schemas.Journey),
    TableAsset("journey_summary", "London's distribution of stages: organisations at each stage per wave, sector and "
               "domain.", schemas.JourneySummary),
    TableAsset("borough_partnership", "Per borough: its council's, its BCU's and its ICB's values side by side, per "
               "domain (mean score) and the index, per wave; suppression carried through.", schemas.BoroughPartnership),
    TableAsset("promising_practice", "Promising-practice candidates per organisation: policy documents at or above "
               "the strength threshold and the % of staff willing to share (never free text).", schemas.PromisingPractice),
]


@multi_asset(
    name="journey_build",
    specs=asset_specs(JOURNEY_TABLES, "indicators", ["indicators", "policy_documents", "policy_organisations"]),
    check_specs=check_specs(JOURNEY_TABLES),
    pool="duckdb_write",
)
def journey_build(context: AssetExecutionContext, warehouse: WarehouseResource):
    framework = load_framework()
    reference = load_reference()
    with warehouse.get_connection() as conn:
        cells = conn.execute("SELECT * FROM indicators").df()
        policy_orgs = conn.execute("SELECT * FROM policy_organisations").df()
        documents = conn.execute("SELECT * FROM policy_documents").df()
    waves = sorted(set(cells["wave"]) - {POLICY_WAVE})
    stages = journey(cells, policy_orgs, framework, reference, waves)
    frames = {
        "journey": stages,
        "journey_summary": journey_summary(stages),
        "borough_partnership": borough_partnership(cells, reference, score_indicators(framework)),
        "promising_practice": promising_practice(cells, documents, framework, reference, waves),
    }
    extra = {"journey": {"insufficient_evidence": int(stages["stage_level"].isna().sum()),
                         "stages": MetadataValue.md(markdown_preview(
                             stages.groupby(["wave", "stage"]).size().rename("cells").reset_index(), rows=20))}}
    yield from write_tables(warehouse, JOURNEY_TABLES, frames, extra_metadata=extra)


indicator_assets = [indicator_build, journey_build]
