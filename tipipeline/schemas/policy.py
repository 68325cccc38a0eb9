"""Schemas of the policy-audit tables."""

from __future__ import annotations

import json

from tipipeline.schemas.models import column_check, dataframe_check, model


@dataframe_check
def scores_are_0_1_2(df):
    scores = df.filter(like="score_")
    return scores.isin([0, 1, 2]).all(axis=1) & (scores.shape[1] > 0)


@dataframe_check
def strength_within_comprehensiveness(df):
    return (df["strength"] <= df["comprehensiveness"]) | df["strength"].isna()


@dataframe_check
def unresolved_iff_no_score(df):
    return (df["resolution"] == "unresolved") == df["score"].isna()


@column_check
def at_least_two_different_scores(series):
    return series.map(lambda s: len(set(json.loads(s).values())) >= 2)


AuditCodings = model("audit_codings")
PolicyDocuments = model("policy_documents")
PolicyDocumentScores = model("policy_document_scores")
PolicyUnresolved = model("policy_unresolved")
CoderAgreement = model("coder_agreement")
PolicyOrganisations = model("policy_organisations")
PolicyPrinciples = model("policy_principles")
AuditQuarantine = model("audit_quarantine")
AuditDataQuality = model("audit_data_quality")
