"""Schemas of the policy-audit tables."""

from __future__ import annotations

import json
import typing

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from tipipeline.schemas.base import RowAccounting, StrictModel

ORG_ID = r"^E(09|23|54)\d{6}$"
DOCUMENT_ID = r"^[0-9a-f]{16}$"


class AuditCodings(StrictModel):
    """Accepted audit rows. Score columns (score_<principle>) are 0, 1 or 2."""

    source_file: Series[str]
    source_row: Series[int] = pa.Field(ge=1)
    org_id: Series[str] = pa.Field(str_matches=ORG_ID)
    document_id: Series[str] = pa.Field(str_matches=DOCUMENT_ID)
    document_title: Series[str] = pa.Field(str_length={"min_value": 1})
    document_type: Series[str] = pa.Field(nullable=True)
    year: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1990, le=2100)
    url: Series[str] = pa.Field(nullable=True)
    coder: Series[str] = pa.Field(str_length={"min_value": 1})
    # One score_<principle> column per principle of the framework (data, not code): named by a
    # pattern, so the model stays strict. Their values are checked together below.
    scores: Series[typing.Any] = pa.Field(alias=r"^score_[a-z0-9_]+$", regex=True)

    @pa.dataframe_check
    def scores_are_0_1_2(cls, df):
        scores = df.filter(like="score_")
        return scores.isin([0, 1, 2]).all(axis=1) & (scores.shape[1] > 0)

    @pa.dataframe_check
    def one_row_per_document_and_coder(cls, df):
        return ~df.duplicated(["document_id", "coder"], keep=False)


class PolicyDocuments(StrictModel):
    document_id: Series[str] = pa.Field(str_matches=DOCUMENT_ID, unique=True)
    org_id: Series[str] = pa.Field(str_matches=ORG_ID)
    document_title: Series[str]
    document_type: Series[str] = pa.Field(nullable=True)
    year: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    url: Series[str] = pa.Field(nullable=True)
    coders: Series[int] = pa.Field(ge=0)
    has_consensus: Series[bool]
    principles_scored: Series[int] = pa.Field(ge=0)
    principles_unresolved: Series[int] = pa.Field(ge=0)
    comprehensiveness: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    strength: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    promising_practice_candidate: Series[bool]

    @pa.dataframe_check
    def strength_within_comprehensiveness(cls, df):
        return (df["strength"] <= df["comprehensiveness"]) | df["strength"].isna()


class PolicyDocumentScores(StrictModel):
    document_id: Series[str] = pa.Field(str_matches=DOCUMENT_ID)
    principle: Series[str]
    score: Series[pd.Int64Dtype] = pa.Field(nullable=True, isin=[0, 1, 2])
    resolution: Series[str] = pa.Field(isin=["single_coder", "coders_agree", "consensus", "unresolved"])

    @pa.dataframe_check
    def unresolved_iff_no_score(cls, df):
        return (df["resolution"] == "unresolved") == df["score"].isna()


class PolicyUnresolved(StrictModel):
    document_id: Series[str] = pa.Field(str_matches=DOCUMENT_ID)
    org_id: Series[str] = pa.Field(str_matches=ORG_ID)
    document_title: Series[str]
    principle: Series[str]
    scores_given: Series[str]

    @pa.check("scores_given")
    def at_least_two_different_scores(cls, series):
        return series.map(lambda s: len(set(json.loads(s).values())) >= 2)


class CoderAgreement(StrictModel):
    principle: Series[str] = pa.Field(unique=True)
    double_coded_documents: Series[int] = pa.Field(ge=0)
    ratings_compared: Series[int] = pa.Field(ge=0)
    percent_agreement: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    kappa: Series[float] = pa.Field(nullable=True, ge=-1, le=1)
    weighted_kappa_linear: Series[float] = pa.Field(nullable=True, ge=-1, le=1)


class PolicyOrganisations(StrictModel):
    org_id: Series[str] = pa.Field(str_matches=ORG_ID, unique=True)
    documents: Series[int] = pa.Field(ge=1)
    principles_scored: Series[int] = pa.Field(ge=0)
    comprehensiveness: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    strength: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    mean_document_comprehensiveness: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    mean_document_strength: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    promising_practice_candidates: Series[int] = pa.Field(ge=0)


class PolicyPrinciples(StrictModel):
    org_id: Series[str] = pa.Field(str_matches=ORG_ID)
    principle: Series[str]
    principle_name: Series[str]
    best_score: Series[pd.Int64Dtype] = pa.Field(nullable=True, isin=[0, 1, 2])
    status: Series[str] = pa.Field(isin=["not addressed", "addressed", "addressed strongly", "not settled"])
    documents_scored: Series[int] = pa.Field(ge=0)
    documents_unsettled: Series[int] = pa.Field(ge=0)
    documents_addressing: Series[int] = pa.Field(ge=0)
    documents_strong: Series[int] = pa.Field(ge=0)

    @pa.dataframe_check
    def one_row_per_organisation_and_principle(cls, df):
        return ~df.duplicated(["org_id", "principle"], keep=False)


class AuditQuarantine(StrictModel):
    source_file: Series[str]
    source_row: Series[int] = pa.Field(ge=1)
    column: Series[object] = pa.Field(nullable=True)
    value: Series[object] = pa.Field(nullable=True)
    reason: Series[str] = pa.Field(str_length={"min_value": 1})


class AuditDataQuality(RowAccounting):
    source_file: Series[str] = pa.Field(unique=True)
    file_format: Series[str]
