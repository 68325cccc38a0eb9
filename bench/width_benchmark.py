"""Benchmark: what an export's width costs (issue 28, item 3).

    .venv/bin/python bench/width_benchmark.py --respondents 10000 100000 --items 60 400 1500
    .venv/bin/python bench/width_benchmark.py --check-widths 500 1000 2000 10000
    # either, with an earlier tree measured on the same exports, back to back:
    git archive COMMIT | tar -x -C /tmp/before
    .venv/bin/python bench/width_benchmark.py ... --before-tree /tmp/before --before-label COMMIT

Ingest, for each respondents x items: the export is generated (`make_export.py`, not timed), then
each of these runs in a child process measured alone (`measure.py`: wall time and peak RSS):
- the floor: DuckDB's bare `read_csv` of the file into an in-memory table (as `end_to_end.py`),
  before the runs and again after them (the ratios are to their mean: this machine's speed drifts);
- the ingest: the `survey_codebook` and `survey_wave` assets materialised as `tipipeline run` does
  (in-process Dagster, a DuckDB warehouse), as `ingest_benchmark.py` does;
- each reader alone (`read_export(path, "duckdb")` and `read_export(path, "python")`), unless
  `--no-readers`.
Writes bench/results/width_ingest_<respondents>x<items>.json.

Check, for each width W: a one-respondent export of W columns (`make_export.py --respondents 1
--items W-22`) in a data directory with its codebook, and `tipipeline check FILE --json` run in a
child process as a user runs it there (the data directory's codebook, the default reader), timed
from outside: Python's start-up included. Writes bench/results/width_check_<W>.json.

With `--before-tree`, each measurement is made with this checkout's code and then with the tree's
(its folder first on PYTHONPATH), on the same export; the tree's figures go under "before" in the
same result (`--before-timeout`: stop its check after so many seconds). Each result names the code
it measured (`code`). Targets (issue 28, on 2 cores): the check of 10,000 columns <= 10 s; 10,000
respondents x 1,500 items ingested within 5 x the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import TimedOut, run_measured

HERE = Path(__file__).resolve().parent
BASE_COLUMNS = 22  # make_export.py's columns before the items

FLOOR = """
import sys, time, duckdb
started = time.perf_counter()
conn = duckdb.connect()
conn.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{sys.argv[1]}', header = false, skip = 3, all_varchar = true)")
print(time.perf_counter() - started)
"""

INGEST = """
import sys, time
from dagster import DagsterInstance
from tipipeline.pipeline import run_pipeline
from tipipeline.settings import get_settings
settings = get_settings(sys.argv[1], sys.argv[2])
started = time.perf_counter()
with DagsterInstance.ephemeral() as instance:
    run_pipeline(settings, selection="key:survey_codebook or key:stg_respondents", instance=instance)
print(time.perf_counter() - started)
"""

READ = """
import sys, time
from tipipeline.ingest.exports import read_export
started = time.perf_counter()
raw = read_export(sys.argv[1], sys.argv[2])
seconds = time.perf_counter() - started
assert raw.reader == sys.argv[2], raw.declined
print(seconds)
"""

CHECK = """
import sys
from tipipeline.cli import main
sys.exit(main(["check", *sys.argv[1:]]))
"""


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


REPO = HERE.parent


class Code:
    """Where the children import tipipeline from: this checkout, or an earlier tree (a folder holding
    `tipipeline/`, e.g. `git archive COMMIT | tar -x -C DIR`), put first on PYTHONPATH and made the
    children's folder (Python puts the current folder before PYTHONPATH)."""

    def __init__(self, tree: Path | None, label: str | None):
        self.tree, self.label = tree, label

    def run(self, code: str, *args: str, env: dict[str, str] | None = None, timeout: float | None = None):
        env = dict(os.environ if env is None else env)
        if self.tree is not None:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.tree), env.get("PYTHONPATH")]))
        return run_measured(code, *args, env=env, cwd=str(self.tree or REPO), timeout=timeout)

    def describe(self) -> dict:
        """Which tipipeline the children import, its commit and the files under it not committed."""
        out, _, _ = self.run("import tipipeline, pathlib; print(pathlib.Path(tipipeline.__file__).parents[1])")
        root = out.strip().splitlines()[-1]
        commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--", "tipipeline"], capture_output=True, text=True
        )
        in_git = commit.returncode == 0
        return {
            "tipipeline": root,
            "commit": commit.stdout.strip() if in_git else None,
            # Files under tipipeline/ that differ from the commit (another engineer's work in progress too).
            "uncommitted_changes_to_tipipeline": [line[3:] for line in dirty.stdout.splitlines()] if in_git else None,
            "label": self.label,
        }


def make(data: Path, respondents: int, items: int) -> Path:
    subprocess.run(
        [
            sys.executable,
            str(HERE / "make_export.py"),
            str(data),
            "--respondents",
            str(respondents),
            "--items",
            str(items),
        ],
        check=True,
    )
    return next((data / "raw" / "surveys").glob("*/export.csv"))


def seconds(stdout: str) -> float:
    return float(stdout.strip().splitlines()[-1])


