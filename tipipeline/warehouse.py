"""DuckDB connections: the pipeline's working warehouse (single writer) and the published baseline."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from tipipeline.errors import WarehouseError
from tipipeline.settings import MEMORY_LIMIT_ENV, env

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file (or ":memory:"); a writer creates its folder. Python-variable replacement
    scans are off so that a missing table name is an error rather than a surprise match on a local
    variable; no progress bar is drawn (in Dagster's logs and piped output it is noise)."""
    if str(path) == ":memory:":
        return _without_progress_bar(duckdb.connect(":memory:", config=connection_config()))
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist yet: run `make run` (or `tipipeline run`) in the project root first, "
            "or set TIPIPELINE_DATA_DIR to the data directory that holds it"
        )
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    return _without_progress_bar(duckdb.connect(str(path), read_only=read_only, config=connection_config()))


def _without_progress_bar(conn: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    try:
        conn.execute("SET enable_progress_bar = false")
    except duckdb.Error:
        pass  # in Jupyter DuckDB refuses to change the setting without ipywidgets; there it is harmless
    return conn


DEFAULT_MEMORY_LIMIT = "2.5GB"  # DuckDB's buffers; with Python's share a 1M-respondent build stays under 4 GB


def connection_config() -> dict:
    """DuckDB settings for every connection: a memory limit (TIPIPELINE_DUCKDB_MEMORY_LIMIT, default
    2.5GB) beyond which DuckDB spills to a private temporary folder (never inside the warehouse
    folder, whose files are scanned for identifiers), and insertion order kept, because spreadsheet
    row numbers are read from the order rows are scanned in."""
    return {
        "python_enable_replacements": False,
        "memory_limit": env(MEMORY_LIMIT_ENV).strip() or DEFAULT_MEMORY_LIMIT,
        "temp_directory": str(_private_spill_folder()),
        "preserve_insertion_order": True,
    }


_SPILL: list[Path] = []


def _private_spill_folder() -> Path:
    """A folder only this user can read, for DuckDB's spill files (which may hold cells of an
    export, identifiers included, while it is read): the system temp folder's
    tipipeline-duckdb-<uid> when this user owns it with mode 0700, else a fresh one."""
    import os
    import stat
    import tempfile

    if _SPILL and _SPILL[0].is_dir():
        return _SPILL[0]
    folder = Path(tempfile.gettempdir()) / f"tipipeline-duckdb-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
        private = stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
        if private:
            folder.chmod(0o700)
    except OSError:
        private = False
    if not private:  # someone else made it, or it is a link: never spill there
        folder = Path(tempfile.mkdtemp(prefix="tipipeline-duckdb-"))
    _SPILL[:] = [folder]
    return folder


@contextlib.contextmanager
def connection(path: str | Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """`connect` as a context manager that always closes."""
    conn = connect(path, read_only=read_only)
    try:
        yield conn
    finally:
        conn.close()


def _check_identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


def sql_literal(value) -> str:
    """`value` as an SQL string literal (quotes doubled), for the few names DuckDB cannot take as a
    bound parameter (in DDL, UNPIVOT lists and struct literals)."""
    return "'" + str(value).replace("'", "''") + "'"


def table_exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the warehouse's main schema holds `table` (a table or a view)."""
    return bool(
        conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?", [table]
        ).fetchall()[0][0]
    )


def is_view(conn: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether `name` in the main schema is a view (whose rows live in another table)."""
    return bool(
        conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ? "
            "AND table_type = 'VIEW'",
            [name],
        ).fetchall()[0][0]
    )


def replace_table(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Create or replace `table` with `frame`, columns selected by name (never by position)."""
    table = _check_identifier(table)
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    conn.register("_incoming", frame)
    try:
        conn.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {columns} FROM _incoming")
    finally:
        conn.unregister("_incoming")
    return len(frame)


def replace_tables(conn: duckdb.DuckDBPyConnection, frames: dict[str, pd.DataFrame | SqlSource]) -> None:
    """Create or replace several tables (from frames or SQL) in one transaction: all or none."""
    conn.execute("BEGIN TRANSACTION")
    try:
        for table, frame in frames.items():
            if isinstance(frame, SqlSource):
                for name, data in frame.inputs.items():
                    conn.register(name, data)
                try:
                    conn.execute(f"CREATE OR REPLACE TABLE {_check_identifier(table)} AS {frame.sql}")
                finally:
                    for name in frame.inputs:
                        conn.unregister(name)
            else:
                replace_table(conn, table, frame)
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise


@dataclass(frozen=True)
class SqlSource:
    """Rows computed by DuckDB: a SELECT over DataFrames registered under the given names."""

    sql: str
    inputs: dict[str, pd.DataFrame]


def replace_partitions(
    conn: duckdb.DuckDBPyConnection,
    frames: dict[str, pd.DataFrame | SqlSource],
    column: str,
    key: str,
    views: dict[str, Callable[[duckdb.DuckDBPyConnection], str]] | None = None,
) -> None:
    """Replace the rows where `column` = `key` in several tables, in one transaction.

    A table is created from its frame's columns on first write. Rows are inserted BY NAME, so a
    reordered DataFrame can never shift values between columns. Either every table gets the new
    rows or none does. `views`: name -> a function giving the view's SELECT once the rows are in
    (so it can see the tables' columns), created or replaced in the same transaction.
    """
    column = _check_identifier(column)
    views = views or {}
    for name in views:
        if table_exists(conn, _check_identifier(name)) and not is_view(conn, name):
            raise WarehouseError(
                _database_path(conn),
                f"{name} is a table here, a view since tipipeline stores survey answers wide (issue 14): "
                "this warehouse was built by an earlier version. Delete the warehouse folder and rebuild "
                "(`make run`, or materialise every asset); outputs are rebuilt from data/raw.",
            )
    conn.execute("BEGIN TRANSACTION")
    try:
        for table, frame in frames.items():
            table = _check_identifier(table)
            inputs = frame.inputs if isinstance(frame, SqlSource) else {"_incoming": frame}
            for name, data in inputs.items():
                conn.register(name, data)
            try:
                if isinstance(frame, SqlSource):
                    source = f"({frame.sql})"
                else:
                    source = "(SELECT " + ", ".join(f'"{c}"' for c in frame.columns) + " FROM _incoming)"
                if not table_exists(conn, table):
                    conn.execute(f"CREATE TABLE {table} AS SELECT * FROM {source} LIMIT 0")
                else:
                    _add_new_columns(conn, table, source)
                conn.execute(f"DELETE FROM {table} WHERE {column} = ?", [key])
                conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {source}")
            finally:
                for name in inputs:
                    conn.unregister(name)
        for name, select in views.items():
            conn.execute(f"CREATE OR REPLACE VIEW {name} AS {select(conn)}")
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise


def _add_new_columns(conn: duckdb.DuckDBPyConnection, table: str, source: str) -> None:
    """Columns the incoming rows have and `table` lacks (a codebook that gained an item) are
    added, typed as the incoming rows are; the table's earlier rows hold NULL in them."""
    present = {name for (name, *_) in conn.execute(f"DESCRIBE {table}").fetchall()}
    for name, kind, *_ in conn.execute(f"DESCRIBE SELECT * FROM {source}").fetchall():
        if name not in present:
            conn.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {kind}')


def retire_waves(
    conn: duckdb.DuckDBPyConnection,
    tables: list[str],
    keep: list[str],
    counted: str | None = None,
    named_in: list[str] | None = None,
) -> dict[str, int]:
    """Delete, in one transaction, every row of a wave not in `keep` from the per-wave `tables`
    (those that exist; views are skipped, their rows going with the tables they show). Returns
    the rows removed per retired wave, counted in `counted` (default: the first table present). The
    retired waves are those with rows in any of `named_in` (default: every table present), with 0
    when `counted` holds none of a wave's rows: a wave whose every row was quarantined or excluded
    is named from its data-quality rows. The other tables are only written (rows deleted), not read."""
    present = [_check_identifier(t) for t in tables if table_exists(conn, t) and not is_view(conn, t)]
    if not present:
        return {}
    counted = _check_identifier(counted) if counted in present else present[0]
    named = [t for t in present if named_in is None or t in named_in] or [counted]
    kept = pd.DataFrame({"wave": pd.Series(keep, dtype="object")})
    conn.register("_kept_waves", kept)
    try:
        gone = " UNION ".join(
            f"SELECT DISTINCT wave FROM {t} WHERE wave NOT IN (SELECT wave FROM _kept_waves)" for t in named
        )
        rows = dict(
            conn.execute(
                f"SELECT wave, count(*) FROM {counted} WHERE wave NOT IN (SELECT wave FROM _kept_waves) GROUP BY wave"
            ).fetchall()
        )
        retired = {wave: int(rows.get(wave, 0)) for (wave,) in conn.execute(f"{gone} ORDER BY 1").fetchall()}
        conn.execute("BEGIN TRANSACTION")
        try:
            for table in present:
                conn.execute(f"DELETE FROM {table} WHERE wave NOT IN (SELECT wave FROM _kept_waves)")
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.unregister("_kept_waves")
    return retired


def _database_path(conn: duckdb.DuckDBPyConnection) -> str:
    """The file of the connection's main database (':memory:' when none), for error messages."""
    path = conn.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return (path[0][0] if path else None) or ":memory:"
