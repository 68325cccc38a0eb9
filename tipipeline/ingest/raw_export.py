"""The Python reader of survey exports, and the kernels both readers share (`RawExport`, the
layouts, CSV dialect and header detection, column naming, the categorical cell store).

`exports.read_export` is the entry point: it chooses between this reader and the DuckDB one
(`duckdb_reader`), which imports its kernels from here, so neither reader imports the other.

The format is detected, never declared.

Formats: Qualtrics "modern" CSV (3 header rows, JSON ImportId row), Qualtrics 2017 "Insights" CSV
(3 header rows, single-quoted ImportId row), Qualtrics legacy CSV (2 header rows: V1..Vn tags with
the real names in the second row), Qualtrics XLSX, Microsoft Forms XLSX, SmartSurvey XLSX, and
plain one-header CSV / XLSX. Encodings: UTF-8, UTF-8 with BOM, Windows-1252. CRLF or LF.

`read_python` (and so `read_export`) returns every cell as text ("" when empty) with the file's own row number for each
data row. It never changes values; rows it cannot split into the header's columns are returned as
`malformed` with a reason, so that the caller can quarantine them and nothing is lost.
"""

from __future__ import annotations

import ast
import codecs
import csv
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tipipeline.errors import InputError

# Rows are collected in chunks of about this many cells (not rows, so that a chunk of a 1,500-column
# export is no bigger than one of an 80-column export) and stored as categoricals: survey answers
# repeat a handful of labels, so 200,000 x 80 cells take tens of MB instead of gigabytes of Python
# strings.
CHUNK_CELLS = 2_000_000

# Excel's own limit on a cell; anything longer is not a survey answer.
MAX_CELL_CHARS = 32_767

QUALTRICS_MODERN = "qualtrics_modern_csv"
QUALTRICS_INSIGHTS = "qualtrics_insights_csv"
QUALTRICS_LEGACY = "qualtrics_legacy_csv"
QUALTRICS_XLSX = "qualtrics_xlsx"
FORMS_XLSX = "microsoft_forms_xlsx"
SMARTSURVEY_XLSX = "smartsurvey_xlsx"
PLAIN_CSV = "plain_csv"
PLAIN_XLSX = "plain_xlsx"

FORMAT_LABELS = {
    QUALTRICS_MODERN: "Qualtrics modern CSV",
    QUALTRICS_INSIGHTS: "Qualtrics 2017 Insights CSV",
    QUALTRICS_LEGACY: "Qualtrics legacy CSV",
    QUALTRICS_XLSX: "Qualtrics XLSX",
    FORMS_XLSX: "Microsoft Forms XLSX",
    SMARTSURVEY_XLSX: "SmartSurvey XLSX",
    PLAIN_CSV: "CSV with one header row",
    PLAIN_XLSX: "XLSX with one header row",
}

_V_TAG = re.compile(r"^V\d+$")
_XLSX_MAGIC = b"PK\x03\x04"


@dataclass
class RawExport:
    """An export as read: text cells, real column names, the file's row numbers."""

    path: Path
    format: str
    encoding: str | None
    header_rows: int
    columns: list[str]
    # How each column appears in the export's header rows (legacy: the second-row name).
    question_text: dict[str, str]
    data: pd.DataFrame
    row_numbers: list[int]
    # file row -> reason, for rows that could not be split into the header's columns
    malformed: dict[int, str] = field(default_factory=dict)
    blank_rows: list[int] = field(default_factory=list)
    duplicate_columns: dict[str, list[int]] = field(default_factory=dict)
    sha256: str = ""
    # Which reader read it ("duckdb" or "python"), and why the DuckDB reader declined, if it did.
    reader: str = "python"
    declined: str = ""

    @property
    def rows_read(self) -> int:
        return len(self.row_numbers) + len(self.malformed) + len(self.blank_rows)

    @property
    def format_label(self) -> str:
        return FORMAT_LABELS[self.format]


def read_python(path: Path) -> RawExport:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror or exc})") from exc
    if not data:
        raise InputError(path, "the file is empty (0 bytes)")
    if data.startswith(_XLSX_MAGIC) or path.suffix.lower() in (".xlsx", ".xlsm"):
        raw = _read_xlsx(path, data)
    else:
        raw = _read_csv(path, data)
    raw.sha256 = hashlib.sha256(data).hexdigest()
    return raw


# --- CSV ---------------------------------------------------------------------------------


