"""Schemas of the survey staging tables. Strict: an unexpected column fails validation, which is
what stops an identifying column from ever reaching the warehouse by accident."""

from __future__ import annotations

import json

import pandera.pandas as pa

from tipipeline.ingest.ledger import EXCLUSION_RULES
from tipipeline.schemas.models import dataframe_check, model, vocabulary

PSEUDONYM = r"^[0-9a-f]{32}$"
vocabulary("exclusion_rule", EXCLUSION_RULES)
# Row-wise checks of the big staging frames say ignore_na=False: with pandera's default it ORs each
# check's result with "every cell of the row is missing", computed over the whole frame for every
# check (60 such checks took 1.4 s of 1.6 s on 100,000 wide rows). No row of these frames is
# wholly missing (their identifiers are required), so the answer is the same.


@dataframe_check(ignore_na=False)
def police_have_a_bcu_or_none_is_known(df):
    return (df["sector"] == "police") | df["bcu_code"].isna()


@dataframe_check
def missing_reason_iff_no_value(df):
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


@dataframe_check
def exclusions_add_up(df):
    return df["excluded_by_rule"].map(lambda s: sum(json.loads(s).values())) == df["rows_excluded"]


StgRespondents = model("stg_respondents")
StgResponses = model("stg_responses")
RestrictedFreeText = model("restricted_free_text")
SurveyQuarantine = model("survey_quarantine")
SurveyExclusions = model("survey_exclusions")
SurveyDataQuality = model("survey_data_quality")
CodebookItems = model("codebook_items")
