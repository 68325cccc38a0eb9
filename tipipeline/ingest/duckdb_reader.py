"""The DuckDB-native reader for well-formed CSV exports: DuckDB's C++ reader splits the records,
and each column comes back as a pandas categorical (one Python string per distinct answer, not
per cell). It returns exactly what the Python reader (`raw_export.read_python`) returns for the same
file, or declines with the reason, and the Python reader reads the file instead.

What it declines (the Python reader handles each, and the equivalence tests compare the two):
- anything but UTF-8 (with or without BOM) CSV in the Qualtrics modern, Qualtrics Insights or
  one-header layouts (XLSX, UTF-16, Windows-1252 and legacy exports go to the Python reader);
- an empty line anywhere, or a file starting with one: DuckDB skips empty lines, so its record
  numbers would no longer be the spreadsheet's rows;
- a carriage return without a line feed, or a NUL byte;
- a header with trailing empty cells, or any record DuckDB rejects (too few or too many cells, a
  stray quote, invalid UTF-8, a line over DuckDB's maximum line size);
- asked to prefer the faster reader (`read_export`'s "auto"), an export that is wide and short
  (`wide_and_short`), which the Python reader reads faster.

Cost: a fixed number of statements whatever the width (`_split`), so that the cost grows with the
file's cells and not with the square of its width.

Row numbers: a record's row is its ordinal among the file's records, header records included, a
quoted multi-line record counted once. `row_number() OVER ()` over a single scan of the file, with
insertion order preserved (the documented guarantee), numbers DuckDB's records the same way when
no empty line is skipped.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

import duckdb
import numpy as np

from tipipeline.errors import InputError
from tipipeline.ingest.raw_export import (
    MAX_CELL_CHARS,
    PLAIN_CSV,
    QUALTRICS_INSIGHTS,
    QUALTRICS_MODERN,
    RawExport,
    categorical_frame,
    column_names,
    csv_delimiter,
    csv_head,
    csv_layout,
    text_categoricals,
)
from tipipeline.warehouse import connect, sql_literal

LAYOUTS = (QUALTRICS_MODERN, QUALTRICS_INSIGHTS, PLAIN_CSV)
_BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 24  # 16 MiB: the file is streamed, never held whole
_HEAD = 1 << 20  # the header records are parsed by the Python reader's own code from the first 1 MiB
# What Python's str.strip() removes (str.isspace()): a row is blank when every cell is blank in
# Python's sense, i.e. no character of the row is outside this class (an RE2 regular expression;
# trim() with a character list is 50 times slower in DuckDB).
# Every such character is below U+3001 (a test checks the whole of Unicode), so the import is quick.
PY_WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
_NOT_WHITESPACE = "[^" + "".join(f"\\x{{{ord(c):x}}}" for c in PY_WHITESPACE) + "]"

# `wide_and_short`: above this many columns, a file with less than this much text per column is
# read faster by the Python reader (in "auto" mode; "duckdb" and "compare" still read it with DuckDB).
WIDE_COLUMNS = 1_000
MIN_BYTES_PER_COLUMN = 128 * 1024
# A column with more distinct values than this is fetched as text and made categorical in pandas:
# an ENUM of 500,000 values takes DuckDB 4.5 s to parse and apply, the text 0.7 s (1M rows).
ENUM_MAX_VALUES = 10_000


class Declined(Exception):
    """This file must be read by the Python reader; the message says why."""


# Spaces between a delimiter (or a line's start) and an opening quote, or between a closing quote
# and a delimiter (or a line's end): DuckDB drops them and Python's csv keeps them. Looked for in
# the bytes, so it also declines the rare file where this is only inside a quoted cell.
_PADDED_QUOTE = re.compile(rb'[,\t\n] +"|" +[,\t\r\n]')
_PADDED_END = re.compile(rb'" +\Z')


def scan(path: Path) -> tuple[str, bytes]:
    """(SHA-256, the first 1 MiB) of the file in one streamed pass; Declined when it holds what
    DuckDB would read differently (an empty line, a lone carriage return, a NUL byte, spaces
    beside a quote)."""
    digest = hashlib.sha256()
    head = b""
    # The end of the previous chunk (its last two bytes other than spaces, and any spaces after
    # them), so that a pattern across chunks is seen; a line feed stands for the start of the file.
    tail = b"\n"
    pending_cr = b""  # a carriage return ending the previous chunk, its line feed maybe next
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            if not head:
                head = chunk[:_HEAD]
                if head.startswith(b"PK\x03\x04"):
                    raise Declined("an XLSX workbook")
                if head.startswith((b"\xff\xfe", b"\xfe\xff")):
                    raise Declined("UTF-16")
                body = head.removeprefix(_BOM)
                if body.startswith((b"\n", b"\r\n")):
                    raise Declined("the file starts with an empty line")
                chunk_start = body.lstrip(b" ")
                if chunk_start is not body and chunk_start.startswith(b'"'):
                    raise Declined("spaces before a quote (DuckDB drops them, Python keeps them)")
            if b"\x00" in chunk:
                raise Declined("a NUL byte")
            joined = tail + chunk
            if b"\n\n" in joined or b"\n\r\n" in joined:
                raise Declined("an empty line (DuckDB skips it, so the row numbers would differ)")
            if (b' "' in joined or b'" ' in joined) and _PADDED_QUOTE.search(joined):
                raise Declined("spaces beside a quote (DuckDB drops them, Python keeps them)")
            data = pending_cr + chunk
            lone = data.count(b"\r") - data.count(b"\r\n")
            pending_cr = b"\r" if data.endswith(b"\r") else b""
            if lone - len(pending_cr):
                raise Declined("a carriage return without a line feed")
            kept = len(joined.rstrip(b" "))
            tail = joined[max(0, kept - 2) :]
    if _PADDED_END.search(tail):  # a closing quote and spaces ending the file
        raise Declined("spaces beside a quote (DuckDB drops them, Python keeps them)")
    if pending_cr:
        raise Declined("a carriage return without a line feed")
    if not head:
        raise Declined("the file is empty")
    return digest.hexdigest(), head


def _head_records(head: bytes, encoding: str, delimiter: str, complete: bool):
    """The records of the file's first 1 MiB (only those certainly complete)."""
    csv.field_size_limit(1 << 30)
    text = head.decode(encoding, errors="ignore")
    records = list(enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1))
    return records if complete else records[:-1]