def _ingest_runs(code: Code, data: Path, export: Path, readers: bool, floor: float) -> dict:
    """The ingest (and each reader alone) with one code's tipipeline, on the same export."""
    outputs = data.parent / "outputs"
    for made in (data / "warehouse", outputs):
        shutil.rmtree(made, ignore_errors=True)  # each run starts from nothing
    out, outside, peak = code.run(INGEST, str(data), str(outputs))
    pipeline = seconds(out)
    result = {
        "ingest_pipeline_seconds": round(pipeline, 2),
        "ingest_process_seconds": round(outside, 2),
        "ingest_ratio_to_floor": round(pipeline / floor, 2),
        "ingest_peak_rss_mib": round(peak, 1),
    }
    if readers:
        for reader in ("duckdb", "python"):
            out, _, peak = code.run(READ, str(export), reader)
            result[f"read_{reader}_seconds"] = round(seconds(out), 2)
            result[f"read_{reader}_peak_rss_mib"] = round(peak, 1)
    result["code"] = code.describe()
    return result


def ingest(respondents: int, items: int, readers: bool, this: Code, before: Code | None) -> dict:
    """One export; the floor before and after the runs (the machine's speed drifts: the ratios are
    to their mean); this checkout's runs, then the earlier tree's on the same file, back to back."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        export = make(data, respondents, items)
        out, _, floor_rss = run_measured(FLOOR, str(export))
        floors = [seconds(out)]
        runs = {"this": _ingest_runs(this, data, export, readers, floors[0])}
        if before is not None:
            runs["before"] = _ingest_runs(before, data, export, readers, floors[0])
        out, _, _ = run_measured(FLOOR, str(export))
        floors.append(seconds(out))
        export_bytes = export.stat().st_size
    floor = sum(floors) / len(floors)
    for run in runs.values():
        run["ingest_ratio_to_floor"] = round(run["ingest_pipeline_seconds"] / floor, 2)
    return {
        "benchmark": "width: survey ingestion (codebook + one wave) through the Dagster assets, against the floor",
        "respondents": respondents,
        "items": items,
        "columns": items + BASE_COLUMNS,
        "cells": respondents * (items + BASE_COLUMNS),
        "export_bytes": export_bytes,
        "floor_read_csv_seconds": round(floor, 2),
        "floor_read_csv_seconds_each": [round(f, 2) for f in floors],
        "floor_peak_rss_mib": round(floor_rss, 1),
        **runs.pop("this"),
        **({"before": runs["before"]} if runs else {}),
        "targets": {"ingest_ratio_to_floor_at_10000x1500": 5},
        "machine": machine(),
    }


def _check_run(code: Code, data: Path, export: Path, timeout: float | None) -> dict:
    environment = {**os.environ, "TIPIPELINE_DATA_DIR": str(data)}
    environment.pop("TIPIPELINE_INGEST_READER", None)  # the default reader, as a user runs it
    try:
        out, outside, peak = code.run(CHECK, str(export), "--json", env=environment, timeout=timeout)
    except TimedOut as stopped:
        return {"check_process_seconds": None, "stopped": f"{stopped}: no answer", "code": code.describe()}
    (report,) = json.loads(out)
    return {
        "check_process_seconds": round(outside, 2),
        "peak_rss_mib": round(peak, 1),
        "usable": report["usable"],
        "rows_accepted": report["rows_accepted"],
        "reader": report.get("reader"),
        "reader_declined": report.get("reader_declined"),
        "code": code.describe(),
    }


def check(width: int, this: Code, before: Code | None, before_timeout: float | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        export = make(data, 1, width - BASE_COLUMNS)
        result = {
            "benchmark": "width: tipipeline check FILE --json on a one-respondent export of W columns, timed from outside",
            "columns": width,
            "respondents": 1,
            "export_bytes": export.stat().st_size,
            **_check_run(this, data, export, None),
        }
        if before is not None:
            result["before"] = _check_run(before, data, export, before_timeout)
    result["targets"] = {"check_process_seconds_at_10000_columns": 10}
    result["machine"] = machine()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, nargs="*", default=[])
    parser.add_argument("--items", type=int, nargs="*", default=[60, 400, 1500])
    parser.add_argument("--check-widths", type=int, nargs="*", default=[])
    parser.add_argument("--no-readers", action="store_true", help="skip timing each reader alone")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--label", help="what this checkout's code is, recorded in each result")
    parser.add_argument("--before-tree", type=Path, help="an earlier tree to measure on the same exports, back to back")
    parser.add_argument("--before-label", help="what the earlier tree is (e.g. its commit)")
    parser.add_argument("--before-timeout", type=float, help="seconds after which the earlier tree's check is stopped")
    args = parser.parse_args()
    this = Code(None, args.label)
    before = Code(args.before_tree.resolve(), args.before_label) if args.before_tree else None
    args.out.mkdir(parents=True, exist_ok=True)
    for respondents in args.respondents:
        for items in args.items:
            result = ingest(respondents, items, not args.no_readers, this, before)
            (args.out / f"width_ingest_{respondents}x{items}.json").write_text(json.dumps(result, indent=2) + "\n")
            print(json.dumps(result, indent=2), flush=True)
    for width in args.check_widths:
        result = check(width, this, before, args.before_timeout)
        (args.out / f"width_check_{width}.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2), flush=True)


if __name__ == "__main__":
    main()
