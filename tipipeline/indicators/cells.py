"""Indicator cells: one row per indicator x wave x geography, with value, 95% CI, n and the
comparison with London. Aggregation runs in DuckDB; intervals are computed per cell here."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd

from tipipeline.reference import LONDON_CODE, Reference
from tipipeline.stats.comparison import NOT_COMPARED, compare_with_london
from tipipeline.stats.exact import Moments, exact_mean
from tipipeline.stats.intervals import t_half_width, wilson_interval

SECTOR_NAMES = {"council": "Councils", "police": "Police (Metropolitan Police Service)", "health": "Health (ICBs)"}
CELL_COLUMNS = [
    "indicator_id",
    "wave",
    "geography_level",
    "geography_code",
    "geography_name",
    "sector",
    "value",
    "lower_ci",
    "upper_ci",
    "n",
    "numerator",
    "comparison",
]

# (level, code column, filter): the geographies each survey indicator is published for.
LEVELS = [
    ("london", f"'{LONDON_CODE}'", "TRUE"),
    ("sector", "sector", "TRUE"),
    ("organisation", "org_id", "TRUE"),
    ("borough", "borough_code", "sector = 'council'"),
    ("bcu", "bcu_code", "sector = 'police' AND bcu_code IS NOT NULL"),
    ("icb", "icb_code", "sector = 'health'"),
]


def aggregates_sql(measures: str = "respondent_measures", respondents: str = "stg_respondents") -> str:
    """Whole-number sums per measure x wave x geography x score denominator: n, the sum and the sum of
    squares of the score numerators, and how many agree (combined exactly by `combine_aggregates`)."""
    selects = []
    for level, code, condition in LEVELS:
        sector = "NULL" if level == "london" else "sector"
        selects.append(f"""
        SELECT wave, measure_type, measure_id, '{level}' AS geography_level, {code} AS geography_code,
               {sector} AS sector, score_denominator, count(*) AS n,
               CAST(sum(score_numerator) AS VARCHAR) AS numerator_sum,
               CAST(sum(CAST(score_numerator AS HUGEINT) * score_numerator) AS VARCHAR) AS square_sum,
               sum(agree) AS agrees
        FROM m WHERE {condition}
        GROUP BY wave, measure_type, measure_id, {code}{", sector" if sector != "NULL" else ""}, score_denominator""")
    return (
        f"WITH m AS (SELECT s.*, r.org_id, r.sector, r.borough_code, r.bcu_code, r.icb_code "
        f"FROM {measures} AS s JOIN {respondents} AS r USING (wave, respondent_id))" + " UNION ALL ".join(selects)
    )


AGGREGATE_KEY = ["wave", "measure_type", "measure_id", "geography_level", "geography_code", "sector"]


def combine_aggregates(partial: pd.DataFrame) -> pd.DataFrame:
    """One row per cell: n, mean, sd, total (the sum of the scores) and agrees, from the per-denominator
    sums, computed exactly and rounded once (the same bits whatever order the rows were added in)."""
    cells: dict[tuple, tuple[Moments, list[int]]] = {}
    for part in partial.itertuples(index=False):
        key = tuple(None if pd.isna(value) else value for value in (getattr(part, k) for k in AGGREGATE_KEY))
        moments, agrees = cells.setdefault(key, (Moments(), []))
        # Sums travel as text: a HUGEINT read into pandas would be rounded to a float.
        moments.add(part.n, int(part.numerator_sum), int(part.square_sum), part.score_denominator)
        if not pd.isna(part.agrees):
            agrees.append(int(part.agrees))
    rows = [
        {
            **dict(zip(AGGREGATE_KEY, key)),
            "n": m.n,
            "mean": m.mean,
            "sd": m.sd,
            "total": float(m.total),
            "agrees": sum(agrees) if agrees else None,
        }
        for key, (m, agrees) in sorted(cells.items(), key=lambda item: tuple(str(v) for v in item[0]))
    ]
    return pd.DataFrame(rows, columns=[*AGGREGATE_KEY, "n", "mean", "sd", "total", "agrees"])


def aggregate_cells(
    conn: duckdb.DuckDBPyConnection, measures: str = "respondent_measures", respondents: str = "stg_respondents"
) -> pd.DataFrame:
    """`aggregates_sql` run in the warehouse and combined exactly, one row per cell."""
    return combine_aggregates(conn.execute(aggregates_sql(measures, respondents)).df())


def aggregate(measures: pd.DataFrame, respondents: pd.DataFrame) -> pd.DataFrame:
    """`aggregate_cells` over DataFrames (tests and small data)."""
    with duckdb.connect(config={"python_enable_replacements": False}) as conn:
        conn.register("respondent_measures", measures)
        conn.register("stg_respondents", respondents)
        return aggregate_cells(conn)


def geography_names(reference: Reference) -> dict[tuple[str, str], str]:
    names = {("london", LONDON_CODE): "London"}
    names.update({("sector", k): v for k, v in SECTOR_NAMES.items()})
    names.update({("organisation", r.org_id): r.name for r in reference.organisations.itertuples()})
    names.update({("borough", r.gss_code): r.name for r in reference.boroughs.itertuples()})
    names.update({("bcu", r.bcu_code): r.name for r in reference.bcus.itertuples()})
    names.update({("icb", r.icb_code): r.name for r in reference.icbs.itertuples()})
    return names


def survey_cells(aggregates: pd.DataFrame, catalogue: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    """Value, CI, n and numerator per survey indicator cell (before disclosure control)."""
    rows = []
    names = geography_names(reference)
    by_subject = {}
    for spec in catalogue.itertuples():
        if spec.measure == "policy":
            continue
        measure_type = {"domain": "domain", "principle": "principle", "index": "index", "respondent": "respondent"}[
            spec.subject_type
        ]
        by_subject.setdefault((measure_type, spec.subject_id), []).append(spec)
    for agg in aggregates.itertuples():
        for spec in by_subject.get((agg.measure_type, agg.measure_id), []):
            n = int(agg.n)
            if spec.measure == "mean":
                value = agg.mean
                half = t_half_width(agg.sd, n)
                lower, upper, numerator = value - half, value + half, None
            else:
                numerator = int(agg.agrees if spec.measure == "agree" else agg.total)  # a count: exact
                low, high = wilson_interval(numerator, n)
                value, lower, upper = (100 * numerator / n if n else math.nan), 100 * low, 100 * high
            rows.append(
                {
                    "indicator_id": spec.indicator_id,
                    "wave": agg.wave,
                    "geography_level": agg.geography_level,
                    "geography_code": agg.geography_code,
                    "geography_name": names.get((agg.geography_level, agg.geography_code)),
                    "sector": agg.sector,
                    "value": value,
                    "lower_ci": lower,
                    "upper_ci": upper,
                    "n": n,
                    "numerator": numerator,
                    "sd": agg.sd,
                }
            )
    cells = pd.DataFrame(rows, columns=[*CELL_COLUMNS[:-1], "sd"])
    cells["numerator"] = cells["numerator"].astype("Int64")
    return add_comparisons(cells, catalogue)


def policy_cells(organisations: pd.DataFrame, catalogue: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    """Policy comprehensiveness and strength per organisation, sector and London (no CI: a census).
    The audit is not a survey wave: `wave` is empty (its source and period: indicators/periods.py)."""
    orgs = organisations.merge(reference.organisations[["org_id", "name", "sector"]], on="org_id")
    rows = []
    for spec in catalogue[catalogue["measure"] == "policy"].itertuples():
        column = spec.subject_id
        for org in orgs.itertuples():
            rows.append(
                (
                    spec.indicator_id,
                    "organisation",
                    org.org_id,
                    org.name,
                    org.sector,
                    getattr(org, column),
                    int(org.documents),
                )
            )
        for sector, group in orgs.groupby("sector"):
            rows.append(
                (
                    spec.indicator_id,
                    "sector",
                    sector,
                    SECTOR_NAMES[sector],
                    sector,
                    exact_mean(group[column]),
                    len(group),
                )
            )
        if len(orgs):
            rows.append((spec.indicator_id, "london", LONDON_CODE, "London", None, exact_mean(orgs[column]), len(orgs)))
    cells = pd.DataFrame(
        rows, columns=["indicator_id", "geography_level", "geography_code", "geography_name", "sector", "value", "n"]
    )
    cells["wave"] = None
    cells["lower_ci"] = np.nan
    cells["upper_ci"] = np.nan
    cells["numerator"] = pd.array([pd.NA] * len(cells), dtype="Int64")
    cells["comparison"] = NOT_COMPARED
    cells["sd"] = np.nan
    return cells[[*CELL_COLUMNS, "sd"]]


def add_comparisons(cells: pd.DataFrame, catalogue: pd.DataFrame) -> pd.DataFrame:
    """Each cell's CI against London's value for the same indicator and wave (Fingertips rule)."""
    london = cells[cells["geography_level"] == "london"].set_index(["indicator_id", "wave"])["value"]
    polarity = catalogue.set_index("indicator_id")["polarity"]
    comparisons = []
    for cell in cells.itertuples():
        if cell.geography_level == "london":
            comparisons.append("London")
            continue
        comparisons.append(
            compare_with_london(
                cell.lower_ci, cell.upper_ci, london.get((cell.indicator_id, cell.wave)), polarity[cell.indicator_id]
            )
        )
    cells = cells.copy()
    cells["comparison"] = comparisons
    return cells
