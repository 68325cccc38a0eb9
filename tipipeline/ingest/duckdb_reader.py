"""The DuckDB-native reader for well-formed CSV exports (issue 14, work in progress): DuckDB's C++
reader fills a temporary table of text cells with each record's spreadsheet row number, so no
Python string is made per cell. The Python reader (exports.py) stays for everything else; this
one declines (returns None) whenever it could read a file differently from it.

Row numbers: a CSV record's row is its ordinal among the file's records, header records included
and a quoted multi-line record counted once (exports.py). DuckDB numbers the same records in the
same order (rowid of the table a single scan creates, with insertion order preserved) except that
it skips empty lines; so a file with an empty line anywhere is declined for now.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

# Formats whose records are plain RFC 4180 CSV after their header rows.
SUPPORTED_ENCODINGS = ("utf-8", "utf-8-sig")


@dataclass
class DuckDBRows:
    """Where the rows went: a temporary table (source_row, c0001 ...), and how many records."""

    table: str
    records: int  # every record DuckDB read, header records included
    width: int


_CHUNK = 1 << 24  # 16 MiB: the decline scan streams the file, never holding it whole


def _declines(path: Path) -> str | None:
    """Why this file must go to the Python reader, or None (a streamed scan of its bytes; each
    chunk keeps the previous chunk's last two bytes so a pattern across the boundary is seen)."""
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            data = tail + chunk
            if b"\n\n" in data or b"\n\r\n" in data or b"\r\r" in data:
                return "an empty line (DuckDB skips it, so row numbers would differ)"
            # A CR ending the chunk may have its LF in the next one: the kept tail re-checks it.
            if b"\r" in data.replace(b"\r\n", b"").removesuffix(b"\r"):
                return "a carriage return without a line feed"
            if b"\x00" in chunk:
                return "a NUL byte"
            tail = data[-2:]
    return "a carriage return without a line feed" if tail.endswith(b"\r") and not tail.endswith(b"\r\n") else None


def read_rows(
    conn: duckdb.DuckDBPyConnection, path: Path, encoding: str, header_rows: int, width: int, table: str
) -> DuckDBRows | None:
    """Read `path`'s data records into the temporary `table`: source_row (the spreadsheet row) and
    one VARCHAR column per header column (c0001 ...; an empty cell is ''). None when the Python
    reader must read the file instead (an unsupported encoding, an empty line, a record DuckDB
    rejects)."""
    if encoding not in SUPPORTED_ENCODINGS:
        return None
    if _declines(path):
        return None
    names = [f"c{i:04d}" for i in range(1, width + 1)]
    columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
    rejects = f"{table}_rejects"
    conn.execute(f"DROP TABLE IF EXISTS {table}_all")
    try:
        conn.execute(
            f"CREATE TEMP TABLE {table}_all AS SELECT * FROM read_csv(?, header = false, auto_detect = false, "
            f"delim = ',', quote = '\"', escape = '\"', columns = {columns}, allow_quoted_nulls = false, "
            f"strict_mode = true, store_rejects = true, rejects_table = '{rejects}', "
            f"rejects_scan = '{rejects}_scan')",
            [str(path)],
        )
    except duckdb.Error:
        return None
    if conn.execute(f"SELECT count(*) FROM {rejects}").fetchone()[0]:
        return None
    records = conn.execute(f"SELECT count(*) FROM {table}_all").fetchone()[0]
    cells = ", ".join(f"coalesce({n}, '') AS {n}" for n in names)
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT CAST(rowid + 1 AS BIGINT) AS source_row, {cells} "
        f"FROM {table}_all WHERE rowid >= ? ORDER BY rowid",
        [header_rows],
    )
    conn.execute(f"DROP TABLE {table}_all")
    return DuckDBRows(table, records, width)
