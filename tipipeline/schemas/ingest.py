"""Schemas of the survey staging tables. Strict: an unexpected column fails validation, which is
what stops an identifying column from ever reaching the warehouse by accident."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from tipipeline.ingest.ledger import EXCLUSION_RULES
from tipipeline.schemas.base import RowAccounting, StrictModel

PSEUDONYM = r"^[0-9a-f]{32}$"
# Row-wise checks of the big staging frames say ignore_na=False: with pandera's default it ORs each
# check's result with "every cell of the row is missing", computed over the whole frame for every
# check (60 such checks took 1.4 s of 1.6 s on 100,000 wide rows). No row of these frames is
# wholly missing (their identifiers are required), so the answer is the same.


class StgRespondents(StrictModel):
    wave: Series[str]
    respondent_id: Series[str] = pa.Field(str_matches=PSEUDONYM)
    source_file: Series[str]
    source_row: Series[int] = pa.Field(ge=1)
    submitted_date: Series[object] = pa.Field(nullable=True)
    org_id: Series[str] = pa.Field(str_matches=r"^E(09|23|54)\d{6}$")
    sector: Series[str] = pa.Field(isin=["council", "police", "health"])
    borough_code: Series[str] = pa.Field(nullable=True, str_matches=r"^E09000\d{3}$")
    bcu_code: Series[str] = pa.Field(nullable=True, str_matches=r"^[A-Z]{2}$")
    icb_code: Series[str] = pa.Field(nullable=True, str_matches=r"^E54\d{6}$")
    role: Series[str] = pa.Field(nullable=True)
    service_area: Series[str] = pa.Field(nullable=True)
    ti_training_12m: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    willing_to_share: Series[pd.BooleanDtype] = pa.Field(nullable=True)

    @pa.check("submitted_date")
    def dates_only(cls, series):
        # A date, never a time of day: timestamps are coarsened at read.
        return series.map(lambda v: v is None or (isinstance(v, dt.date) and not isinstance(v, dt.datetime)))

    @pa.dataframe_check(ignore_na=False)
    def one_row_per_respondent(cls, df):
        return ~df.duplicated(["wave", "respondent_id"], keep=False)

    @pa.dataframe_check(ignore_na=False)
    def police_have_a_bcu_or_none_is_known(cls, df):
        return (df["sector"] == "police") | df["bcu_code"].isna()


class StgResponses(StrictModel):
    wave: Series[str]
    respondent_id: Series[str] = pa.Field(str_matches=PSEUDONYM)
    item_id: Series[str]
    domain: Series[str]
    principle: Series[str]
    value: Series[float] = pa.Field(nullable=True)
    scored_value: Series[float] = pa.Field(nullable=True)
    missing_reason: Series[object] = pa.Field(nullable=True)

    @pa.dataframe_check
    def missing_reason_iff_no_value(cls, df):
        return df["value"].isna() == df["missing_reason"].notna()


def answers_schema(codebook) -> pa.DataFrameSchema:
    """The wide answers of a wave (before the long form is made in DuckDB), from the codebook:
    each item's value is on its scale or missing, and each missing code is a known one."""
    from tipipeline.ingest.long_form import ANSWERED_CODE, missing_codes

    codes = [ANSWERED_CODE, *missing_codes(codebook)["code"].tolist()]
    columns = {
        "wave": pa.Column(str),
        "respondent_id": pa.Column(str, pa.Check.str_matches(PSEUDONYM), unique=True),
    }
    for item in codebook.items:
        scale = codebook.scales[item.scale]
        columns[f"v__{item.id}"] = pa.Column(float, pa.Check.in_range(scale.minimum, scale.maximum), nullable=True)
        columns[f"m__{item.id}"] = pa.Column("int8", pa.Check.isin(codes))
    checks = [
        pa.Check(
            lambda df, i=item.id: df[f"v__{i}"].isna() == (df[f"m__{i}"] != ANSWERED_CODE),
            name=f"{item.id}_missing_code_iff_no_value",
            ignore_na=False,
        )
        for item in codebook.items
    ]
    return pa.DataFrameSchema(columns, checks=checks, strict=True, name="StgAnswersWide")


class RestrictedFreeText(StrictModel):
    wave: Series[str]
    respondent_id: Series[str] = pa.Field(str_matches=PSEUDONYM)
    field: Series[str]
    text: Series[str] = pa.Field(str_length={"min_value": 1})


class SurveyQuarantine(StrictModel):
    wave: Series[str]
    source_file: Series[str]
    source_row: Series[int] = pa.Field(ge=1)
    column: Series[object] = pa.Field(nullable=True)
    value: Series[object] = pa.Field(nullable=True)
    reason: Series[str] = pa.Field(str_length={"min_value": 1})


class SurveyExclusions(StrictModel):
    wave: Series[str]
    source_file: Series[str]
    source_row: Series[int] = pa.Field(ge=1)
    rule: Series[str] = pa.Field(isin=EXCLUSION_RULES)
    detail: Series[str]


class SurveyDataQuality(RowAccounting):
    wave: Series[str]
    file_format: Series[str]
    encoding: Series[str]
    header_rows: Series[int] = pa.Field(ge=1)
    identifying_columns_dropped: Series[str]

    @pa.dataframe_check
    def exclusions_add_up(cls, df):
        return df["excluded_by_rule"].map(lambda s: sum(json.loads(s).values())) == df["rows_excluded"]


class CodebookItems(StrictModel):
    item_id: Series[str] = pa.Field(unique=True)
    column: Series[str] = pa.Field(unique=True)
    text: Series[str]
    domain: Series[str]
    principle: Series[str]
    scale: Series[str]
    reverse: Series[bool]