# A valid UTF-8 multi-byte sequence: its presence beside undecodable bytes means mixed encodings.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def detect_encoding(path: Path, data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252 (Excel's 'CSV' on Windows).

    A file that is mostly UTF-8 with a few bytes that are not is an error, not Windows-1252:
    reading it as Windows-1252 would garble every accented letter and curly quote in it.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in data[:65536]:
        raise InputError(path, "this is a binary file, not a CSV or XLSX survey export")
    candidates = ["utf-8-sig"] if data.startswith(b"\xef\xbb\xbf") else ["utf-8", "cp1252"]
    try:
        # Validate without keeping a decoded copy of the whole file in memory.
        codecs.decode(memoryview(data), candidates[0])
        return candidates[0]
    except UnicodeDecodeError as exc:
        error = exc
    if candidates[0] == "utf-8-sig":
        raise InputError(
            path,
            f"starts with a UTF-8 byte-order mark but is not UTF-8 (the byte at offset "
            f"{error.start}); re-export it as UTF-8",
        )
    if _UTF8_MULTIBYTE.search(data):
        raise InputError(
            path,
            f"mostly UTF-8, but the byte at offset {error.start} is not: the file mixes encodings; "
            "re-export it as UTF-8",
        )
    try:
        codecs.decode(memoryview(data), "cp1252")
        return "cp1252"
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not text in UTF-8 or Windows-1252 (undecodable byte at offset {exc.start})") from exc


def csv_records(data: bytes, encoding: str, delimiter: str):
    """Yield (row number, fields) per record. The row number is the record's position counting
    header rows, as a spreadsheet shows it (a quoted field may span several lines of the file)."""
    csv.field_size_limit(1 << 30)
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    yield from enumerate(csv.reader(stream, delimiter=delimiter, strict=False), start=1)


def csv_delimiter(data: bytes, encoding: str) -> str:
    """Comma, or tab for tab-separated exports (Qualtrics TSV, Excel 'Unicode text')."""
    head = codecs.decode(data[:65536], encoding, errors="ignore")
    first_line = head.lstrip("\ufeff\r\n").split("\n", 1)[0]
    return "\t" if first_line.count("\t") > first_line.count(",") else ","


def _read_csv(path: Path, data: bytes) -> RawExport:
    encoding = detect_encoding(path, data)
    delimiter = csv_delimiter(data, encoding)
    records = csv_records(data, encoding, delimiter)
    head = csv_head(path, records)
    fmt, header_rows, columns, texts = csv_layout(path, head)
    body = head[header_rows:]
    return _assemble(path, fmt, encoding, header_rows, columns, texts, _chain(body, records))


def csv_head(path: Path, records) -> list[tuple[int, list[str]]]:
    """The first three records from the first one with anything in it (the header), consumed
    from the `records` iterator of (row number, fields)."""
    head: list[tuple[int, list[str]]] = []
    for record in records:
        if any(cell.strip() for cell in record[1]) or head:
            head.append(record)
        if len(head) == 3:
            break
    if not head:
        raise InputError(path, "no header row: the file holds only blank lines")
    return head


def csv_layout(path: Path, head: list[tuple[int, list[str]]]):
    """(format, header rows, column names, question texts) of a CSV from its first records."""
    header = head[0][1]
    _check_delimiter(path, header)
    return _detect_csv_layout(header, [r[1] for r in head[1:]])


def _chain(first, rest):
    yield from first
    yield from rest


def _check_delimiter(path: Path, header: list[str]) -> None:
    if len(header) == 1:
        cell = header[0]
        for delimiter, name in ((";", "semicolon"), ("|", "pipe")):
            if cell.count(delimiter) >= 2:
                raise InputError(
                    path,
                    f"the header is one column holding {name}s: the file looks {name}-delimited; "
                    "export it as comma-separated CSV",
                    row=1,
                )


def _is_json_import_id(cell: str) -> bool:
    try:
        value = json.loads(cell)
    except (ValueError, TypeError):
        return False
    return isinstance(value, dict) and "ImportId" in value


def _is_python_import_id(cell: str) -> bool:
    if not cell.startswith("{'"):
        return False
    try:
        value = ast.literal_eval(cell)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False
    return isinstance(value, dict) and "ImportId" in value


def _share(cells: list[str], test) -> float:
    filled = [c for c in cells if c.strip()]
    return sum(1 for c in filled if test(c)) / len(filled) if filled else 0.0


