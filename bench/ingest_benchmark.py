"""Benchmark: ingest a generated N-respondent, 60-item Qualtrics export through the pipeline.

    .venv/bin/python bench/ingest_benchmark.py [--respondents 200000] [--items 60]

Generates the export (not timed), then in a child process materialises the codebook and the
`survey_wave` assets exactly as `tipipeline run` does (in-process Dagster, DuckDB warehouse), and
records wall time and the child's peak resident memory. Writes bench/results/ingest_<N>.json.
Targets (issue #3, 200,000 x 60 on 2 cores): <= 60 s and <= 3 GB peak RSS.
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
CHILD = """
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=200_000)
    parser.add_argument("--items", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        subprocess.run(
            [
                sys.executable,
                str(HERE / "make_export.py"),
                str(data),
                "--respondents",
                str(args.respondents),
                "--items",
                str(args.items),
            ],
            check=True,
        )
        export = next((data / "raw" / "surveys").glob("*/export.csv"))
        size = export.stat().st_size
        stdout, wall, peak_mib = run_measured(CHILD, str(data), str(Path(tmp) / "outputs"))
        import duckdb

        with duckdb.connect(str(data / "warehouse" / "tipipeline.duckdb"), read_only=True) as conn:
            counts = dict(
                conn.execute(
                    "SELECT 'respondents', count(*) FROM stg_respondents UNION ALL "
                    "SELECT 'responses', count(*) FROM stg_responses"
                ).fetchall()
            )
    result = {
        "benchmark": "survey ingestion (codebook + one wave) through the Dagster assets",
        "respondents": args.respondents,
        "items": args.items,
        "export_bytes": size,
        "wall_seconds_process": round(wall, 2),
        "wall_seconds_pipeline": round(float(stdout.strip().splitlines()[-1]), 2),
        "peak_rss_mib": round(peak_mib, 1),
        "staged_respondents": counts["respondents"],
        "staged_responses": counts["responses"],
        "targets": {"wall_seconds": 60, "peak_rss_mib": 3072},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    out = HERE / "results" / f"ingest_{args.respondents}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
