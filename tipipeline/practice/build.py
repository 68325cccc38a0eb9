"""The practice library's two steps as the assets run them: read the folder; build the library."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tipipeline.framework import load_framework
from tipipeline.practice.config import load_library_config
from tipipeline.practice.library import entry_status, library_table, status_summary
from tipipeline.practice.submissions import (
    EXCLUSION_COLUMNS,
    ISSUE_COLUMNS,
    QUALITY_COLUMNS,
    REVIEW_COLUMNS,
    SUBMISSION_COLUMNS,
    PracticeInputs,
    read_practice_inputs,
)
from tipipeline.reference import load_reference


def read_practice_folder(folder: Path) -> PracticeInputs | None:
    """Read data/raw/practice/ with the packaged rules, framework and reference tables."""
    return read_practice_inputs(folder, load_library_config(), load_framework(), load_reference())


def _typed(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    frame = frame.reindex(columns=columns)
    for column in ("submitted_at", "reviewed_on"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column])
    for column in ("source_row", "rows_read", "rows_accepted", "rows_quarantined", "rows_excluded"):
        if column in frame:
            frame[column] = frame[column].astype("int64")
    for column in ("consent", "review_quarantined"):
        if column in frame:
            frame[column] = frame[column].astype(bool)
    return frame


def staging_frames(inputs: PracticeInputs | None) -> dict[str, pd.DataFrame]:
    """The staging tables (empty, with their columns, when there is no practice folder)."""
    empty = PracticeInputs(
        *(
            pd.DataFrame(columns=c)
            for c in (SUBMISSION_COLUMNS, REVIEW_COLUMNS, ISSUE_COLUMNS, EXCLUSION_COLUMNS, QUALITY_COLUMNS)
        )
    )
    inputs = inputs or empty
    return {
        "stg_practice_submissions": _typed(inputs.submissions, SUBMISSION_COLUMNS),
        "practice_reviews": _typed(inputs.reviews, REVIEW_COLUMNS),
        "practice_quarantine": _typed(inputs.quarantine, ISSUE_COLUMNS),
        "practice_exclusions": _typed(inputs.exclusions, EXCLUSION_COLUMNS),
        "practice_data_quality": _typed(inputs.data_quality, QUALITY_COLUMNS),
    }


def build_library(conn) -> dict[str, pd.DataFrame]:
    """The library's tables from the staging tables in the working warehouse."""
    config, framework = load_library_config(), load_framework()
    submissions = conn.execute("SELECT * FROM stg_practice_submissions ORDER BY submission_id").df()
    reviews = conn.execute("SELECT * FROM practice_reviews ORDER BY submission_id, reviewed_on, source_row").df()
    status = entry_status(submissions, reviews, config)
    return {
        "practice_entry_status": status,
        "practice_library": library_table(submissions, reviews, config, framework),
        "practice_status_summary": status_summary(status),
    }
