"""Schemas of the practice library's tables (issue 16)."""

from __future__ import annotations

import json

import pandas as pd

from tipipeline.practice.config import load_library_config
from tipipeline.schemas.models import dataframe_check, model, vocabulary

_CONFIG = load_library_config()
# Named by the registry's `isin:`; the values are the library's configuration (library.yaml).
vocabulary("review_state", _CONFIG.review_states)
vocabulary("evidence_level", _CONFIG.level_names)


def _json_lists(values: pd.Series) -> pd.Series:
    return values.map(lambda v: isinstance(json.loads(v), list))


@dataframe_check
def lists_are_json(df):
    return _json_lists(df["borough_codes"]) & _json_lists(df["principles"]) & _json_lists(df["domains"])


@dataframe_check
def shown_only_when_published_with_consent_and_screened(df):
    allowed = (df["state"] == _CONFIG.published_state) & df["consent"] & (df["pii_findings"] == "")
    return ~df["shown"] | allowed


StgPracticeSubmissions = model("stg_practice_submissions")
PracticeReviews = model("practice_reviews")
PracticeQuarantine = model("practice_quarantine")
PracticeExclusions = model("practice_exclusions")
PracticeDataQuality = model("practice_data_quality")
PracticeEntryStatus = model("practice_entry_status")
PracticeLibrary = model("practice_library")
PracticeStatusSummary = model("practice_status_summary")
