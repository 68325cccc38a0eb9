"""The indicator tables from the warehouse's staged rows, in two steps:

- per wave (`build_wave_indicators`): respondents' scores, cells, disclosure control and Cronbach's
  alpha of ONE wave, from that wave's staged rows only, so adding a wave never recomputes the others;
- London-wide (`assemble_indicators`): every wave's disclosure-controlled cells with the policy
  audit's, each row with its source and period (indicators/periods.py), and the change between
  consecutive waves.

Pure apart from reading (and one scratch table in) the DuckDB connection it is given; the Dagster
assets only load configuration and write the result."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from tipipeline import registry
from tipipeline.errors import WarehouseError
from tipipeline.framework import Framework
from tipipeline.framework.catalogue import indicator_families
from tipipeline.indicators.cells import aggregate_cells, policy_cells, survey_cells
from tipipeline.indicators.derived import indicator_changes, reliability, wide_reliability_sql
from tipipeline.indicators.periods import POLICY, as_date, policy_period, survey_periods
from tipipeline.indicators.scores import wide_scores_sql
from tipipeline.ingest.codebook import Codebook
from tipipeline.ingest.long_form import ANSWER_ITEMS, STORED_ANSWERS, wave_items
from tipipeline.reference import Reference
from tipipeline.stats.disclosure import suppress
from tipipeline.warehouse import sql_literal, table_exists

PUBLISHED_CELL_COLUMNS = registry.table("survey_indicators").names
# The working cells keep the true n and sd next to the decision to publish them or not.
WORKING_CELL_COLUMNS = registry.table("indicator_cells").names
CELL_ORDER = ["indicator_id", "wave", "geography_level", "geography_code"]
# The London-wide `indicators` table: every source's rows, each with its period.
INDICATOR_COLUMNS = registry.table("indicators").names
INDICATOR_ORDER = ["indicator_id", "source", "period", "geography_level", "geography_code"]
# A wave's scores are computed once into this temporary table (the connection's own, never in the
# warehouse file: writing them there first cost as much again as copying them into
# `respondent_measures`); the asset copies it into `respondent_measures` with its other tables in one
# transaction on the same connection, then drops it.
SCORES_SCRATCH = "_respondent_measures_build"
WAVE_ANSWERS, WAVE_RESPONDENTS = "_wave_answers", "_wave_respondents"


@dataclass(frozen=True)
class WaveIndicators:
    """One wave's indicator tables."""

    scores_table: str  # the scratch table holding the wave's respondents' scores
    cells: pd.DataFrame  # every survey cell with its true n, sd and the disclosure decision: working only
    indicators: pd.DataFrame  # published: disclosure-controlled
    reliability: pd.DataFrame
    families: dict[str, str]


def build_wave_indicators(
    conn: duckdb.DuckDBPyConnection,
    wave: str,
    framework: Framework,
    codebook: Codebook,
    catalogue: pd.DataFrame,
    reference: Reference,
) -> WaveIndicators:
    """The indicator tables of one wave from its rows of `stg_respondents` and `stg_answers` (the
    wide answers that `stg_responses` shows long).

    Disclosure control is decided per wave (stats/disclosure.py), so a wave's cells never depend
    on another wave's. The warehouse only adds whole numbers (stats/exact.py): the results are the
    same bits whatever order the staged rows are stored or added in, on any number of threads.
    """
    drop_scores_scratch(conn)  # also a warehouse table of that name left by an earlier tipipeline
    literal = sql_literal(wave)
    # The wave's stored wide answers: scores and alpha are worked out along each row's item columns,
    # not grouped over the long form (60M rows at 1M respondents).
    conn.execute(f"CREATE OR REPLACE TEMP VIEW {WAVE_ANSWERS} AS SELECT * FROM {STORED_ANSWERS} WHERE wave = {literal}")
    conn.execute(
        f"CREATE OR REPLACE TEMP VIEW {WAVE_RESPONDENTS} AS SELECT * FROM stg_respondents WHERE wave = {literal}"
    )
    if not table_exists(conn, ANSWER_ITEMS):
        raise WarehouseError(
            "the warehouse",
            f"{ANSWER_ITEMS} is missing: this warehouse was built by an earlier tipipeline, before survey "
            "answers were stored wide. Delete the warehouse folder and rebuild (`make run`).",
        )
    # The wave's own items as its ingest stored them (not today's codebook's): the same scores
    # whatever the codebook has gained or lost since.
    items = wave_items(conn, wave)
    try:
        scores_sql = wide_scores_sql(
            WAVE_ANSWERS,
            items,
            codebook.scoring.min_share_answered,
            framework.scoring.min_share_of_domains,
            framework.stage_rule.agree_threshold,
            respondents=WAVE_RESPONDENTS,
            value_denominator=codebook.value_denominator,
        )
        conn.execute(f"CREATE OR REPLACE TEMP TABLE {SCORES_SCRATCH} AS {scores_sql}")
        aggregates = aggregate_cells(conn, measures=SCORES_SCRATCH, respondents=WAVE_RESPONDENTS)
        alpha = reliability(conn, sums_sql=wide_reliability_sql(WAVE_ANSWERS, items, codebook.value_denominator))
    finally:
        conn.execute(f"DROP VIEW IF EXISTS {WAVE_ANSWERS}")
        conn.execute(f"DROP VIEW IF EXISTS {WAVE_RESPONDENTS}")
    cells = survey_cells(aggregates, catalogue, reference)
    families = indicator_families(catalogue)
    controlled = suppress(cells, framework.disclosure.min_cell_size, families)
    working = cells.assign(
        suppressed=controlled["suppressed"].to_numpy(), suppression_reason=controlled["suppression_reason"].to_numpy()
    )
    return WaveIndicators(
        scores_table=SCORES_SCRATCH,
        cells=_ordered(working[WORKING_CELL_COLUMNS]),
        indicators=_ordered(controlled[PUBLISHED_CELL_COLUMNS]),
        reliability=alpha,
        families=families,
    )


