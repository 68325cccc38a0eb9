"""Schemas of the indicator tables."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from tipipeline.indicators.periods import POLICY, SOURCES, SURVEY
from tipipeline.schemas.base import StrictModel

LEVELS = ["london", "sector", "organisation", "borough", "bcu", "icb"]


class _Cells(StrictModel):
    """The columns and rules every published indicator cell shares."""

    indicator_id: Series[str]
    wave: Series[str]
    geography_level: Series[str] = pa.Field(isin=LEVELS)
    geography_code: Series[str]
    geography_name: Series[str]
    sector: Series[str] = pa.Field(nullable=True, isin=["council", "police", "health"])
    value: Series[float] = pa.Field(nullable=True)
    lower_ci: Series[float] = pa.Field(nullable=True)
    upper_ci: Series[float] = pa.Field(nullable=True)
    n: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    numerator: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    comparison: Series[str] = pa.Field(isin=["London", "similar", "higher", "lower", "better", "worse", "not compared"])
    suppressed: Series[bool]
    suppression_reason: Series[object] = pa.Field(nullable=True)

    @pa.dataframe_check
    def suppressed_cells_show_nothing(cls, df):
        hidden = df["suppressed"]
        return ~hidden | (
            df["value"].isna()
            & df["lower_ci"].isna()
            & df["upper_ci"].isna()
            & df["n"].isna()
            & df["numerator"].isna()
            & df["suppression_reason"].notna()
        )

    @pa.dataframe_check
    def published_cells_have_a_value(cls, df):
        return df["suppressed"] | df["value"].notna()

    @pa.dataframe_check
    def ci_contains_value(cls, df):
        has_ci = df["lower_ci"].notna() & df["upper_ci"].notna()
        return ~has_ci | ((df["lower_ci"] <= df["value"] + 1e-9) & (df["value"] <= df["upper_ci"] + 1e-9))


class SurveyIndicators(_Cells):
    """One wave's disclosure-controlled survey cells (`survey_indicators`)."""

    @pa.dataframe_check
    def one_row_per_cell(cls, df):
        return ~df.duplicated(["indicator_id", "wave", "geography_level", "geography_code"], keep=False)


def _is_date(value) -> bool:
    return value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime))


class Indicators(_Cells):
    """The `indicators` table: each row's source and period (tipipeline/indicators/periods.py). The
    working table holds the survey and policy rows; the published one adds the outcome rows."""

    source: Series[str] = pa.Field(isin=list(SOURCES))
    period: Series[str] = pa.Field(str_length={"min_value": 1})
    period_start: Series[object] = pa.Field(nullable=True)
    period_end: Series[object] = pa.Field(nullable=True)
    wave: Series[str] = pa.Field(nullable=True)

    @pa.check("period_start", "period_end")
    def dates_only(cls, series):
        return series.map(_is_date)

    @pa.dataframe_check
    def wave_empty_only_for_the_policy_audit(cls, df):
        # The audit is not a survey wave; survey and outcome rows always name theirs.
        return (df["source"] == POLICY) == df["wave"].isna()

    @pa.dataframe_check
    def a_survey_period_is_its_wave(cls, df):
        return (df["source"] != SURVEY) | (df["period"] == df["wave"])

    @pa.dataframe_check
    def period_starts_before_it_ends(cls, df):
        # Only dates are compared: anything else is dates_only's failure.
        return pd.Series(
            [
                not (_is_date(start) and _is_date(end)) or start is None or end is None or start <= end
                for start, end in zip(df["period_start"], df["period_end"])
            ],
            index=df.index,
        )

    @pa.dataframe_check
    def one_row_per_cell(cls, df):
        return ~df.duplicated(["indicator_id", "source", "period", "geography_level", "geography_code"], keep=False)


class Journey(StrictModel):
    org_id: Series[str]
    organisation: Series[str]
    sector: Series[str]
    domain: Series[str]
    domain_name: Series[str]
    wave: Series[str]
    stage_level: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0, le=4)
    stage: Series[str]
    score: Series[float] = pa.Field(nullable=True, ge=1, le=5)
    percent_agree: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    n: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1)
    policy_comprehensiveness: Series[float] = pa.Field(nullable=True)
    policy_strength: Series[float] = pa.Field(nullable=True)
    evidence: Series[str]
    next_step: Series[str]

    @pa.dataframe_check
    def one_row_per_organisation_domain_wave(cls, df):
        return ~df.duplicated(["org_id", "domain", "wave"], keep=False)