def _detect_csv_layout(header: list[str], following: list[list[str]]):
    """(format, header rows, column names, question texts) from the first rows."""
    second = following[0] if following else []
    third = following[1] if len(following) > 1 else []
    if third and _share(third, _is_json_import_id) > 0.5:
        return QUALTRICS_MODERN, 3, header, dict(zip(header, second))
    if third and _share(third, _is_python_import_id) > 0.5:
        return QUALTRICS_INSIGHTS, 3, header, dict(zip(header, second))
    v_tags = [c for c in header if _V_TAG.match(c.strip())]
    legacy_names = {"responseid", "responseset"} & {c.strip().casefold() for c in second}
    if header and _V_TAG.match(header[0].strip()) and len(v_tags) >= 3 and legacy_names:
        # Legacy: the real names of V1..Vn are in the second row; Q tags stay as the names.
        names = []
        for index, tag in enumerate(header):
            below = second[index].strip() if index < len(second) else ""
            names.append(below if _V_TAG.match(tag.strip()) and below else tag)
        return QUALTRICS_LEGACY, 2, names, dict(zip(names, second))
    return PLAIN_CSV, 1, header, {}


# --- XLSX --------------------------------------------------------------------------------


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _read_xlsx(path: Path, data: bytes) -> RawExport:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if not data.startswith(_XLSX_MAGIC):
        raise InputError(path, "named .xlsx but is not an XLSX workbook")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, EOFError) as exc:
        raise InputError(path, f"not a readable XLSX workbook: truncated or corrupt ({type(exc).__name__})") from exc
    rows: list = []
    try:
        # The first sheet with anything in it (exports sometimes carry a cover sheet first).
        for sheet in workbook.worksheets:
            try:
                rows = [
                    (index, [_cell_text(v) for v in row])
                    for index, row in enumerate(sheet.iter_rows(values_only=True), 1)
                ]
            except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
                raise InputError(
                    path, f"not a readable XLSX workbook: truncated or corrupt ({type(exc).__name__})"
                ) from exc
            if any(any(c.strip() for c in r) for _, r in rows):
                break
    finally:
        workbook.close()
    first = next((k for k, (_, r) in enumerate(rows) if any(c.strip() for c in r)), None)
    if first is None:
        raise InputError(path, "every sheet of the workbook is empty")
    rows = rows[first:]
    header = rows[0][1]
    while header and not header[-1].strip():
        header = header[:-1]
    following = [r for _, r in rows[1:3]]
    names = {c.strip() for c in header}
    if {"ID", "Start time", "Completion time"} <= names:
        fmt, header_rows, texts = FORMS_XLSX, 1, {}
    elif "UserID" in names and ({"Started", "Ended"} & names):
        fmt, header_rows, texts = SMARTSURVEY_XLSX, 1, {}
    elif "ResponseId" in names and following and "Response ID" in following[0]:
        third = following[1] if len(following) > 1 else []
        header_rows = 3 if third and _share(third, _is_json_import_id) > 0.5 else 2
        fmt, texts = QUALTRICS_XLSX, dict(zip(header, following[0]))
    else:
        fmt, header_rows, texts = PLAIN_XLSX, 1, {}
    return _assemble(path, fmt, None, header_rows, header, texts, iter(rows[header_rows:]))


# --- shared ------------------------------------------------------------------------------


def column_names(path: Path, header: list[str]) -> tuple[list[str], list[str], dict[str, list[int]]]:
    """(the header's names stripped, without trailing blanks; unique names; repeated names ->
    their column positions). A repeated name gets a suffix so that no value is lost."""
    columns = [c.strip() for c in header]
    while columns and not columns[-1]:
        columns = columns[:-1]  # trailing commas in the header (legacy exports)
    if not columns:
        raise InputError(path, "the header row is empty")
    seen: dict[str, list[int]] = {}
    unique = []
    for index, name in enumerate(columns, start=1):
        name = name or f"(unnamed column {index})"
        seen.setdefault(name, []).append(index)
        unique.append(name if len(seen[name]) == 1 else f"{name} ({len(seen[name])})")
    return columns, unique, {name: idx for name, idx in seen.items() if len(idx) > 1}


