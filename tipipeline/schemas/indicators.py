"""Schemas of the indicator tables."""

from __future__ import annotations

import pandas as pd

from tipipeline.indicators.periods import POLICY, SOURCES, SURVEY
from tipipeline.schemas.models import dataframe_check, is_date, model, vocabulary

vocabulary("indicator_source", SOURCES)


@dataframe_check
def suppressed_cells_show_nothing(df):
    hidden = df["suppressed"]
    return ~hidden | (
        df["value"].isna()
        & df["lower_ci"].isna()
        & df["upper_ci"].isna()
        & df["n"].isna()
        & df["numerator"].isna()
        & df["suppression_reason"].notna()
    )


@dataframe_check
def published_cells_have_a_value(df):
    return df["suppressed"] | df["value"].notna()


@dataframe_check
def ci_contains_value(df):
    has_ci = df["lower_ci"].notna() & df["upper_ci"].notna()
    return ~has_ci | ((df["lower_ci"] <= df["value"] + 1e-9) & (df["value"] <= df["upper_ci"] + 1e-9))


@dataframe_check
def wave_empty_only_for_the_policy_audit(df):
    # The audit is not a survey wave; survey and outcome rows always name theirs.
    return (df["source"] == POLICY) == df["wave"].isna()


@dataframe_check
def a_survey_period_is_its_wave(df):
    return (df["source"] != SURVEY) | (df["period"] == df["wave"])


@dataframe_check
def period_starts_before_it_ends(df):
    # Only dates are compared: anything else is dates_only's failure.
    return pd.Series(
        [
            not (is_date(start) and is_date(end)) or start is None or end is None or start <= end
            for start, end in zip(df["period_start"], df["period_end"])
        ],
        index=df.index,
    )


@dataframe_check
def suppressed_changes_show_nothing(df):
    return ~df["suppressed"] | (df["change"].isna() & df["lower_ci"].isna() & df["upper_ci"].isna())


@dataframe_check
def suppressed_sides_show_nothing(df):
    ok = True
    for side in ("council", "police", "health"):
        ok = ok & (~df[f"{side}_suppressed"] | (df[f"{side}_value"].isna() & df[f"{side}_n"].isna()))
    return ok


SurveyIndicators = model("survey_indicators")
Indicators = model("indicators")
Journey = model("journey")
IndicatorCells = model("indicator_cells")
IndicatorCatalogue = model("indicator_catalogue")
IndicatorChanges = model("indicator_changes")
Reliability = model("reliability")
JourneySummary = model("journey_summary")
BoroughPartnership = model("borough_partnership")
PromisingPractice = model("promising_practice")
