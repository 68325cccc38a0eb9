"""Benchmark: what an export's width costs (issue 28, item 3).

    .venv/bin/python bench/width_benchmark.py --respondents 10000 100000 --items 60 400 1500
    .venv/bin/python bench/width_benchmark.py --check-widths 500 1000 2000 10000

Ingest, for each respondents x items: the export is generated (`make_export.py`, not timed), then
each of these runs in a child process measured alone (`measure.py`: wall time and peak RSS):
- the floor: DuckDB's bare `read_csv` of the file into an in-memory table (as `end_to_end.py`);
- the ingest: the `survey_codebook` and `survey_wave` assets materialised as `tipipeline run` does
  (in-process Dagster, a DuckDB warehouse), as `ingest_benchmark.py` does;
- each reader alone (`read_export(path, "duckdb")` and `read_export(path, "python")`), unless
  `--no-readers`.
Writes bench/results/width_ingest_<respondents>x<items>.json.

Check, for each width W: a one-respondent export of W columns (`make_export.py --respondents 1
--items W-22`) in a data directory with its codebook, and `tipipeline check FILE --json` run in a
child process as a user runs it there (the data directory's codebook, the default reader), timed
from outside: Python's start-up included. Writes bench/results/width_check_<W>.json.

`--out DIR` writes the results elsewhere (for measuring another checkout's code: put its folder
first on PYTHONPATH). Targets (issue 28, on 2 cores): the check of 10,000 columns <= 10 s; 10,000
respondents x 1,500 items ingested within 5 x the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import run_measured

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


LABEL: list[str] = []  # --label


def code_measured() -> dict:
    """Which tipipeline the children import (this checkout's, or the one first on PYTHONPATH)."""
    done = subprocess.run(
        [sys.executable, "-c", "import tipipeline, pathlib; print(pathlib.Path(tipipeline.__file__).parents[1])"],
        capture_output=True,
        text=True,
        check=True,
    )
    root = done.stdout.strip()
    commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "-C", root, "status", "--porcelain", "--", "tipipeline"], capture_output=True, text=True
    )
    return {
        "tipipeline": root,
        "commit": commit.stdout.strip() or None,
        # Files under tipipeline/ that differ from the commit (another engineer's work in progress too).
        "uncommitted_changes_to_tipipeline": [line[3:] for line in dirty.stdout.splitlines()]
        if commit.returncode == 0
        else None,
        "label": LABEL[0] if LABEL else None,
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


def ingest(respondents: int, items: int, readers: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        export = make(data, respondents, items)
        out, floor_outside, floor_rss = run_measured(FLOOR, str(export))
        floor = seconds(out)
        out, outside, peak = run_measured(INGEST, str(data), str(Path(tmp) / "outputs"))
        pipeline = seconds(out)
        result = {
            "benchmark": "width: survey ingestion (codebook + one wave) through the Dagster assets, against the floor",
            "respondents": respondents,
            "items": items,
            "columns": items + BASE_COLUMNS,
            "cells": respondents * (items + BASE_COLUMNS),
            "export_bytes": export.stat().st_size,
            "floor_read_csv_seconds": round(floor, 2),
            "floor_peak_rss_mib": round(floor_rss, 1),
            "ingest_pipeline_seconds": round(pipeline, 2),
            "ingest_process_seconds": round(outside, 2),
            "ingest_ratio_to_floor": round(pipeline / floor, 2),
            "ingest_peak_rss_mib": round(peak, 1),
        }
        if readers:
            for reader in ("duckdb", "python"):
                out, _, peak = run_measured(READ, str(export), reader)
                result[f"read_{reader}_seconds"] = round(seconds(out), 2)
                result[f"read_{reader}_peak_rss_mib"] = round(peak, 1)
    result["targets"] = {"ingest_ratio_to_floor_at_10000x1500": 5}
    result["code"] = code_measured()
    result["machine"] = machine()
    return result


def check(width: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        export = make(data, 1, width - BASE_COLUMNS)
        environment = {**os.environ, "TIPIPELINE_DATA_DIR": str(data)}
        environment.pop("TIPIPELINE_INGEST_READER", None)  # the default reader, as a user runs it
        out, outside, peak = run_measured(CHECK, str(export), "--json", env=environment)
        (report,) = json.loads(out)
        export_bytes = export.stat().st_size
    return {
        "benchmark": "width: tipipeline check FILE --json on a one-respondent export of W columns, timed from outside",
        "columns": width,
        "respondents": 1,
        "export_bytes": export_bytes,
        "check_process_seconds": round(outside, 2),
        "peak_rss_mib": round(peak, 1),
        "usable": report["usable"],
        "rows_accepted": report["rows_accepted"],
        "reader": report.get("reader"),
        "reader_declined": report.get("reader_declined"),
        "targets": {"check_process_seconds_at_10000_columns": 10},
        "code": code_measured(),
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, nargs="*", default=[])
    parser.add_argument("--items", type=int, nargs="*", default=[60, 400, 1500])
    parser.add_argument("--check-widths", type=int, nargs="*", default=[])
    parser.add_argument("--no-readers", action="store_true", help="skip timing each reader alone")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--label", help="what code is measured, recorded in each result (e.g. a commit)")
    args = parser.parse_args()
    LABEL.extend([args.label] if args.label else [])
    args.out.mkdir(parents=True, exist_ok=True)
    for respondents in args.respondents:
        for items in args.items:
            result = ingest(respondents, items, not args.no_readers)
            (args.out / f"width_ingest_{respondents}x{items}.json").write_text(json.dumps(result, indent=2) + "\n")
            print(json.dumps(result, indent=2), flush=True)
    for width in args.check_widths:
        result = check(width)
        (args.out / f"width_check_{width}.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2), flush=True)


if __name__ == "__main__":
    main()