def read_csv_export(path: str | Path, prefer_faster: bool = False) -> RawExport:
    """Read a well-formed CSV export with DuckDB into the same RawExport the Python reader
    gives; Declined (with the reason) when the file needs the Python reader, and, with
    `prefer_faster`, when the Python reader would read it faster (`wide_and_short`)."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise Declined("an XLSX workbook")
    if path.stat().st_size == 0:
        raise Declined("the file is empty")
    sha256, head = scan(path)
    encoding = "utf-8-sig" if head.startswith(_BOM) else "utf-8"
    delimiter = csv_delimiter(head, encoding)
    complete = path.stat().st_size <= len(head)
    records = _head_records(head, encoding, delimiter, complete)
    try:
        head_records = csv_head(path, iter(records))
    except InputError:
        if complete:
            raise  # the Python reader says the same
        raise Declined("the first 1 MiB holds no header") from None
    if len(head_records) < 3 and not complete:
        raise Declined("the header records are longer than 1 MiB")
    if head_records[0][0] != 1:
        raise Declined("blank lines before the header")
    fmt, header_rows, header, texts = csv_layout(path, head_records)
    if fmt not in LAYOUTS:
        raise Declined(f"the {fmt} layout")
    columns, unique, duplicates = column_names(path, header)
    if len(columns) != len(header):
        raise Declined("the header ends in empty cells")
    if prefer_faster and (reason := wide_and_short(path.stat().st_size, len(unique))):
        raise Declined(reason)
    try:
        with connect(":memory:") as conn:
            rows = _load(conn, path, delimiter, len(unique), header_rows)
            data, row_numbers, malformed, blank = _split(conn, rows, unique, header_rows)
    except duckdb.Error as exc:
        raise Declined(f"DuckDB cannot read it: {str(exc).splitlines()[0]}") from exc
    if not row_numbers and not malformed:
        raise Declined("no responses (the Python reader says so)")
    return RawExport(
        path=path,
        format=fmt,
        encoding=encoding,
        header_rows=header_rows,
        columns=unique,
        question_text={u: texts.get(c, "") for u, c in zip(unique, columns)},
        data=data,
        row_numbers=row_numbers,
        malformed=malformed,
        blank_rows=blank,
        duplicate_columns=duplicates,
        sha256=sha256,
        reader="duckdb",
    )


def wide_and_short(size: int, width: int) -> str:
    """Why the Python reader would read a file of `size` bytes and `width` columns faster, or "".

    Part of DuckDB's cost is per column of every statement, whatever the rows (each column's
    vectors are 2,048 rows deep): about 0.65 ms a column here, 1 s for 1,500 columns of 10 rows
    and 6 s for 10,000 columns of one row, which the Python reader reads in 0.08 s and 0.2 s. Only
    many rows repay it: at 1,500 columns the two readers are level at about 10,000 rows (160 KiB a
    column), and DuckDB is the quicker beyond (`bench/README.md`, "Width")."""
    if width > WIDE_COLUMNS and size < width * MIN_BYTES_PER_COLUMN:
        return (
            f"{width:,} columns of {size / width / 1024:,.1f} KiB on average: the Python reader reads an export "
            f"this wide and short faster (DuckDB is used from {MIN_BYTES_PER_COLUMN // 1024} KiB a column)"
        )
    return ""


def _names(width: int) -> list[str]:
    return [f"c{i:04d}" for i in range(1, width + 1)]


def _load(conn: duckdb.DuckDBPyConnection, path: Path, delimiter: str, width: int, header_rows: int) -> str:
    """Every record in a temporary table `_records` in one scan: source_row, c0001 ... as text ('' when
    empty), whether the row is blank and, when a cell is over the limit, its longest cell in characters;
    Declined when DuckDB rejects any record."""
    names = _names(width)
    columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
    cells = ", ".join(f"coalesce({n}, '') AS {n}" for n in names)
    # Both tests are decided cheaply for ordinary rows first (about 2.4 s of 19 s at a million
    # rows): a row whose first cell has text is not blank; a row with no cell over the limit in
    # bytes has none over it in characters (its _longest is then 0: only compared with the limit).
    every_cell = f"NOT regexp_matches(concat({', '.join(names)}), '{_NOT_WHITESPACE}')"
    blank = f"CASE WHEN regexp_matches(coalesce({names[0]}, ''), '{_NOT_WHITESPACE}') THEN false ELSE {every_cell} END"
    characters = f"coalesce(greatest({', '.join(f'length({n})' for n in names)}), 0)"
    longest = (
        f"CASE WHEN coalesce(greatest({', '.join(f'strlen({n})' for n in names)}), 0) > {MAX_CELL_CHARS} "
        f"THEN {characters} ELSE 0 END"
    )
    conn.execute(
        f"CREATE TEMP TABLE _records AS SELECT CAST(row_number() OVER () AS BIGINT) AS source_row, {cells}, "
        f"{blank} AS _blank, {longest} AS _longest "
        f"FROM read_csv(?, header = false, auto_detect = false, delim = ?, quote = '\"', escape = '\"', "
        f"columns = {columns}, allow_quoted_nulls = false, strict_mode = true, encoding = 'utf-8', "
        "store_rejects = true, rejects_table = '_rejects', rejects_scan = '_rejects_scan')",
        [str(path), delimiter],
    )
    rejected = conn.execute("SELECT count(*), min(line), arg_min(error_type, line) FROM _rejects").fetchone()
    if rejected[0]:
        raise Declined(f"DuckDB rejects {rejected[0]} record(s), the first at row {rejected[1]} ({rejected[2]})")
    # The data records the Python reader keeps (blank and over-long rows are set aside).
    conn.execute(
        "CREATE TEMP VIEW _kept AS SELECT * EXCLUDE (_blank, _longest) FROM _records "
        f"WHERE source_row > {int(header_rows)} AND NOT _blank AND _longest <= {MAX_CELL_CHARS}"
    )
    return "_records"


def _split(conn: duckdb.DuckDBPyConnection, rows: str, columns: list[str], header_rows: int):
    """(cells as categoricals, their row numbers, malformed row -> reason, blank rows), as the
    Python reader sorts them: blank rows first, then cells over Excel's limit.

    A fixed number of statements whatever the width (DuckDB's cost has a part per column of every
    statement, so one statement per column would make the cost grow with the square of the width):
    the rows set aside, every column's distinct values in one UNPIVOT, then every cell in one SELECT."""
    data_rows = f"source_row > {int(header_rows)}"
    blank: list[int] = []
    malformed: dict[int, str] = {}
    for row, is_blank, longest in conn.execute(
        f"SELECT source_row, _blank, _longest FROM {rows} WHERE {data_rows} AND (_blank OR _longest > ?) ORDER BY 1",
        [MAX_CELL_CHARS],
    ).fetchall():
        if is_blank:
            blank.append(row)
        else:
            malformed[int(row)] = f"a cell of {longest:,} characters (the limit is {MAX_CELL_CHARS:,})"
    last_row, kept = conn.execute(
        f"SELECT max(source_row), count(*) FILTER (WHERE {data_rows} AND NOT _blank AND _longest <= ?) FROM {rows}",
        [MAX_CELL_CHARS],
    ).fetchone()
    if malformed and max(malformed) == last_row:
        malformed[last_row] += "; the file may be truncated"  # as the Python reader says
    if not kept:
        return (
            categorical_frame(columns, text_categoricals(np.empty((0, len(columns)), dtype=object))),
            [],
            malformed,
            blank,
        )
    names = _names(len(columns))
    dictionaries = _dictionaries(conn, kept)
    # A column with few distinct answers comes back as an ENUM, which DuckDB hands to pandas as a
    # categorical (one Python string per distinct answer, not per cell); a column of mostly distinct
    # values (response ids, times, free text) as text, made categorical here.
    select = ", ".join(
        f"CAST({n} AS ENUM({', '.join(map(sql_literal, dictionaries[n]))})) AS {n}" if n in dictionaries else n
        for n in names
    )
    frame = conn.execute(f"SELECT source_row, {select} FROM _kept ORDER BY source_row").df()
    text = [n for n in names if n not in dictionaries]
    made = dict(zip(text, text_categoricals(frame[text].to_numpy(dtype=object)))) if text else {}
    values = [made[n] if n in made else frame[n].array.as_unordered() for n in names]
    return categorical_frame(columns, values), frame["source_row"].tolist(), malformed, blank


def _dictionaries(conn: duckdb.DuckDBPyConnection, kept: int) -> dict[str, list[str]]:
    """Column -> its distinct values, sorted (as the Python reader's categories are), for the
    columns whose values repeat (at most half as many distinct values as rows, and at most
    ENUM_MAX_VALUES): one pass over every cell."""
    found = conn.execute(
        "SELECT name, CASE WHEN count(*) <= least(? / 2, ?) THEN list(value) END FROM "
        "(SELECT DISTINCT name, value FROM "
        "(UNPIVOT (SELECT * EXCLUDE (source_row) FROM _kept) ON COLUMNS(*) INTO NAME name VALUE value)) "
        "GROUP BY name",
        [kept, ENUM_MAX_VALUES],
    ).fetchall()
    return {name: sorted(values) for name, values in found if values is not None}
