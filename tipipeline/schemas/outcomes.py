"""Schemas of the outcome tables (violence outcomes, population, and their link to practice)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from tipipeline.schemas.base import StrictModel

BOROUGH = r"^E09\d{6}$"


class OutcomeMeasures(StrictModel):
    """Offences per outcome measure, borough and month (0 where a release has no row)."""

    measure_id: Series[str]
    measure_name: Series[str]
    gss_code: Series[str] = pa.Field(str_matches=BOROUGH)
    borough_name: Series[str]
    month: Series[object]
    count: Series[int] = pa.Field(ge=0)
    source_file: Series[str]
    layout: Series[str]

    @pa.dataframe_check
    def one_row_per_measure_borough_month(cls, df):
        return ~df.duplicated(["measure_id", "gss_code", "month"], keep=False)


class OutcomeUnmapped(StrictModel):
    """Borough offences in categories no outcome measure takes (known: listed as not measured)."""

    source_file: Series[str]
    layout: Series[str]
    family: Series[str]
    major_category: Series[str] = pa.Field(nullable=True)
    minor_category: Series[str] = pa.Field(nullable=True)
    category_key: Series[str]
    known: Series[bool]
    cells: Series[int] = pa.Field(ge=0)
    count: Series[int] = pa.Field(ge=0)


class OutcomeSupply(StrictModel):
    """Which release supplied each month, and which it superseded."""

    month: Series[object] = pa.Field(unique=True)
    source_file: Series[str]
    layout: Series[str]
    superseded_files: Series[str] = pa.Field(nullable=True)


class FingertipsValues(StrictModel):
    """OHID Fingertips values as published, for the London boroughs, London and England."""

    indicator_id: Series[int]
    indicator_name: Series[str]
    area_code: Series[str]
    area_name: Series[str]
    area_type: Series[str]
    sex: Series[str] = pa.Field(nullable=True)
    age: Series[str] = pa.Field(nullable=True)
    time_period: Series[str]
    period_start_year: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    period_end_year: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    time_period_sortable: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    value: Series[pd.Float64Dtype] = pa.Field(nullable=True)
    lower_ci95: Series[pd.Float64Dtype] = pa.Field(nullable=True)
    upper_ci95: Series[pd.Float64Dtype] = pa.Field(nullable=True)
    lower_ci998: Series[pd.Float64Dtype] = pa.Field(nullable=True)
    upper_ci998: Series[pd.Float64Dtype] = pa.Field(nullable=True)
    count: Series[pd.Float64Dtype] = pa.Field(nullable=True)
    denominator: Series[pd.Float64Dtype] = pa.Field(nullable=True)
    value_note: Series[str] = pa.Field(nullable=True)
    suppressed: Series[bool]
    compared_to_england: Series[str] = pa.Field(nullable=True)
    source_file: Series[str]
    source_row: Series[int] = pa.Field(ge=1)

    @pa.dataframe_check
    def a_blank_value_is_suppressed(cls, df):
        return df["value"].notna() | df["suppressed"]


class PopulationEstimates(StrictModel):
    """Residents per area and mid-year (ONS), all ages and 10-24."""

    area_code: Series[str]
    area_name: Series[str]
    geography: Series[str] = pa.Field(nullable=True)
    mid_year: Series[int] = pa.Field(ge=1981, le=2100)
    all_ages: Series[int] = pa.Field(ge=0)
    aged_10_24: Series[int] = pa.Field(ge=0)
    source_file: Series[str]
    source_sheet: Series[str] = pa.Field(nullable=True)
    source_row: Series[int] = pa.Field(ge=1)

    @pa.dataframe_check
    def young_people_are_part_of_all_ages(cls, df):
        return df["aged_10_24"] <= df["all_ages"]


class OutcomeDataQuality(StrictModel):
    """One row per outcome file: rows read = accepted + excluded, and (crime) where every offence went."""

    source: Series[str] = pa.Field(isin=["crime", "fingertips", "population", "unrecognised"])
    source_file: Series[str] = pa.Field(unique=True)
    sha256: Series[str] = pa.Field(str_matches=r"^[0-9a-f]{64}$")
    file_format: Series[str]
    rows_read: Series[int] = pa.Field(ge=0)
    rows_accepted: Series[int] = pa.Field(ge=0)
    rows_excluded: Series[int] = pa.Field(ge=0)
    excluded_by_rule: Series[str]
    accounting: Series[str]

    @pa.dataframe_check
    def every_row_is_accounted_for(cls, df):
        return df["rows_read"] == df["rows_accepted"] + df["rows_excluded"]


class OutcomeIndicators(StrictModel):
    """12-month counts and crude rates per 1,000 before and after each wave's fieldwork."""

    indicator_id: Series[str] = pa.Field(str_startswith="outcome_rate_")
    wave: Series[str]
    period: Series[str] = pa.Field(isin=["before", "after"])
    period_start: Series[object]
    period_end: Series[object]
    geography_level: Series[str] = pa.Field(isin=["borough", "bcu", "icb", "london"])
    geography_code: Series[str]
    geography_name: Series[str]
    sector: Series[object] = pa.Field(nullable=True)
    value: Series[float] = pa.Field(nullable=True, ge=0)
    lower_ci: Series[float] = pa.Field(nullable=True, ge=0)
    upper_ci: Series[float] = pa.Field(nullable=True, ge=0)
    n: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    numerator: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    comparison: Series[str]
    suppressed: Series[bool]
    suppression_reason: Series[object] = pa.Field(nullable=True)
    measure_id: Series[str]
    population_group: Series[str]
    count: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    population: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    population_mid_year: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    boroughs: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    ci_method: Series[str] = pa.Field(nullable=True)
    coverage: Series[str]
    coverage_note: Series[str] = pa.Field(nullable=True)
    classifications: Series[str]

    @pa.dataframe_check
    def interval_contains_the_rate(cls, df):
        rated = df["value"].notna()
        return ~rated | ((df["lower_ci"] <= df["value"]) & (df["value"] <= df["upper_ci"]))

    @pa.dataframe_check
    def one_cell_per_indicator_wave_period_area(cls, df):
        return ~df.duplicated(["indicator_id", "wave", "period", "geography_level", "geography_code"], keep=False)


