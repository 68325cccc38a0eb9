"""The published baseline opens in DuckDB 1.x, which researchers' R packages and CLIs often still are.

The old client lives in its own environment, .venv-duckdb1, which `make test` builds from the
hash-pinned requirements-duckdb1.lock (DuckDB 1.1.3). The same small script reads the baseline there
and with the pipeline's own DuckDB; both must see the same tables, rows, types and comments.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from conftest import REPO

from tipipeline.publish.baseline import STORAGE_VERSION, TableSpec, build_snapshot

OLD_VENV = REPO / ".venv-duckdb1"
OLD_PYTHON = OLD_VENV / "bin" / "python"
# The header's storage version number each STORAGE_VERSION is written with, and the tag DuckDB 2.0
# shows for it in duckdb_databases(). 64 is the number every DuckDB from 0.10 to 1.1 reads and 1.2
# onwards still reads ("can only read 64" is the error a 1.1 client gives for anything else).
HEADER_VERSIONS = {"v1.0.0": (64, "v1.0.0+")}

READER = textwrap.dedent("""
    import hashlib, json, sys
    import duckdb

    con = duckdb.connect(sys.argv[1], read_only=True)
    database = con.execute("SELECT current_database()").fetchone()[0]
    readonly = con.execute(
        "SELECT readonly FROM duckdb_databases() WHERE database_name = ?", [database]).fetchone()[0]
    tables = {}
    for name, comment in con.execute(
            "SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal ORDER BY table_name").fetchall():
        columns = con.execute(
            "SELECT column_name, data_type, comment FROM duckdb_columns() "
            "WHERE table_name = ? AND NOT internal ORDER BY column_index", [name]).fetchall()
        rows = con.execute(f'SELECT * FROM "{name}"').fetchall()
        # Each row's repr (a float's repr is its exact value), sorted in Python rather than by ORDER BY
        # so that the digest does not depend on how a DuckDB release orders NULLs.
        digest = hashlib.sha256("\\n".join(sorted(repr(row) for row in rows)).encode()).hexdigest()
        tables[name] = {
            "comment": comment,
            "columns": [list(column) for column in columns],
            "count": con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0],
            "rows": len(rows),
            "sha256": digest,
        }
    print(json.dumps({"version": duckdb.__version__, "readonly": readonly, "tables": tables}))
""")


def read_with(python: Path | str, baseline: Path) -> dict:
    done = subprocess.run(
        [str(python), "-c", READER, str(baseline)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{python} could not read {baseline}:\n{done.stderr}"
    return json.loads(done.stdout)


@pytest.fixture(scope="session")
def old_python() -> Path:
    """DuckDB 1.x's Python; set up before built_sample, so a missing environment costs no build."""
    if not (OLD_VENV / ".installed").exists():
        if os.environ.get("CI"):
            pytest.fail(f"{OLD_VENV} is missing: run `make test`, which builds it from requirements-duckdb1.lock")
        pytest.skip(f"{OLD_VENV} is missing: build it with `make duckdb1` (or run `make test`)")
    return OLD_PYTHON


def header_version(path: Path) -> int:
    """The storage version number in a DuckDB file's main header (after an 8-byte checksum and DUCK)."""
    header = path.read_bytes()[:20]
    assert header[8:12] == b"DUCK", f"{path} is not a DuckDB file"
    return struct.unpack("<Q", header[12:20])[0]


def storage_tag(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(
            "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()[0]


def test_snapshot_is_written_in_the_chosen_storage_version(tmp_path):
    conn = duckdb.connect()
    spec = TableSpec("numbers", "Some numbers.", "SELECT range AS n FROM range(3)", ["n"], {"n": "A number."})
    target = tmp_path / "snapshot.duckdb"
    provenance = {"survey_waves": "", "run_id": "test"}
    build_snapshot(conn, target, [spec], provenance)
    conn.close()
    number, tag = HEADER_VERSIONS[STORAGE_VERSION]
    assert header_version(target) == number
    assert storage_tag(target) == tag
    # DuckDB 2.0's own format is another number, which no 1.x release opens: the option mattered.
    default = tmp_path / "default.duckdb"
    duckdb.connect(str(default)).close()
    assert header_version(default) != number


def test_published_baseline_opens_in_duckdb_1(old_python, built_sample):
    baseline = built_sample.data_dir / "warehouse" / "baseline.duckdb"
    assert header_version(baseline) == HEADER_VERSIONS[STORAGE_VERSION][0]
    old = read_with(old_python, baseline)
    new = read_with(sys.executable, baseline)
    assert old["version"].startswith("1."), f"{old_python} has DuckDB {old['version']}, not a 1.x release"
    assert new["version"] == duckdb.__version__
    assert old["readonly"] is True
    assert sorted(old["tables"]) == sorted(new["tables"])
    assert "indicators" in new["tables"] and "provenance" in new["tables"]
    for table, seen in new["tables"].items():
        assert seen["comment"], f"{table} has no comment"
        assert old["tables"][table]["comment"] == seen["comment"], table
        assert old["tables"][table]["columns"] == seen["columns"], f"{table}: column names, types or comments differ"
        assert old["tables"][table]["count"] == seen["count"] == seen["rows"], table
        assert old["tables"][table]["rows"] == seen["rows"], table
        assert old["tables"][table]["sha256"] == seen["sha256"], f"{table}: DuckDB 1.x reads other values"
    assert all(comment for seen in new["tables"].values() for _name, _type, comment in seen["columns"])
