"""Benchmark: disclosure control on a built warehouse: cells suppressed (primary, secondary) when
each indicator is suppressed alone and when families sharing an n are suppressed together, what the
integer-programming audit finds in each, and how long suppression and the audits take (the audit
with its fast sufficient test, and the exact audit it must agree with).

    .venv/bin/python bench/disclosure_audit.py                 # builds the bundled sample first
    .venv/bin/python bench/disclosure_audit.py --data-dir D    # an already built data directory

Result: bench/results/disclosure_audit.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
TABLES_ONLY = "not group:outputs or key:published_baseline"


def _build(root: Path) -> Path:
    from dagster import DagsterInstance

    from tipipeline.pipeline import run_pipeline
    from tipipeline.settings import get_settings

    shutil.copytree(HERE.parent / "data" / "raw", root / "data" / "raw")
    settings = get_settings(root / "data", root / "outputs")
    with DagsterInstance.ephemeral() as instance:
        run_pipeline(settings, selection=TABLES_ONLY, instance=instance)
    return root / "data"


def _counts(cells) -> dict:
    reasons = cells["suppression_reason"].dropna()
    return {
        "cells": len(cells),
        "suppressed": int(cells["suppressed"].sum()),
        "primary": int(reasons.str.startswith("primary").sum()),
        "secondary": int(reasons.str.startswith("secondary").sum()),
    }


def measure(data_dir: Path) -> dict:
    from tipipeline.framework import load_framework
    from tipipeline.framework.catalogue import indicator_families, load_indicator_catalogue
    from tipipeline.stats.disclosure import suppress
    from tipipeline.stats.disclosure_audit import audit, audit_published

    framework = load_framework()
    threshold = framework.disclosure.min_cell_size
    families = indicator_families(load_indicator_catalogue(framework))
    warehouse = data_dir / "warehouse"
    with duckdb.connect(str(warehouse / "tipipeline.duckdb"), read_only=True) as conn:
        cells = conn.execute("SELECT * FROM indicator_cells").df()  # survey cells only
        files = conn.execute("SELECT DISTINCT wave, source_file, org_id FROM stg_respondents").df()
    result = {"threshold": threshold}
    rules = (
        ("each_indicator_alone", {"families": None, "link_equal_n": False}),
        ("families_together", {"families": families, "link_equal_n": False}),
        ("families_and_equal_n_linked", {"families": families, "link_equal_n": True}),
    )
    for name, rule in rules:
        started = time.perf_counter()
        controlled = suppress(cells, threshold, **rule)
        suppress_seconds = time.perf_counter() - started
        audited = cells.assign(suppressed=controlled["suppressed"].to_numpy())
        started = time.perf_counter()
        problems = audit(audited, threshold, families)
        audit_seconds = time.perf_counter() - started
        # The exact audit (every cell solved both ways), which the fast sufficient test must agree with.
        started = time.perf_counter()
        exact = audit(audited, threshold, families, fast_test=False)
        result[name] = {
            **_counts(controlled),
            "suppress_seconds": round(suppress_seconds, 2),
            "audit_seconds": round(audit_seconds, 2),
            "exact_audit_seconds": round(time.perf_counter() - started, 2),
            "same_problems_as_the_exact_audit": bool(problems.equals(exact)),
            "audit_problem_rows": len(problems),
            "audit_problem_family_waves": int(problems.groupby([problems["indicator_id"], "wave"]).ngroups),
        }
    started = time.perf_counter()
    with duckdb.connect(str(warehouse / "baseline.duckdb"), read_only=True) as conn:
        published_problems = audit_published(conn, threshold, files)
    result["published_tables_audit"] = {
        "seconds": round(time.perf_counter() - started, 2),
        "problems": len(published_problems),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="an already built data directory (default: build the sample)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tipipeline-bench-") as tmp:
        data_dir = args.data_dir or _build(Path(tmp))
        result = measure(data_dir)
    result["machine"] = {"python": platform.python_version(), "processor": platform.processor() or platform.machine()}
    out = HERE / "results" / "disclosure_audit.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
