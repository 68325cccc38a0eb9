"""Benchmark: raw files to the published baseline (maps and report excluded), per size, against
the floor of DuckDB's bare read_csv of the same files; and the cost of adding a wave.

    .venv/bin/python bench/end_to_end.py --sizes 10000 100000 1000000
    .venv/bin/python bench/end_to_end.py --added-wave --waves 6 --respondents 20000

Each measurement runs in a child process (wall time and peak RSS of that process). Results go to
bench/results/end_to_end_<N>.json and bench/results/added_wave.json.
Targets (issue #14, on 2 cores): 1M end-to-end <= 4 x the floor and <= 4 GB, 100k <= 5 x; an added wave
<= 25% (issue #11) of a full rebuild. Each result lists the slowest pipeline steps.
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

from measure import run_measured

HERE = Path(__file__).resolve().parent
TABLES_ONLY = "not group:outputs or key:published_baseline"

RUN = """
import json, sys, time
from dagster import DagsterInstance
from tipipeline.pipeline import run_pipeline
from tipipeline.settings import get_settings
settings = get_settings(sys.argv[1], sys.argv[2])
selection = sys.argv[3]
started = time.perf_counter()
with DagsterInstance.ephemeral() as instance:
    summary = run_pipeline(settings, selection=selection, instance=instance)
    seconds = time.perf_counter() - started
    # Where the time goes, step by step (issue 14: is ingest alone the gap to the floor?).
    steps = {}
    for run_id in summary.run_ids:
        for stat in instance.get_run_step_stats(run_id):
            if stat.start_time and stat.end_time:
                steps[stat.step_key] = steps.get(stat.step_key, 0) + stat.end_time - stat.start_time
print(json.dumps({"seconds": seconds, "steps": steps}))
"""

FLOOR = """
import sys, time, duckdb, glob
started = time.perf_counter()
conn = duckdb.connect()
for i, path in enumerate(sorted(glob.glob(sys.argv[1] + "/raw/surveys/*/export.csv"))):
    conn.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv('{path}', header = false, skip = 3, all_varchar = true)")
print(time.perf_counter() - started)
"""


def child(code: str, *args: str) -> tuple[float, float, float]:
    """(wall seconds measured inside, wall seconds outside, peak RSS MiB of that process alone); the
    step durations a pipeline child reports are kept in LAST_STEPS."""
    stdout, outside, peak = run_measured(code, *args)
    last = stdout.strip().splitlines()[-1]
    if last.startswith("{"):
        reported = json.loads(last)
        LAST_STEPS.clear()
        LAST_STEPS.update(reported["steps"])
        return float(reported["seconds"]), outside, peak
    return float(last), outside, peak


LAST_STEPS: dict[str, float] = {}


def make(data: Path, respondents: int, waves: int = 1) -> None:
    subprocess.run(
        [
            sys.executable,
            str(HERE / "make_export.py"),
            str(data),
            "--respondents",
            str(respondents),
            "--waves",
            str(waves),
        ],
        check=True,
    )


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def end_to_end(size: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        make(data, size)
        export_bytes = sum(p.stat().st_size for p in data.glob("raw/surveys/*/export.csv"))
        floor, _, floor_rss = child(FLOOR, str(data))
        inside, outside, peak = child(RUN, str(data), str(Path(tmp) / "outputs"), TABLES_ONLY)
    return {
        "benchmark": "end to end: raw export to published baseline (maps and report excluded)",
        "respondents": size,
        "items": 60,
        "export_bytes": export_bytes,
        "floor_read_csv_seconds": round(floor, 2),
        "pipeline_seconds": round(inside, 2),
        "process_seconds": round(outside, 2),
        "ratio_to_floor": round(inside / floor, 1),
        "peak_rss_mib": round(peak, 1),
        "floor_peak_rss_mib": round(floor_rss, 1),
        # The slowest steps (seconds; steps of one run can overlap on 2 cores).
        "step_seconds": {k: round(v, 2) for k, v in sorted(LAST_STEPS.items(), key=lambda kv: -kv[1])[:12]},
        "targets": {"ratio_to_floor": 4, "peak_rss_mib": 4096, "ratio_to_floor_100k": 5},
        "machine": machine(),
    }


def added_wave(waves: int, respondents: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        make(data, respondents, waves + 1)
        newest = sorted((data / "raw" / "surveys").glob("2024-w*"), key=lambda p: int(p.name.split("w")[1]))[-1]
        held = Path(tmp) / "held"
        shutil.move(str(newest), held)
        # Build the first `waves` waves; then add one and build again, keeping the warehouse and the
        # Dagster instance (only the new wave's partition is new work).
        code = RUN.replace(
            "with DagsterInstance.ephemeral() as instance:", "with DagsterInstance.local_temp(sys.argv[4]) as instance:"
        )
        home = Path(tmp) / "dagster_home"
        home.mkdir()
        first, _, _ = child(code, str(data), str(Path(tmp) / "outputs"), TABLES_ONLY, str(home))
        shutil.move(str(held), newest)
        selection = f"{TABLES_ONLY}"
        incremental_code = code.replace(
            "run_pipeline(settings, selection=selection, instance=instance)",
            "run_pipeline(settings, selection=selection, instance=instance, only_waves=[sys.argv[5]])",
        )
        added, _, _ = child(incremental_code, str(data), str(Path(tmp) / "outputs"), selection, str(home), newest.name)
        rebuild_home = Path(tmp) / "rebuild_home"
        rebuild_home.mkdir()
        shutil.rmtree(data / "warehouse")
        full, _, _ = child(code, str(data), str(Path(tmp) / "outputs2"), TABLES_ONLY, str(rebuild_home))
    return {
        "benchmark": "adding a wave: the new wave's partition and the London-wide assets, against a full rebuild",
        "waves_before": waves,
        "respondents_per_wave": respondents,
        "first_build_seconds": round(first, 2),
        "added_wave_seconds": round(added, 2),
        "full_rebuild_seconds": round(full, 2),
        "added_over_full": round(added / full, 3),
        "target_added_over_full": 0.25,
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[])
    parser.add_argument("--added-wave", action="store_true")
    parser.add_argument("--waves", type=int, default=6)
    parser.add_argument("--respondents", type=int, default=20_000)
    args = parser.parse_args()
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    for size in args.sizes:
        result = end_to_end(size)
        (out / f"end_to_end_{size}.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
    if args.added_wave:
        result = added_wave(args.waves, args.respondents)
        (out / "added_wave.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