def drop_scores_scratch(conn: duckdb.DuckDBPyConnection) -> None:
    """Drop the row-level scores: the connection's temporary table, and a warehouse table of the same
    name that an earlier tipipeline (which built the scores in the warehouse file) may have left
    behind when killed mid-build. A connection DuckDB has already invalidated is left alone: closing
    it drops its temporary tables, and the error that invalidated it is the one to report."""
    try:
        catalog = conn.execute("SELECT current_database()").fetchall()[0][0]
        conn.execute(f"DROP TABLE IF EXISTS temp.main.{SCORES_SCRATCH}")
        conn.execute(f'DROP TABLE IF EXISTS "{catalog}".main.{SCORES_SCRATCH}')
    except duckdb.Error:
        pass


def assemble_indicators(
    working_cells: pd.DataFrame,
    policy_organisations: pd.DataFrame,
    catalogue: pd.DataFrame,
    reference: Reference,
    submission_dates: pd.DataFrame,
    policy_documents: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """London's indicators (survey and policy rows) and their change between consecutive waves.

    `working_cells`: every wave's `indicator_cells` (true values, sd and the disclosure decision).
    `submission_dates`: each wave's first and last submission date (`survey_periods_sql`).
    `policy_documents`: the audited documents, whose years give the audit's period.
    Returns (indicators, indicator_changes): the survey cells blanked where suppressed, with the
    policy audit's cells (organisations, not people: no small-number control), each row with its
    source, period, period_start and period_end; the changes are between survey waves only.
    """
    survey = working_cells.copy()
    hidden = survey["suppressed"].astype(bool).to_numpy()
    for column in ("value", "lower_ci", "upper_ci", "sd"):
        survey.loc[hidden, column] = float("nan")
    survey["n"] = survey["n"].astype("Int64")
    survey["numerator"] = survey["numerator"].astype("Int64")
    survey.loc[hidden, ["n", "numerator"]] = pd.NA
    survey.loc[hidden, "comparison"] = "not compared"
    waves = sorted(set(survey["wave"]))
    survey = survey.merge(survey_periods(submission_dates, waves), on="wave", how="left", validate="many_to_one")
    policy = policy_cells(policy_organisations, catalogue, reference).assign(suppressed=False, suppression_reason=None)
    period, start, end = policy_period(policy_documents)
    policy = policy.assign(source=POLICY, period=period, period_start=start, period_end=end)
    parts = [p for p in (survey, policy) if len(p)]
    both = pd.concat(parts, ignore_index=True)[INDICATOR_COLUMNS] if parts else survey[INDICATOR_COLUMNS]
    for column in ("period_start", "period_end"):  # dates or None (a DATE column), never NaT or NaN
        both[column] = pd.Series([as_date(d) for d in both[column]], index=both.index, dtype=object)
    indicators = both.sort_values(INDICATOR_ORDER).reset_index(drop=True)
    return indicators, indicator_changes(survey, catalogue, waves)


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(CELL_ORDER).reset_index(drop=True)