def _assemble(path, fmt, encoding, header_rows, columns, texts, records) -> RawExport:
    columns, unique, duplicates = column_names(path, columns)
    width = len(unique)
    chunk_rows = max(1, CHUNK_CELLS // width)
    chunks: list[list[pd.Categorical]] = []
    good: list[list[str]] = []
    numbers: list[int] = []
    malformed: dict[int, str] = {}
    blank: list[int] = []
    last_row = None
    for row_number, fields in records:
        last_row = row_number
        if not any(f.strip() for f in fields):
            blank.append(row_number)
            continue
        if len(fields) > width:
            extra = fields[width:]
            if any(f.strip() for f in extra):
                malformed[row_number] = f"{len(fields)} fields where the header has {width}"
                continue
            fields = fields[:width]
        elif len(fields) < width:
            malformed[row_number] = f"{len(fields)} fields where the header has {width}"
            continue
        longest = max(map(len, fields))
        if longest > MAX_CELL_CHARS:
            malformed[row_number] = f"a cell of {longest:,} characters (the limit is {MAX_CELL_CHARS:,})"
            continue
        good.append(fields)
        numbers.append(row_number)
        if len(good) == chunk_rows:
            chunks.append(_categorical_chunk(good, width))
            good = []
    if good or not chunks:
        chunks.append(_categorical_chunk(good, width))
    if malformed and last_row in malformed and last_row == max(malformed):
        malformed[last_row] += "; the file may be truncated"
    if not numbers and not malformed:
        raise InputError(path, "the file has a header but no responses")
    frame = categorical_frame(unique, _concat_categorical(chunks))
    question_text = {u: texts.get(c, "") for u, c in zip(unique, columns)}
    return RawExport(
        path=path,
        format=fmt,
        encoding=encoding,
        header_rows=header_rows,
        columns=unique,
        question_text=question_text,
        data=frame,
        row_numbers=numbers,
        malformed=malformed,
        blank_rows=blank,
        duplicate_columns=duplicates,
    )


def _categorical_chunk(rows: list[list[str]], width: int) -> list[pd.Categorical]:
    """A chunk's columns as categoricals (rows all `width` cells long)."""
    cells = np.empty((len(rows), width), dtype=object)
    if rows:
        cells[:] = rows
    return text_categoricals(cells)


def _concat_categorical(chunks: list[list[pd.Categorical]]) -> list[pd.Categorical]:
    if len(chunks) == 1:
        return chunks[0]
    from pandas.api.types import union_categoricals

    # Categories sorted, as in a single chunk, so that a file's categories do not depend on its length.
    return [union_categoricals(parts, sort_categories=True) for parts in zip(*chunks)]


def categorical_frame(columns: list[str], values: list[pd.Categorical]) -> pd.DataFrame:
    """The cell table: one categorical per column, in the header's order."""
    return pd.DataFrame(dict(zip(columns, values)), columns=columns, copy=False)


def text_categoricals(cells: np.ndarray) -> list[pd.Categorical]:
    """Each column of a 2-D array of text cells as an unordered categorical whose categories are its
    distinct values, sorted (what `pd.Categorical(column)` gives), in work proportional to the cells.

    One hash pass over every cell finds all the distinct values at once; each column then only sorts
    its own codes, and columns with the same set of values (a matrix question's statements) share
    one categories object. No step walks the whole width once per column."""
    rows, width = cells.shape
    if rows == 0:
        empty = pd.CategoricalDtype(pd.Index([], dtype=object))
        return [pd.Categorical.from_codes(np.empty(0, dtype=np.int8), dtype=empty) for _ in range(width)]
    # Column-major, so that each column's codes are contiguous.
    codes, uniques = pd.factorize(cells.ravel(order="F"), sort=True)
    codes = codes.reshape(width, rows)
    uniques = np.asarray(uniques, dtype=object)
    dtypes: dict[bytes, pd.CategoricalDtype] = {}
    out = []
    for column in codes:
        if rows == 1:
            used, local = column, np.zeros(1, dtype=np.int8)
        else:
            used, local = np.unique(column, return_inverse=True)
        key = used.tobytes()
        dtype = dtypes.get(key)
        if dtype is None:
            dtype = dtypes[key] = pd.CategoricalDtype(pd.Index(uniques[used], dtype=object))
        out.append(pd.Categorical.from_codes(_small_codes(local, len(used)), dtype=dtype, validate=False))
    return out


def _small_codes(codes: np.ndarray, categories: int) -> np.ndarray:
    """Codes in the smallest integer type pandas itself would use for this many categories."""
    for kind in (np.int8, np.int16, np.int32):
        if categories < np.iinfo(kind).max:
            return codes.astype(kind, copy=False)
    return codes.astype(np.int64, copy=False)
