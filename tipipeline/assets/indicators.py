"""Indicator assets: scores, disclosure-controlled indicators, change, reliability, journey,
borough partnership and promising practice. Read from the warehouse, write back to it."""

import time

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
from tipipeline.indicators.build import SCORES_SCRATCH, build_indicator_tables
from tipipeline.indicators.cells import POLICY_WAVE
from tipipeline.indicators.derived import borough_partnership, journey, journey_summary, promising_practice
from tipipeline.ingest.codebook import load_codebook
from tipipeline.metadata import markdown_preview
from tipipeline.reference import load_reference
from tipipeline.resources import PathsResource, WarehouseResource
from tipipeline.schemas import indicators as schemas
from tipipeline.stats.disclosure_audit import audit, audit_fingerprint, record_audit
from tipipeline.warehouse import SqlSource

INDICATOR_TABLES = [
    TableAsset(
        "respondent_measures",
        "Each respondent's domain, principle and index scores (and yes/no answers as "
        "1/0): the input to the indicators. Pseudonymous, row-level: never published.",
        None,
    ),
    TableAsset(
        "indicator_cells",
        "Every indicator cell before disclosure control, with the true n and standard "
        "deviation. Working table only: never published.",
        schemas.IndicatorCells,
    ),
    TableAsset(
        "indicators",
        "The baseline indicators: value, 95% CI, n and numerator per indicator, wave and "
        "geography, compared with London, disclosure-controlled (suppressed cells flagged with a reason).",
        schemas.Indicators,
    ),
    TableAsset(
        "indicator_catalogue", "One row per indicator with the Fingertips metadata fields.", schemas.IndicatorCatalogue
    ),
    TableAsset(
        "indicator_changes",
        "Change between consecutive waves per indicator and geography, with a 95% CI "
        "of the change and whether it is significant.",
        schemas.IndicatorChanges,
    ),
    TableAsset(
        "reliability",
        "Cronbach's alpha per domain per wave (all respondents with every item of the domain answered).",
        schemas.Reliability,
    ),
]
DISCLOSURE_CHECK = "indicators_disclosure_control"


@multi_asset(
    name="indicator_build",
    specs=asset_specs(
        INDICATOR_TABLES, "indicators", ["stg_respondents", "stg_responses", "policy_organisations", "survey_codebook"]
    ),
    check_specs=[
        *check_specs(INDICATOR_TABLES),
        AssetCheckSpec(
            DISCLOSURE_CHECK,
            asset="indicators",
            blocking=True,
            description="Integer-programming audit of everything published: no cell below the threshold is "
            "shown; from published totals, siblings and the indicators sharing its n, no suppressed cell's n can be "
            "narrowed to fewer than threshold possible values, nor its numerator or count not agreeing to one.",
        ),
    ],
    pool="duckdb_write",
)
def indicator_build(context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource):
    framework = load_framework()
    codebook = load_codebook(paths.settings.codebook_path, framework)
    catalogue = load_indicator_catalogue(framework)
    threshold = framework.disclosure.min_cell_size
    try:
        with warehouse.get_connection() as conn:
            built = build_indicator_tables(conn, framework, codebook, catalogue, load_reference())
        yield from _write_indicators(warehouse, built, catalogue, threshold)
    finally:
        # Row-level scores never stay in the scratch table, whether the build succeeded or not.
        with warehouse.get_connection() as conn:
            conn.execute(f"DROP TABLE IF EXISTS {SCORES_SCRATCH}")


def _write_indicators(warehouse: WarehouseResource, built, catalogue: pd.DataFrame, threshold: int):
    frames = {
        "respondent_measures": SqlSource(f"SELECT * FROM {built.scores_table}", {}),
        "indicator_cells": built.cells,
        "indicators": built.indicators,
        "indicator_catalogue": catalogue,
        "indicator_changes": built.changes,
        "reliability": built.reliability,
    }
    check, problems = _disclosure_check(built.survey_cells, threshold, built.families)
    checks = {"indicators": [check]}
    published = built.indicators
    extra = {
        "indicators": {
            "suppressed_cells": int(published["suppressed"].sum()),
            "suppressed_by_reason": MetadataValue.md(
                markdown_preview(published["suppression_reason"].value_counts().rename_axis("reason").reset_index())
            ),
        },
        "reliability": {"alpha": MetadataValue.md(markdown_preview(built.reliability.round(3), rows=40))},
    }
    yield from write_tables(warehouse, INDICATOR_TABLES, frames, extra_metadata=extra, extra_checks=checks)
    # The publishing step trusts a passed audit of exactly these counts and flags, else repeats it.
    with warehouse.get_connection() as conn:
        record_audit(conn, audit_fingerprint(built.survey_cells), check.passed, problems)


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
        asset_key="indicators",
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
    TableAsset(
        "journey",
        "A journey stage per organisation x domain x wave from the framework's rule (survey "
        "score and % agreeing, policy comprehensiveness and strength), or 'Insufficient evidence', with "
        "the evidence and the roadmap's next step.",
        schemas.Journey,
    ),
    TableAsset(
        "journey_summary",
        "London's distribution of stages: organisations at each stage per wave, sector and domain.",
        schemas.JourneySummary,
    ),
    TableAsset(
        "borough_partnership",
        "Per borough: its council's, its BCU's and its ICB's values side by side, per "
        "domain (mean score) and the index, per wave; suppression carried through.",
        schemas.BoroughPartnership,
    ),
    TableAsset(
        "promising_practice",
        "Promising-practice candidates per organisation: policy documents at or above "
        "the strength threshold and the % of staff willing to share (never free text).",
        schemas.PromisingPractice,
    ),
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
    extra = {
        "journey": {
            "insufficient_evidence": int(stages["stage_level"].isna().sum()),
            "stages": MetadataValue.md(
                markdown_preview(stages.groupby(["wave", "stage"]).size().rename("cells").reset_index(), rows=20)
            ),
        }
    }
    yield from write_tables(warehouse, JOURNEY_TABLES, frames, extra_metadata=extra)


indicator_assets = [indicator_build, journey_build]