class PracticeOutcomes(StrictModel):
    """Per borough, wave and outcome indicator: the partners' index beside the outcome rates."""

    wave: Series[str]
    gss_code: Series[str] = pa.Field(str_matches=BOROUGH)
    borough_name: Series[str]
    council_index: Series[float] = pa.Field(nullable=True, ge=1, le=5)
    council_index_n: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    council_index_suppressed: Series[bool]
    bcu_code: Series[str] = pa.Field(nullable=True)
    bcu_name: Series[str] = pa.Field(nullable=True)
    bcu_index: Series[float] = pa.Field(nullable=True, ge=1, le=5)
    bcu_index_n: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    bcu_index_suppressed: Series[bool]
    icb_code: Series[str] = pa.Field(nullable=True)
    icb_name: Series[str] = pa.Field(nullable=True)
    icb_index: Series[float] = pa.Field(nullable=True, ge=1, le=5)
    icb_index_n: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    icb_index_suppressed: Series[bool]
    indicator_id: Series[str]
    measure_id: Series[str]
    population_group: Series[str]
    coverage: Series[str]
    before_start: Series[object] = pa.Field(nullable=True)
    before_end: Series[object] = pa.Field(nullable=True)
    rate_before: Series[float] = pa.Field(nullable=True, ge=0)
    lower_ci_before: Series[float] = pa.Field(nullable=True, ge=0)
    upper_ci_before: Series[float] = pa.Field(nullable=True, ge=0)
    count_before: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    comparison_before: Series[str] = pa.Field(nullable=True)
    after_start: Series[object] = pa.Field(nullable=True)
    after_end: Series[object] = pa.Field(nullable=True)
    rate_after: Series[float] = pa.Field(nullable=True, ge=0)
    lower_ci_after: Series[float] = pa.Field(nullable=True, ge=0)
    upper_ci_after: Series[float] = pa.Field(nullable=True, ge=0)
    count_after: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    comparison_after: Series[str] = pa.Field(nullable=True)
    rate_change: Series[float] = pa.Field(nullable=True)
    change_note: Series[object] = pa.Field(nullable=True)

    @pa.dataframe_check
    def a_withheld_index_is_never_shown(cls, df):
        return ~(df["council_index_suppressed"] & df["council_index"].notna())


