"""Every raw row's fate, and the accounting that says nothing is lost: a row is accepted,
quarantined (each problem kept, with the file, row, column and reason) or excluded by a documented
rule (the first rule that applies). Shared by every reader of survey-tool exports: staff survey
waves, the definition panel's rounds and the practice library's submissions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tipipeline import registry

if TYPE_CHECKING:
    from tipipeline.ingest.raw_export import RawExport

VALUE_PREVIEW_CHARS = 200

EXCLUSION_RULES = [
    "blank_row",
    "non_genuine_status",
    "partial_response",
    "no_consent",
    "duplicate_submission",
    "duplicate_response_id",
]
# Where a file's rows went, in every reader's data-quality table (each names the registry's
# every_row_accounted_for check).
ROW_COUNT_COLUMNS = ["rows_read", "rows_accepted", "rows_quarantined", "rows_excluded", "excluded_by_rule"]
QUARANTINE_COLUMNS = registry.table("survey_quarantine").names
EXCLUSION_COLUMNS = registry.table("survey_exclusions").names
# Types fixed here so that an empty table (a wave with nothing quarantined) has the same columns.
QUARANTINE_DTYPES = {
    "wave": "object",
    "source_file": "object",
    "source_row": "int64",
    "column": "object",
    "value": "object",
    "reason": "object",
}
EXCLUSION_DTYPES = {
    "wave": "object",
    "source_file": "object",
    "source_row": "int64",
    "rule": "object",
    "detail": "object",
}


def safe_value(value) -> str:
    """A cell as it may be stored in quarantine: shortened, and never a multi-line value, which
    can hold other respondents' cells when a stray quote has merged rows."""
    text = str(value)
    if "\n" in text or "\r" in text:
        return "[multi-line value, not stored]"
    return text[:VALUE_PREVIEW_CHARS]


class RowLedger:
    """Tracks each row's fate: excluded (first rule wins) or quarantined (all problems kept).

    Shared by every reader of survey-tool exports. `batch` is what the rows belong to: a survey
    wave, the definition panel or one of its rounds, the practice library's submissions or reviews;
    the ledger's frames hold it in a column named `batch_column` ("wave" for the survey, "round" for
    the definition panel)."""

    def __init__(self, raw: RawExport, batch: str, batch_column: str = "wave"):
        self.raw, self.batch, self.batch_column = raw, batch, batch_column
        self.rows = np.asarray(raw.row_numbers, dtype=np.int64)
        self.excluded = pd.Series(pd.NA, index=range(len(self.rows)), dtype="object")
        self.exclusion_detail = pd.Series("", index=range(len(self.rows)), dtype="object")
        self.quarantined = np.zeros(len(self.rows), dtype=bool)
        self.entries: list[dict] = []

    @property
    def open(self) -> np.ndarray:
        """Rows still to be decided (not excluded, not quarantined)."""
        return self.excluded.isna().to_numpy() & ~self.quarantined

    def exclude(self, mask: np.ndarray, rule: str, detail: pd.Series | str = "") -> None:
        mask = mask & self.open
        self.excluded[mask] = rule
        self.exclusion_detail[mask] = detail[mask] if isinstance(detail, pd.Series) else detail

    def quarantine(
        self, mask: np.ndarray, column: str | None, values: pd.Series | None, reasons: pd.Series | str
    ) -> None:
        mask = mask & self.excluded.isna().to_numpy()
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        self.quarantined[idx] = True
        for i in idx:
            value = "" if values is None else safe_value(values.iloc[i])
            reason = reasons if isinstance(reasons, str) else reasons.iloc[i]
            self.entries.append({"source_row": int(self.rows[i]), "column": column, "value": value, "reason": reason})

    def exclusions_frame(self, extra: list[dict]) -> pd.DataFrame:
        mask = self.excluded.notna().to_numpy()
        frame = pd.DataFrame(
            {
                "wave": self.batch,
                "source_file": self.raw.path.name,
                "source_row": self.rows[mask],
                "rule": self.excluded[mask].to_numpy(),
                "detail": self.exclusion_detail[mask].to_numpy(),
            },
            columns=EXCLUSION_COLUMNS,
        )
        if extra:
            frame = pd.concat([pd.DataFrame(extra, columns=EXCLUSION_COLUMNS), frame], ignore_index=True)
        frame = frame.sort_values("source_row", kind="stable").reset_index(drop=True).astype(EXCLUSION_DTYPES)
        return frame.rename(columns={"wave": self.batch_column})

    def quarantine_frame(self, extra: list[dict]) -> pd.DataFrame:
        frame = pd.DataFrame(extra + self.entries, columns=["source_row", "column", "value", "reason"])
        frame.insert(0, "source_file", self.raw.path.name)
        frame.insert(0, "wave", self.batch)
        frame = frame.sort_values(["source_row", "column"], kind="stable", na_position="first").reset_index(drop=True)
        return frame[QUARANTINE_COLUMNS].astype(QUARANTINE_DTYPES).rename(columns={"wave": self.batch_column})

    @property
    def quarantine_columns(self) -> list[str]:
        return [self.batch_column, *QUARANTINE_COLUMNS[1:]]

    @property
    def exclusion_columns(self) -> list[str]:
        return [self.batch_column, *EXCLUSION_COLUMNS[1:]]
