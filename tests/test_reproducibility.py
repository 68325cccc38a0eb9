"""The same inputs give the same published bits, whatever the history of the working warehouse.

A fresh build is the oracle: re-runs, single-wave runs, a wave removed and added back, and staged
rows stored in any order must all publish byte-identical tables, exports, maps and report.
"""

import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import TABLES_ONLY
from dagster import DagsterInstance

from tipipeline.cli import main
from tipipeline.pipeline import run_pipeline
from tipipeline.settings import get_settings
from tipipeline.verify import compare, file_digests, table_digests


def _published(data: Path, outputs: Path) -> tuple[dict, dict]:
    return table_digests(data / "warehouse" / "baseline.duckdb"), file_digests(outputs)


def _differences(expected: tuple[dict, dict], actual: tuple[dict, dict]) -> list[str]:
    return compare(expected[0], actual[0], "table") + compare(expected[1], actual[1], "file")


def _cli(monkeypatch, home: Path, data: Path, outputs: Path, *extra: str) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert main(["run", "--data-dir", str(data), "--output-dir", str(outputs), *extra]) == 0


def test_reruns_publish_the_same_bytes_as_a_fresh_build(cli_built_sample, tmp_path, monkeypatch):
    # The fresh build is the session's (conftest.cli_built_sample); `tipipeline verify`'s own fresh
    # rebuild is compared with it in test_verify.
    fresh = _published(cli_built_sample.data, cli_built_sample.outputs)
    assert {"indicators", "reliability", "indicator_changes", "journey"} <= set(fresh[0])
    assert any(name.endswith(".png") for name in fresh[1]) and "report/baseline.html" in fresh[1]
    assert "exports/indicators.parquet" in fresh[1] and "exports/reliability.csv" in fresh[1]

    # One analyst's working folder, used week after week: its first run was the fresh build.
    work = cli_built_sample.copy(tmp_path / "work")
    data, outputs, home = work.data, work.outputs, work.home
    _cli(monkeypatch, home, data, outputs)  # the routine re-run: every wave's staged rows replaced
    assert _differences(fresh, _published(data, outputs)) == []

    waves = sorted(p.name for p in (data / "raw" / "surveys").iterdir() if p.is_dir())
    _cli(monkeypatch, home, data, outputs, "--wave", waves[0], "--select", TABLES_ONLY)
    parked = tmp_path / "parked"
    shutil.move(data / "raw" / "surveys" / waves[-1], parked)
    _cli(monkeypatch, home, data, outputs, "--select", TABLES_ONLY)
    shutil.move(parked, data / "raw" / "surveys" / waves[-1])
    _cli(monkeypatch, home, data, outputs, "--wave", waves[-1])
    assert _differences(fresh, _published(data, outputs)) == []


@pytest.mark.parametrize("seed", [0.25, 0.75])
def test_staged_rows_in_any_order_publish_the_same_tables(built_sample, tmp_path, seed):
    """Shuffle the staged rows in a copy of a built warehouse, rebuild the indicators and the
    published baseline from them, and compare with the original build."""
    copy = tmp_path / "data"
    shutil.copytree(built_sample.data_dir, copy)
    settings = get_settings(copy, tmp_path / "outputs")
    with duckdb.connect(str(settings.warehouse_path)) as conn:
        conn.execute(f"SELECT setseed({seed})")
        # The stored tables (stg_responses is a view of stg_answers, so it is shuffled with it).
        for table in ("stg_answers", "stg_respondents"):
            before = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            conn.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table} ORDER BY random()")
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == before
        first = conn.execute("SELECT respondent_id FROM stg_answers LIMIT 1").fetchone()[0]
    with duckdb.connect(str(built_sample.warehouse_path), read_only=True) as original:
        assert original.execute("SELECT respondent_id FROM stg_answers LIMIT 1").fetchone()[0] != first
    with DagsterInstance.ephemeral() as instance:
        run_pipeline(settings, selection="group:indicators or key:published_baseline", instance=instance)
    exports = ("exports/*.csv", "exports/*.parquet")
    assert compare(table_digests(built_sample.baseline_path), table_digests(settings.baseline_path), "table") == []
    assert (
        compare(file_digests(built_sample.output_dir, exports), file_digests(settings.output_dir, exports), "file")
        == []
    )
