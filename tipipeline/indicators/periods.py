"""The source and period of every row of the `indicators` table (docs/DESIGN.md, "The indicators
table: sources and periods").

- `survey`: a staff survey wave. `period` is the wave id; `period_start` and `period_end` are the
  first and last submission dates of the wave's accepted responses (`stg_respondents`), empty when
  the exports carry no submission date. `wave` is the wave.
- `policy_audit`: the policy-document audit, which describes organisations, not a wave. Its input
  records no audit date or audit round, only each document's year, so the period is the span of the
  audited documents' years: `period` 'documents 2019-2024' ('documents 2024' for a single year),
  `period_start` 1 January of the earliest year, `period_end` 31 December of the latest. With no
  document year given: 'documents, year not given' and no dates. `wave` is empty.
- `outcome`: recorded violence in the 12 whole months before or after a wave's fieldwork
  (`outcome_indicators`). `period` is '<wave> before' or '<wave> after', the dates are the first and
  last day of those 12 months, and `wave` is the wave they are aligned with. These rows join the
  table when the baseline is published (tipipeline/registry/published.yaml): the working
  table cannot hold them, because `evidence_base` reads its survey rows to build them. Areas an
  outcome source does not cover (the City of London, not policed by the MPS) have no row there;
  `outcome_indicators` lists them as not covered.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

SURVEY, POLICY, OUTCOME = "survey", "policy_audit", "outcome"
SOURCES = (SURVEY, POLICY, OUTCOME)
PERIOD_COLUMNS = ["source", "period", "period_start", "period_end"]


def as_date(value) -> dt.date | None:
    """A date (never a time of day), or None for a missing value. DuckDB hands DATE columns to
    pandas as timestamps; the tables hold dates."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def survey_periods_sql(respondents: str = "stg_respondents") -> str:
    """Each wave's first and last submission date, over its accepted respondents."""
    return (
        "SELECT wave, min(submitted_date) AS period_start, max(submitted_date) AS period_end "
        f"FROM {respondents} GROUP BY wave ORDER BY wave"
    )


def survey_periods(first_and_last: pd.DataFrame, waves: list[str]) -> pd.DataFrame:
    """One row per wave in `waves`: source, period (the wave id), period_start, period_end and wave.

    `first_and_last`: the result of `survey_periods_sql` (wave, period_start, period_end). A wave
    missing from it, or whose exports have no submission date, gets no dates."""
    known = {
        row.wave: (as_date(row.period_start), as_date(row.period_end)) for row in first_and_last.itertuples(index=False)
    }
    rows = [(SURVEY, wave, *known.get(wave, (None, None)), wave) for wave in sorted(waves)]
    return pd.DataFrame(rows, columns=[*PERIOD_COLUMNS, "wave"])


def policy_period(documents: pd.DataFrame) -> tuple[str, dt.date | None, dt.date | None]:
    """(period, period_start, period_end) of the policy audit, from its documents' years."""
    years = sorted({int(y) for y in documents["year"].dropna()}) if len(documents) else []
    if not years:
        return "documents, year not given", None, None
    first, last = years[0], years[-1]
    label = f"documents {first}" if first == last else f"documents {first}-{last}"
    return label, dt.date(first, 1, 1), dt.date(last, 12, 31)