class IndicatorCells(StrictModel):
    """Working table: every survey cell with its true values and the disclosure decision (never published)."""

    indicator_id: Series[str]
    wave: Series[str]
    geography_level: Series[str] = pa.Field(isin=LEVELS)
    geography_code: Series[str]
    geography_name: Series[str]
    sector: Series[str] = pa.Field(nullable=True, isin=["council", "police", "health"])
    value: Series[float] = pa.Field(nullable=True)
    lower_ci: Series[float] = pa.Field(nullable=True)
    upper_ci: Series[float] = pa.Field(nullable=True)
    n: Series[int] = pa.Field(ge=0)
    numerator: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    comparison: Series[str]
    sd: Series[float] = pa.Field(nullable=True, ge=0)
    suppressed: Series[bool]
    suppression_reason: Series[str] = pa.Field(nullable=True)


class IndicatorCatalogue(StrictModel):
    indicator_id: Series[str] = pa.Field(unique=True)
    name: Series[str]
    definition: Series[str]
    rationale: Series[str]
    data_source: Series[str]
    numerator: Series[str]
    denominator: Series[str]
    methodology: Series[str]
    ci_method: Series[str]
    disclosure_control: Series[str]
    caveats: Series[str]
    unit: Series[str]
    value_type: Series[str]
    polarity: Series[str] = pa.Field(isin=["higher_is_better", "lower_is_better", "no_judgement"])
    frequency: Series[str]
    measure: Series[str] = pa.Field(isin=["mean", "agree", "proportion", "policy"])
    subject_type: Series[str]
    subject_id: Series[str]


class IndicatorChanges(StrictModel):
    indicator_id: Series[str]
    geography_level: Series[str] = pa.Field(isin=LEVELS)
    geography_code: Series[str]
    geography_name: Series[str]
    sector: Series[str] = pa.Field(nullable=True)
    from_wave: Series[str]
    to_wave: Series[str]
    change: Series[float] = pa.Field(nullable=True)
    lower_ci: Series[float] = pa.Field(nullable=True)
    upper_ci: Series[float] = pa.Field(nullable=True)
    significance: Series[str] = pa.Field(
        isin=["significant increase", "significant decrease", "no significant change", "not tested"]
    )
    suppressed: Series[bool]
    suppression_reason: Series[object] = pa.Field(nullable=True)

    @pa.dataframe_check
    def suppressed_changes_show_nothing(cls, df):
        return ~df["suppressed"] | (df["change"].isna() & df["lower_ci"].isna() & df["upper_ci"].isna())


class Reliability(StrictModel):
    wave: Series[str]
    domain: Series[str]
    items: Series[int] = pa.Field(ge=1)  # alpha is undefined (empty) for a one-item domain
    respondents_complete: Series[int] = pa.Field(ge=0)
    cronbach_alpha: Series[float] = pa.Field(nullable=True, le=1)


class JourneySummary(StrictModel):
    wave: Series[str]
    sector: Series[str]
    domain: Series[str]
    stage_level: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    stage: Series[str]
    organisations: Series[int] = pa.Field(ge=1)


class BoroughPartnership(StrictModel):
    borough_code: Series[str] = pa.Field(str_matches=r"^E09000\d{3}$")
    borough_name: Series[str]
    wave: Series[str]
    indicator_id: Series[str]
    bcu_code: Series[str] = pa.Field(nullable=True)
    icb_code: Series[str] = pa.Field(nullable=True)
    council_value: Series[float] = pa.Field(nullable=True)
    council_n: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    council_suppressed: Series[bool]
    council_note: Series[str] = pa.Field(nullable=True)
    police_value: Series[float] = pa.Field(nullable=True)
    police_n: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    police_suppressed: Series[bool]
    police_note: Series[str] = pa.Field(nullable=True)
    health_value: Series[float] = pa.Field(nullable=True)
    health_n: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    health_suppressed: Series[bool]
    health_note: Series[str] = pa.Field(nullable=True)

    @pa.dataframe_check
    def suppressed_sides_show_nothing(cls, df):
        ok = True
        for side in ("council", "police", "health"):
            ok = ok & (~df[f"{side}_suppressed"] | (df[f"{side}_value"].isna() & df[f"{side}_n"].isna()))
        return ok


class PromisingPractice(StrictModel):
    org_id: Series[str] = pa.Field(unique=True)
    organisation: Series[str]
    sector: Series[str]
    wave: Series[str] = pa.Field(nullable=True)
    candidate_documents: Series[int] = pa.Field(ge=0)
    candidate_document_titles: Series[str]
    percent_willing_to_share: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    willing_to_share_suppressed: Series[bool]
    promising_practice_candidate: Series[bool]
    reason: Series[str]
