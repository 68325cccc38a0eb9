"""Schemas of the London definition's tables (issue 15): the panel's staging tables and results."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from tipipeline.schemas.base import RowAccounting, StrictModel

PSEUDONYM = r"^[0-9a-f]{32}$"
CONSENSUS = ["in", "out", "none"]


class StgPanellists(StrictModel):
    """The panel, pseudonymised: no e-mail or name, only the group and borough."""

    panellist_id: Series[str] = pa.Field(str_matches=PSEUDONYM, unique=True)
    stakeholder_group: Series[str]
    borough_code: Series[str] = pa.Field(nullable=True, str_matches=r"^E09\d{6}$")
    source_row: Series[int] = pa.Field(ge=1)


class StgPanelInvitations(StrictModel):
    """Who was invited to each round (round 1: the whole panel)."""

    round: Series[int] = pa.Field(ge=1)
    panellist_id: Series[str] = pa.Field(str_matches=PSEUDONYM)

    @pa.dataframe_check
    def once_per_round(cls, df):
        return ~df.duplicated(["round", "panellist_id"], keep=False)


class StgPanelResponses(StrictModel):
    """Accepted responses: one per panellist and round."""

    round: Series[int] = pa.Field(ge=1)
    panellist_id: Series[str] = pa.Field(str_matches=PSEUDONYM)
    source_file: Series[str]
    source_row: Series[int] = pa.Field(ge=1)

    @pa.dataframe_check
    def one_response_per_round(cls, df):
        return ~df.duplicated(["round", "panellist_id"], keep=False)


class StgPanelRatings(StrictModel):
    """Each accepted response's rating of each statement in play (missing with a reason)."""

    round: Series[int] = pa.Field(ge=1)
    panellist_id: Series[str] = pa.Field(str_matches=PSEUDONYM)
    statement_id: Series[str]
    rating: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1)
    missing_reason: Series[str] = pa.Field(nullable=True, isin=["not_answered", "unable_to_rate"])

    @pa.dataframe_check
    def missing_iff_no_rating(cls, df):
        return df["rating"].isna() == df["missing_reason"].notna()


class DefinitionQuarantine(StrictModel):
    """Panel and round rows that could not be accepted, with file, row, column, value and reason."""

    round: Series[str]
    source_file: Series[str]
    source_row: Series[int] = pa.Field(ge=1)
    column: Series[str] = pa.Field(nullable=True)
    value: Series[str]
    reason: Series[str]


class DefinitionExclusions(StrictModel):
    """Round rows excluded by a documented rule."""

    round: Series[str]
    source_file: Series[str]
    source_row: Series[int] = pa.Field(ge=1)
    rule: Series[str] = pa.Field(
        isin=[
            "blank_row",
            "non_genuine_status",
            "partial_response",
            "not_invited",
            "no_ratings",
            "duplicate_submission",
        ]
    )
    detail: Series[str]


class DefinitionDataQuality(RowAccounting):
    """Per panel or round file: rows read = accepted + quarantined + excluded."""

    round: Series[str]


class DefinitionStatements(StrictModel):
    """Per statement x round x panel group: the ratings' summary and consensus."""

    statement_id: Series[str]
    round: Series[int] = pa.Field(ge=1)
    panel_group: Series[str]
    panellists: Series[int] = pa.Field(ge=0)
    n_rated: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    n_unable_to_rate: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    median: Series[float] = pa.Field(nullable=True)
    q1: Series[float] = pa.Field(nullable=True)
    q3: Series[float] = pa.Field(nullable=True)
    iqr: Series[float] = pa.Field(nullable=True, ge=0)
    pct_bottom: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    pct_middle: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    pct_top: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    ipr: Series[float] = pa.Field(nullable=True, ge=0)
    ipras: Series[float] = pa.Field(nullable=True)
    disagreement: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    consensus: Series[str] = pa.Field(nullable=True, isin=CONSENSUS)
    stable: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    stability_p: Series[float] = pa.Field(nullable=True, ge=0, le=1)
    suppressed: Series[bool]
    suppression_reason: Series[str]

    @pa.dataframe_check
    def suppressed_rows_have_no_values(cls, df):
        values = ["n_rated", "median", "pct_top", "pct_bottom", "consensus"]
        return ~df["suppressed"] | df[values].isna().all(axis=1)

    @pa.dataframe_check
    def one_row_per_key(cls, df):
        return ~df.duplicated(["statement_id", "round", "panel_group"], keep=False)


class PanelFlow(StrictModel):
    """Panellists invited and responding per round and group."""

    round: Series[int] = pa.Field(ge=1)
    panel_group: Series[str]
    invited: Series[int] = pa.Field(ge=0)
    responded: Series[int] = pa.Field(ge=0)
    response_rate_pct: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    responded_previous_round: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)

    @pa.dataframe_check
    def responders_were_invited(cls, df):
        return df["responded"] <= df["invited"]


class LondonDefinition(StrictModel):
    """The statements agreed in the final round, in the framework's order."""

    position: Series[int] = pa.Field(ge=1, unique=True)
    statement_id: Series[str] = pa.Field(unique=True)
    statement_text: Series[str]
    kind: Series[str] = pa.Field(isin=["principle", "practice", "boundary"])
    principle: Series[str] = pa.Field(nullable=True)
    principle_name: Series[str] = pa.Field(nullable=True)
    domain: Series[str] = pa.Field(nullable=True)
    domain_name: Series[str] = pa.Field(nullable=True)
    round: Series[int] = pa.Field(ge=1)
    n_rated: Series[int] = pa.Field(ge=1)
    pct_top: Series[float] = pa.Field(ge=0, le=100)
    median: Series[float]
    iqr: Series[float] = pa.Field(ge=0)
    stable: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    rewords: Series[str] = pa.Field(nullable=True)


class DefinitionFrameworkLinks(StrictModel):
    """Framework items and the agreed statements behind them; agreed statements outside it."""

    item_type: Series[str] = pa.Field(isin=["principle", "domain", "statement"])
    item_id: Series[str]
    item_name: Series[str]
    agreed_statements: Series[str]
    finding: Series[str] = pa.Field(
        isin=["supported", "no agreed statement", "agreed statement with no place in the framework"]
    )


class DefinitionProtocolTable(StrictModel):
    """The protocol the results were judged by, one setting per row."""

    setting: Series[str] = pa.Field(unique=True)
    value: Series[str]
