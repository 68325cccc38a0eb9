"""Schemas of the practice library's tables (issue 16)."""

from __future__ import annotations

import json

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from tipipeline.practice.config import load_library_config
from tipipeline.schemas.base import RowAccounting, StrictModel

_CONFIG = load_library_config()
STATES = list(_CONFIG.review_states)
LEVELS = list(_CONFIG.level_names)
SECTORS = ["council", "police", "health"]


def _json_lists(values: pd.Series) -> pd.Series:
    return values.map(lambda v: isinstance(json.loads(v), list))


class StgPracticeSubmissions(StrictModel):
    """Accepted submissions, screened: a free-text field the screen flags is stored as a notice."""

    submission_id: Series[str] = pa.Field(unique=True)
    source_file: Series[str]
    source_row: Series[int] = pa.Field(ge=1)
    submitted_at: Series[pd.Timestamp] = pa.Field(nullable=True)
    title: Series[str]
    org_id: Series[str]
    organisation: Series[str]
    sector: Series[str] = pa.Field(isin=SECTORS)
    bcu_code: Series[str] = pa.Field(nullable=True)
    area: Series[str]
    borough_codes: Series[str]
    service_area: Series[str]
    principles: Series[str]
    domains: Series[str]
    what_it_does: Series[str]
    who_it_is_for: Series[str]
    evidence_of_effect: Series[str]
    contact_role: Series[str]
    consent: Series[bool]
    pii_findings: Series[str]
    review_quarantined: Series[bool]

    @pa.dataframe_check
    def lists_are_json(cls, df):
        return _json_lists(df["borough_codes"]) & _json_lists(df["principles"]) & _json_lists(df["domains"])


class PracticeReviews(StrictModel):
    """Accepted review decisions (the reviewer stays in the working warehouse, never published)."""

    submission_id: Series[str]
    state: Series[str] = pa.Field(isin=STATES)
    reviewer: Series[str]
    reviewed_on: Series[pd.Timestamp]
    evidence_level: Series[str] = pa.Field(nullable=True, isin=LEVELS)
    evidence_reason: Series[str] = pa.Field(nullable=True)
    not_personal_data: Series[str]
    pii_findings: Series[str]
    source_file: Series[str]
    source_row: Series[int] = pa.Field(ge=1)


class PracticeQuarantine(StrictModel):
    """Submission and review rows that could not be accepted, with file, row, column and reason."""

    source_file: Series[str]
    source_row: Series[int] = pa.Field(ge=1)
    column: Series[str] = pa.Field(nullable=True)
    value: Series[str] = pa.Field(nullable=True)
    reason: Series[str]


class PracticeExclusions(StrictModel):
    """Rows excluded by a documented rule (blank_row, non_genuine_status, partial_response)."""

    source_file: Series[str]
    source_row: Series[int] = pa.Field(ge=1)
    rule: Series[str] = pa.Field(isin=["blank_row", "non_genuine_status", "partial_response"])
    detail: Series[str]


class PracticeDataQuality(RowAccounting):
    """Per submissions or reviews file: rows read = accepted + quarantined + excluded."""

    input: Series[str] = pa.Field(isin=["submissions", "reviews"])


class PracticeEntryStatus(StrictModel):
    """Per submission: state, consent, screen findings, shown or why not."""

    submission_id: Series[str] = pa.Field(unique=True)
    state: Series[str] = pa.Field(isin=STATES)
    reviewed_on: Series[pd.Timestamp] = pa.Field(nullable=True)
    consent: Series[bool]
    pii_findings: Series[str]
    shown: Series[bool]
    reason: Series[str]

    @pa.dataframe_check
    def shown_only_when_published_with_consent_and_screened(cls, df):
        allowed = (df["state"] == _CONFIG.published_state) & df["consent"] & (df["pii_findings"] == "")
        return ~df["shown"] | allowed


class PracticeLibrary(StrictModel):
    """The published library: only entries published, with consent, screened clear."""

    entry_id: Series[str] = pa.Field(unique=True)
    title: Series[str]
    org_id: Series[str]
    organisation: Series[str]
    sector: Series[str] = pa.Field(isin=SECTORS)
    bcu_code: Series[str] = pa.Field(nullable=True)
    area: Series[str]
    borough_codes: Series[str]
    service_area: Series[str]
    principles: Series[str]
    principle_names: Series[str]
    domains: Series[str]
    domain_names: Series[str]
    what_it_does: Series[str]
    who_it_is_for: Series[str]
    evidence_of_effect: Series[str]
    evidence_level: Series[str] = pa.Field(isin=LEVELS)
    evidence_level_name: Series[str]
    evidence_reason: Series[str]
    contact_role: Series[str]
    submitted_on: Series[pd.Timestamp] = pa.Field(nullable=True)
    published_on: Series[pd.Timestamp]


class PracticeStatusSummary(StrictModel):
    """Entries by state, consent, screen and reason (counts only: no titles)."""

    state: Series[str] = pa.Field(isin=STATES)
    consent: Series[bool]
    held_for_pii_review: Series[bool]
    shown: Series[bool]
    reason: Series[str]
    entries: Series[int] = pa.Field(ge=1)
