"""Read a survey export whatever tool wrote it: the entry point that chooses the reader.

Well-formed CSV is split by DuckDB's C++ reader (`duckdb_reader`), everything else, and whatever
DuckDB declines, by the Python reader (`raw_export`). Both return the same `RawExport`: every cell as
text ("" when empty) with the file's own row number for each data row, values never changed, and
rows that cannot be split into the header's columns returned as `malformed` with a reason.
"""

from __future__ import annotations

from pathlib import Path

from tipipeline.errors import InputError
from tipipeline.ingest import duckdb_reader
from tipipeline.ingest.raw_export import RawExport, read_python
from tipipeline.settings import READER_ENV, env

READERS = ("auto", "duckdb", "python", "compare")


def read_export(path: str | Path, reader: str | None = None) -> RawExport:
    """Detect the format and encoding of a survey export and read it; InputError if unusable.

    `reader` (default $TIPIPELINE_INGEST_READER, else "auto"): "auto" reads well-formed CSV with
    DuckDB and everything else with Python; "python" always uses Python; "duckdb" insists on DuckDB
    (an InputError saying why when it cannot read the file the same way). Both give the same result;
    "compare" reads a file both ways and raises an error naming the first difference (the test
    suite runs in this mode; use it to check the DuckDB reader on new kinds of export).
    """
    path = Path(path)
    reader = reader or env(READER_ENV) or "auto"
    if reader not in READERS:
        raise InputError(path, f"{READER_ENV}={reader!r}: use one of {', '.join(READERS)}")
    declined = ""
    if reader != "python":
        try:
            fast = duckdb_reader.read_csv_export(path, prefer_faster=reader == "auto")
            if reader == "compare":
                slow = read_python(path)
                if difference := export_difference(fast, slow):
                    raise ReaderMismatch(f"{path}: the DuckDB and Python readers differ: {difference}")
            return fast
        except duckdb_reader.Declined as exc:
            if reader == "duckdb":
                raise InputError(
                    path, f"the DuckDB reader cannot read this file as the Python reader would: {exc}"
                ) from exc
            declined = str(exc)
        except OSError:
            pass  # the Python reader says what is wrong with the file, in its own words
    raw = read_python(path)
    raw.declined = declined
    return raw


class ReaderMismatch(AssertionError):
    """The two readers read one file differently (only in "compare" mode): a bug to report."""


def export_difference(a: RawExport, b: RawExport) -> str | None:
    """The first way two readings of one export differ, or None: every field and every cell
    (as text; categories may be ordered differently)."""
    for name in (
        "format",
        "encoding",
        "header_rows",
        "columns",
        "question_text",
        "row_numbers",
        "malformed",
        "blank_rows",
        "duplicate_columns",
        "sha256",
    ):
        if getattr(a, name) != getattr(b, name):
            return f"{name}: {str(getattr(a, name))[:200]} against {str(getattr(b, name))[:200]}"
    if list(a.data.columns) != list(b.data.columns) or len(a.data) != len(b.data):
        return "the cell table's shape"
    for column in a.data.columns:
        if a.data[column].dtype.name != b.data[column].dtype.name:
            return f"column {column!r}: {a.data[column].dtype.name} against {b.data[column].dtype.name}"
        x = a.data[column].astype(object).to_numpy()
        y = b.data[column].astype(object).to_numpy()
        if (x != y).any():
            at = int((x != y).argmax())
            return f"column {column!r}, row {a.row_numbers[at]}: {str(x[at])[:80]!r} against {str(y[at])[:80]!r}"
    return None
