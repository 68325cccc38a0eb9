"""Benchmark: the bundled sample built as `tipipeline run` builds it, with and without the maps,
report and journey pages, and the routine re-run when nothing has changed.

    .venv/bin/python bench/sample_build.py [--repeats 3]

Each build runs in a child process on a fresh copy of data/raw (wall time of the whole run, and
Dagster's time per step, summed over partitions). Reported: the median of `--repeats` builds
(default 3) and every build's figure. Result: bench/results/sample_build.json.
Target (issue 28, on 2 cores): the whole build, maps, report and journey pages included, within 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
from pathlib import Path

from measure import run_measured

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "data" / "raw"
TABLES_ONLY = "not group:outputs or key:published_baseline"

# One child: a fresh build (with `selection`), then, when asked, the same run again on the same
# folder and instance (what `make run` does the second time).
RUN = """
import json, sys, time
from dagster import DagsterInstance
from tipipeline.pipeline import run_pipeline
from tipipeline.settings import get_settings
settings = get_settings(sys.argv[1], sys.argv[2])
selection = sys.argv[3] or None
again = sys.argv[4] == "again"

def steps(instance, summary):
    found = {}
    for run_id in summary.run_ids:
        for stat in instance.get_run_step_stats(run_id):
            if stat.start_time and stat.end_time:
                found[stat.step_key] = found.get(stat.step_key, 0) + stat.end_time - stat.start_time
    return dict(sorted(found.items(), key=lambda kv: -kv[1]))

result = {}
with DagsterInstance.local_temp() as instance:
    for name in ("fresh", "rerun") if again else ("fresh",):
        started = time.perf_counter()
        summary = run_pipeline(settings, selection=selection, instance=instance)
        result[name] = {"seconds": time.perf_counter() - started, "steps": steps(instance, summary)}
print(json.dumps(result))
"""


def build(selection: str, again: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="tipipeline-sample-build-") as tmp:
        shutil.copytree(SAMPLE, Path(tmp) / "data" / "raw")
        out, outside, peak = run_measured(
            RUN, str(Path(tmp) / "data"), str(Path(tmp) / "outputs"), selection, "again" if again else "once"
        )
    result = json.loads(out)
    result["fresh"]["peak_rss_mib"] = round(peak)
    result["fresh"]["seconds_with_start_up"] = round(outside, 2) if not again else None
    return result


def _summary(runs: list[dict]) -> dict:
    seconds = [r["seconds"] for r in runs]
    slowest = runs[seconds.index(statistics.median_low(seconds))]["steps"]
    return {
        "median_seconds": round(statistics.median(seconds), 2),
        "seconds": [round(s, 2) for s in seconds],
        "slowest_steps_of_the_median_run": {k: round(v, 2) for k, v in list(slowest.items())[:8]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    tables, everything, reruns = [], [], []
    for _ in range(args.repeats):
        tables.append(build(TABLES_ONLY, again=False)["fresh"])
        full = build("", again=True)
        everything.append(full["fresh"])
        reruns.append(full["rerun"])
    result = {
        "what": "the bundled sample (data/raw: two waves of about 3,000 respondents) built by run_pipeline",
        "tables_and_published_baseline": _summary(tables),
        "everything_with_maps_report_and_journey_pages": _summary(everything),
        "rerun_with_nothing_changed": _summary(reruns),
        "target_seconds": 30,
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "cores": len(os.sched_getaffinity(0)),
        },
    }
    out = HERE / "results" / "sample_build.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
