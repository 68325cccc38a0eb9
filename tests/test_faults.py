"""Kill a run (SIGKILL) at several points: the published baseline is always the previous complete
one (or, past the swap, the new complete one), and the next run succeeds."""

import json
import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest
from conftest import TABLES_ONLY


def _cli(args, env):
    return subprocess.Popen(
        [sys.executable, "-m", "tipipeline.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _snapshot(baseline):
    """(run id, complete?) of the published baseline."""
    with duckdb.connect(str(baseline), read_only=True) as conn:
        expected = dict(conn.execute("SELECT table_name, rows FROM provenance").fetchall())
        tables = {t for (t,) in conn.execute("SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall()}
        complete = tables == set(expected) | {"provenance"} and all(
            conn.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] == n for t, n in expected.items()
        )
        runs = [r for (r,) in conn.execute("SELECT DISTINCT run_id FROM provenance").fetchall()]
    return (runs[0] if len(runs) == 1 else None), complete


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_sigkill_at_several_points_never_breaks_the_baseline(cli_built_sample, tmp_path):
    # The first, complete run: the session's `tipipeline run` of the sample, copied with its Dagster home.
    build = cli_built_sample.copy(tmp_path / "build")
    env = dict(
        os.environ,
        DAGSTER_HOME=str(build.home),
        TIPIPELINE_DATA_DIR=str(build.data),
        TIPIPELINE_OUTPUT_DIR=str(build.outputs),
    )
    baseline = build.data / "warehouse" / "baseline.duckdb"
    assert _snapshot(baseline)[1]
    seen = {_snapshot(baseline)[0]}
    for delay in (1.5, 4.0, 7.0, 10.0, 12.5):
        run = _cli(["run", "--select", TABLES_ONLY], env)
        time.sleep(delay)
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=60)
        run_id, complete = _snapshot(baseline)
        assert complete, f"killed after {delay} s: the published baseline is incomplete"
        seen.add(run_id)
    final = _cli(["run", "--select", TABLES_ONLY], env)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    run_id, complete = _snapshot(baseline)
    assert complete and run_id not in seen  # a new, complete baseline
    assert not list(baseline.parent.glob(".baseline.duckdb.*.tmp*"))  # temporaries of killed runs are gone
    with duckdb.connect(str(build.data / "warehouse" / "tipipeline.duckdb"), read_only=True) as conn:
        quality = conn.execute(
            "SELECT sum(rows_read), sum(rows_accepted + rows_quarantined + rows_excluded) FROM survey_data_quality"
        ).fetchall()[0]
    assert quality[0] == quality[1] == 3019 + 3011
    json.dumps(sorted(map(str, seen)))
