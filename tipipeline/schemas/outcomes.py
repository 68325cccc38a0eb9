"""Schemas of the outcome tables (violence outcomes, population, and their link to practice)."""

from __future__ import annotations

import pandas as pd

from tipipeline.schemas.models import dataframe_check, model


@dataframe_check
def a_blank_value_is_suppressed(df):
    return df["value"].notna() | df["suppressed"]


@dataframe_check
def young_people_are_part_of_all_ages(df):
    return df["aged_10_24"] <= df["all_ages"]


@dataframe_check
def every_row_is_accounted_for(df):
    return df["rows_read"] == df["rows_accepted"] + df["rows_excluded"]


@dataframe_check
def interval_contains_the_rate(df):
    rated = df["value"].notna()
    return ~rated | ((df["lower_ci"] <= df["value"]) & (df["value"] <= df["upper_ci"]))


@dataframe_check
def a_withheld_index_is_never_shown(df):
    return ~(df["council_index_suppressed"] & df["council_index"].notna())


@dataframe_check
def fieldwork_ends_after_it_starts(df):
    return pd.to_datetime(df["fieldwork_start"]) <= pd.to_datetime(df["fieldwork_end"])


@dataframe_check
def complete_means_every_month(df):
    return ~df["complete"] | (df["months_present"] == df["months_expected"])


OutcomeMeasures = model("outcome_measures")
OutcomeUnmapped = model("outcome_unmapped")
OutcomeSupply = model("outcome_supply")
FingertipsValues = model("fingertips_values")
PopulationEstimates = model("population_estimates")
OutcomeDataQuality = model("outcome_data_quality")
OutcomeIndicators = model("outcome_indicators")
PartnershipOutcomes = model("partnership_outcomes")
PartnershipOutcomeCorrelations = model("partnership_outcome_correlations")
OutcomeCoverage = model("outcome_coverage")
OutcomeCatalogue = model("outcome_catalogue")
