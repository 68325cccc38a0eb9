"""What reading one survey export found, as a public type: `tipipeline check` reports it, and the
ingest (whichever reader it uses) produces it. Nothing here reaches into the ingest's ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One problem found in a file: its spreadsheet row, the column if one is to blame, and why."""

    row: int
    column: str | None
    message: str

    def to_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class FileReport:
    """One export's accounting: rows read = accepted + quarantined + excluded (by rule), the
    identifying columns dropped, and the problems (sorted by row)."""

    path: Path
    format: str | None
    format_label: str | None
    encoding: str | None
    header_rows: int | None
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    rows_excluded: dict[str, int]
    identifying_columns_dropped: list[str]
    problems: list[Problem] = field(default_factory=list)
    # "duckdb" or "python" (exports.read_export), and why the DuckDB reader declined the file.
    reader: str | None = None
    reader_declined: str = ""

    def to_dict(self, max_problems: int | None = None) -> dict:
        """The fields `tipipeline check` prints and writes as JSON (problems sorted by row)."""
        problems = sorted(self.problems, key=lambda p: p.row)[:max_problems]
        return {
            "format": self.format,
            "format_label": self.format_label,
            "encoding": self.encoding,
            "header_rows": self.header_rows,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_quarantined": self.rows_quarantined,
            "rows_excluded": dict(self.rows_excluded),
            "identifying_columns_dropped": list(self.identifying_columns_dropped),
            "problems": [p.to_dict() for p in problems],
            "reader": self.reader,
            "reader_declined": self.reader_declined,
        }
