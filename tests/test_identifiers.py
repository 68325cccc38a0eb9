"""Identifiers never reach the warehouse, the published baseline or any output, for every export
format: built here from realistic exports full of identifiers (no shared fixture needed, so the
test never skips), scanned byte by byte and table by table after a whole run."""

from __future__ import annotations

from pathlib import Path

import duckdb
import export_writers as w
from dagster import DagsterInstance

from tipipeline.pipeline import run_pipeline
from tipipeline.settings import get_settings

# Qualtrics modern and Insights exports use the codebook's own column names; the others their wave's.
FORMATS = {
    "modern": lambda path, rows: w.qualtrics(path / "export.csv", rows),
    "insights": lambda path, rows: w.qualtrics(path / "export.csv", rows, style="python"),
    "legacy": lambda path, rows: w.qualtrics_legacy(path / "export.csv", rows),
    "forms": lambda path, rows: w.forms_xlsx(path / "export.xlsx", rows),
    "smart": lambda path, rows: w.smartsurvey_xlsx(path / "export.xlsx", rows),
}
ORGANISATIONS = [
    "London Borough of Hackney",
    "Metropolitan Police Service",
    "NHS North East London Integrated Care Board",
]


def _rows(offset: int) -> list[dict]:
    rows = []
    for i in range(offset, offset + 36):
        rows.append(
            w.response(
                i,
                org=ORGANISATIONS[i % 3],
                borough="Hackney",
                first=f"Ada{i}",
                last=f"Lovelace{i}",
                email=f"ada.lovelace{i}@example.org",
                ip=f"198.51.100.{i % 250 + 1}",
                lat=f"51.5{i:04d}7",
                lon=f"-0.1{i:04d}3",
                id=f"R_secret{i:05d}",
                a_1=["Agree", "Disagree", "Strongly agree"][i % 3],
            )
        )
    return rows


def _identifiers(rows: list[dict]) -> set[str]:
    found = set()
    for row in rows:
        found |= {
            row["email"],
            row["last"],
            row["ip"],
            row["lat"],
            row["lon"],
            row["id"],
            f"{row['first']} {row['last']}",
        }
    return found


def _build_data(root: Path) -> tuple[Path, set[str]]:
    data = root / "data"
    surveys = data / "raw" / "surveys"
    surveys.mkdir(parents=True)
    (surveys / "codebook.yaml").write_text(w.TEST_CODEBOOK, encoding="utf-8")
    secrets = set()
    for index, (wave, write) in enumerate(FORMATS.items()):
        (surveys / wave).mkdir()
        rows = _rows(100 * index)
        write(surveys / wave, rows)
        secrets |= _identifiers(rows)
    return data, secrets


def _leaks(folders: list[Path], secrets: set[str]) -> list[tuple[str, str]]:
    """(where, identifier) for every identifier found in the files' bytes or, for databases and
    Parquet files (whose strings may be compressed on disk), in their decoded contents."""
    found = []
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            raw = path.read_bytes()
            texts = [raw.decode("utf-8", "ignore")]
            if path.suffix == ".duckdb":
                with duckdb.connect(str(path), read_only=True) as conn:
                    for (table,) in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall():
                        texts.append(conn.execute(f'SELECT * FROM "{table}"').df().to_csv())
            elif path.suffix == ".parquet":
                texts.append(duckdb.sql(f"SELECT * FROM read_parquet('{path}')").df().to_csv())
            for secret in secrets:
                if any(secret in text for text in texts):
                    found.append((str(path.relative_to(folder.parent)), secret))
    return found


def test_identifiers_reach_no_warehouse_table_export_map_or_report(tmp_path, monkeypatch):
    monkeypatch.setenv("TIPIPELINE_PSEUDONYM_KEY", "a test key that is long enough to use")
    data, secrets = _build_data(tmp_path)
    settings = get_settings(data, tmp_path / "outputs")
    with DagsterInstance.ephemeral() as instance:
        summary = run_pipeline(settings, instance=instance)
    assert sorted(summary.waves) == sorted(FORMATS)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        accepted = dict(conn.execute("SELECT wave, count(*) FROM stg_respondents GROUP BY wave").fetchall())
        dropped = conn.execute("SELECT wave, identifying_columns_dropped FROM survey_data_quality").fetchall()
    assert accepted == {wave: 36 for wave in FORMATS}  # every format was read, so the scan means something
    assert all(columns != "[]" for _, columns in dropped)
    outputs = list((settings.output_dir).rglob("*"))
    assert any(p.suffix == ".png" for p in outputs) and any(p.suffix == ".html" for p in outputs)
    assert _leaks([settings.warehouse_dir, settings.output_dir], secrets) == []
    # The same scan finds the identifiers in the raw CSV exports it was given.
    in_raw = {where.split("/")[-2] for where, _ in _leaks([data / "raw"], secrets)}
    assert {"modern", "insights", "legacy"} <= in_raw


def test_the_scan_catches_a_constructed_breach(tmp_path):
    """An identifier planted in each kind of output file is found, compressed storage included."""
    secret = "ada.lovelace7@example.org"
    out = tmp_path / "outputs"
    out.mkdir()
    with duckdb.connect(str(out / "baseline.duckdb")) as conn:
        # Many similar strings, so that DuckDB compresses the column on disk.
        conn.execute(
            f"CREATE TABLE t AS SELECT CASE WHEN i = 5000 THEN '{secret}' ELSE 'row ' || i END AS v "
            "FROM range(20000) r(i)"
        )
        conn.execute(f"COPY t TO '{out / 't.parquet'}' (FORMAT PARQUET)")
    (out / "t.csv").write_text(f"a,b\n1,{secret}\n", encoding="utf-8")
    (out / "report.html").write_text(f"<p>{secret}</p>", encoding="utf-8")
    (out / "clean.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    found = {where for where, _ in _leaks([out], {secret})}
    assert found == {"outputs/baseline.duckdb", "outputs/t.parquet", "outputs/t.csv", "outputs/report.html"}
