"""The indicator tables from the warehouse's staged rows: scores, cells, disclosure control,
change between waves and reliability. Pure apart from reading (and one scratch table in) the
DuckDB connection it is given; the Dagster asset only loads configuration and writes the result."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from tipipeline.framework import Framework
from tipipeline.framework.catalogue import indicator_families
from tipipeline.indicators.cells import CELL_COLUMNS, POLICY_WAVE, aggregate_cells, policy_cells, survey_cells
from tipipeline.indicators.derived import indicator_changes, reliability
from tipipeline.indicators.scores import respondent_scores_sql
from tipipeline.ingest.codebook import Codebook
from tipipeline.reference import Reference
from tipipeline.stats.disclosure import suppress

PUBLISHED_CELL_COLUMNS = [*CELL_COLUMNS, "suppressed", "suppression_reason"]
# Respondents' scores are computed once into this scratch table; the asset copies it into
# `respondent_measures` with its other tables in one transaction, then drops it.
SCORES_SCRATCH = "_respondent_measures_build"


@dataclass(frozen=True)
class IndicatorTables:
    scores_table: str  # the scratch table holding every respondent's scores
    cells: pd.DataFrame  # every cell before disclosure control (true n, sd): working only
    survey_cells: pd.DataFrame  # the survey part of `cells` with the flags to publish: the audit's input
    indicators: pd.DataFrame  # published: disclosure-controlled
    changes: pd.DataFrame
    reliability: pd.DataFrame
    families: dict[str, str]


def build_indicator_tables(
    conn: duckdb.DuckDBPyConnection,
    framework: Framework,
    codebook: Codebook,
    catalogue: pd.DataFrame,
    reference: Reference,
) -> IndicatorTables:
    """Every indicator table from `stg_respondents`, `stg_responses` and `policy_organisations`.

    The warehouse only adds whole numbers (stats/exact.py), so the results are the same bits
    whatever order the staged rows are stored or added in, on any number of threads.
    """
    scores_sql = respondent_scores_sql(
        codebook.scoring.min_share_answered,
        framework.scoring.min_share_of_domains,
        framework.stage_rule.agree_threshold,
        value_denominator=codebook.value_denominator,
    )
    conn.execute(f"CREATE OR REPLACE TABLE {SCORES_SCRATCH} AS {scores_sql}")
    aggregates = aggregate_cells(conn, measures=SCORES_SCRATCH)
    waves = [w for (w,) in conn.execute("SELECT DISTINCT wave FROM stg_respondents ORDER BY wave").fetchall()]
    policy_orgs = conn.execute("SELECT * FROM policy_organisations ORDER BY org_id").df()
    alpha = reliability(conn, codebook.value_denominator)

    parts = [survey_cells(aggregates, catalogue, reference), policy_cells(policy_orgs, catalogue, reference)]
    # An empty part (no policy audit yet) would turn typed columns into objects.
    cells = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    survey = cells[cells["wave"] != POLICY_WAVE]
    families = indicator_families(catalogue)
    controlled = suppress(survey, framework.disclosure.min_cell_size, families)
    # Policy audits describe organisations, not people: no small-number control.
    policy = cells[cells["wave"] == POLICY_WAVE].assign(suppressed=False, suppression_reason=None)
    both = pd.concat([controlled, policy], ignore_index=True)
    published = (
        both[PUBLISHED_CELL_COLUMNS]
        .sort_values(["indicator_id", "wave", "geography_level", "geography_code"])
        .reset_index(drop=True)
    )
    audited = survey.assign(
        suppressed=controlled["suppressed"].to_numpy(), suppression_reason=controlled["suppression_reason"].to_numpy()
    )
    return IndicatorTables(
        scores_table=SCORES_SCRATCH,
        cells=cells,
        survey_cells=audited,
        indicators=published,
        changes=indicator_changes(both, catalogue, waves),
        reliability=alpha,
        families=families,
    )
