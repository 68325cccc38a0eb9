"""A researcher's read-only connection never blocks a run and never sees a half-written baseline."""

import json
import subprocess
import sys
import textwrap

import duckdb
from conftest import TABLES_ONLY

from tipipeline.pipeline import run_pipeline

READER = textwrap.dedent("""
    import json, sys, time
    import tipipeline

    def snapshot(con):
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall()}
        expected = dict(con.execute("SELECT table_name, rows FROM provenance").fetchall())
        complete = tables == set(expected) | {"provenance"} and all(
            con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] == n for t, n in expected.items())
        run = con.execute("SELECT DISTINCT run_id FROM provenance").fetchall()
        return run[0][0] if len(run) == 1 else None, complete

    data_dir, flag, mode = sys.argv[1:4]
    if mode == "hold":
        # One connection held open for the whole run, like a notebook left open.
        held = tipipeline.open_baseline(data_dir)
        first_run, first_complete = snapshot(held)
        print("READY", flush=True)
        while open(flag).read().strip() != "stop":
            time.sleep(0.05)
        held_run, held_complete = snapshot(held)
        print(json.dumps({"first": first_run, "first_complete": first_complete, "held": held_run,
                          "held_complete": held_complete}))
    else:
        # A new connection every few milliseconds, each closed again (DuckDB reuses an open one).
        print("READY", flush=True)
        seen, incomplete, opened = set(), 0, 0
        while open(flag).read().strip() != "stop":
            con = tipipeline.open_baseline(data_dir)
            run, complete = snapshot(con)
            con.close()
            seen.add(run)
            incomplete += not complete
            opened += 1
            time.sleep(0.01)
        print(json.dumps({"seen": sorted(map(str, seen)), "incomplete": incomplete, "opened": opened}))
""")


def test_open_reader_through_a_full_run(built_copy, tmp_path):
    # The first run is the session's build of the sample (copied); its run published the baseline.
    settings, instance = built_copy.settings, built_copy.instance
    with duckdb.connect(str(settings.baseline_path), read_only=True) as conn:
        [(old_run,)] = conn.execute("SELECT DISTINCT run_id FROM provenance").fetchall()
    flag = tmp_path / "flag"
    flag.write_text("")
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(settings.data_dir), str(flag), mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode in ("hold", "poll")
    ]
    try:
        for reader in readers:
            assert reader.stdout.readline().strip() == "READY"
        second = run_pipeline(
            settings, selection=TABLES_ONLY, instance=instance
        )  # succeeds although readers hold the file
    finally:
        flag.write_text("stop")
        outputs = [reader.communicate(timeout=120) for reader in readers]
    for reader, (_out, err) in zip(readers, outputs):
        assert reader.returncode == 0, err
    held, polled = (json.loads(out.strip().splitlines()[-1]) for out, _ in outputs)
    new_run = second.run_ids[-1]
    assert held["first"] == old_run and held["first_complete"]
    assert held["held"] == old_run and held["held_complete"]  # the held connection keeps its snapshot
    assert polled["opened"] > 10 and polled["incomplete"] == 0  # no reader ever saw a partial baseline
    assert set(polled["seen"]) == {old_run, new_run}  # old until the swap, new after it