class PracticeOutcomeCorrelations(StrictModel):
    """Spearman's rho across boroughs between the council index and each outcome rate."""

    wave: Series[str]
    indicator_id: Series[str]
    measure_id: Series[str]
    population_group: Series[str]
    period: Series[str] = pa.Field(isin=["before", "after", "change"])
    index_indicator: Series[str]
    index_level: Series[str]
    rho: Series[float] = pa.Field(nullable=True, ge=-1, le=1)
    lower_ci: Series[float] = pa.Field(nullable=True, ge=-1, le=1)
    upper_ci: Series[float] = pa.Field(nullable=True, ge=-1, le=1)
    n: Series[int] = pa.Field(ge=0)
    method: Series[str]
    note: Series[str] = pa.Field(nullable=True)
    caveat: Series[str]


class OutcomeCoverage(StrictModel):
    """Per outcome measure, wave and period: months expected and present."""

    measure_id: Series[str]
    wave: Series[str]
    period: Series[str] = pa.Field(isin=["before", "after"])
    fieldwork_start: Series[object]
    fieldwork_end: Series[object]
    start_month: Series[object]
    end_month: Series[object]
    months_expected: Series[int] = pa.Field(ge=1)
    months_present: Series[int] = pa.Field(ge=0)
    missing_months: Series[str]
    complete: Series[bool]
    source_files: Series[str]

    @pa.dataframe_check
    def fieldwork_ends_after_it_starts(cls, df):
        return pd.to_datetime(df["fieldwork_start"]) <= pd.to_datetime(df["fieldwork_end"])

    @pa.dataframe_check
    def complete_means_every_month(cls, df):
        return ~df["complete"] | (df["months_present"] == df["months_expected"])


class OutcomeCatalogue(StrictModel):
    """The outcome indicators' metadata: every Fingertips field filled."""

    indicator_id: Series[str] = pa.Field(unique=True, str_startswith="outcome_rate_")
    name: Series[str] = pa.Field(str_length={"min_value": 1})
    definition: Series[str] = pa.Field(str_length={"min_value": 1})
    rationale: Series[str] = pa.Field(str_length={"min_value": 1})
    data_source: Series[str] = pa.Field(str_length={"min_value": 1})
    numerator: Series[str] = pa.Field(str_length={"min_value": 1})
    denominator: Series[str] = pa.Field(str_length={"min_value": 1})
    methodology: Series[str] = pa.Field(str_length={"min_value": 1})
    ci_method: Series[str] = pa.Field(str_length={"min_value": 1})
    disclosure_control: Series[str] = pa.Field(str_length={"min_value": 1})
    unit: Series[str] = pa.Field(str_length={"min_value": 1})
    value_type: Series[str] = pa.Field(str_length={"min_value": 1})
    frequency: Series[str] = pa.Field(str_length={"min_value": 1})
    measure: Series[str]
    subject_type: Series[str]
    subject_id: Series[str]
    population_group: Series[str]
    caveats: Series[str] = pa.Field(str_length={"min_value": 1})
    polarity: Series[str] = pa.Field(isin=["lower_is_better", "higher_is_better", "no_judgement"])
