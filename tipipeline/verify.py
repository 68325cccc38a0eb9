"""`tipipeline verify`: rebuild everything from the inputs in a temporary folder and compare.

Published tables are compared by content, order-independently (the provenance table, which
records the run, is skipped); maps, the report and the CSV/Parquet exports by their bytes. Any
difference is named.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from tipipeline.files import file_sha256
from tipipeline.settings import Settings

SKIPPED_TABLES = {"provenance"}  # differs by design: run id and time


def table_digests(baseline: Path) -> dict[str, str]:
    """Table -> SHA-256 of its rows sorted by every column (order-independent), with its columns."""
    digests = {}
    with duckdb.connect(str(baseline), read_only=True) as conn:
        tables = [t for (t,) in conn.execute("SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall()]
        for table in sorted(set(tables) - SKIPPED_TABLES):
            frame = conn.execute(f"SELECT * FROM {table}").df()
            ordered = frame.astype(str).sort_values(list(frame.columns)).reset_index(drop=True)
            digest = hashlib.sha256("\x1f".join(frame.columns).encode())
            digest.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
            digests[table] = digest.hexdigest()
    return digests


FILE_PATTERNS = ("maps/**/*.png", "report/*.html", "exports/*.csv", "exports/*.parquet")


def file_digests(folder: Path, patterns=FILE_PATTERNS) -> dict[str, str]:
    """Output file -> SHA-256 of its bytes (the provenance exports, which record the run, skipped)."""
    found = {}
    for pattern in patterns:
        for path in sorted(folder.glob(pattern)):
            if path.parent.name == "exports" and path.stem in SKIPPED_TABLES:
                continue
            found[path.relative_to(folder).as_posix()] = file_sha256(path)
    return found


def compare(current: dict[str, str], rebuilt: dict[str, str], kind: str) -> list[str]:
    differences = []
    for name in sorted(set(current) | set(rebuilt)):
        if name not in rebuilt:
            differences.append(f"{kind} {name}: in the current outputs but not rebuilt")
        elif name not in current:
            differences.append(f"{kind} {name}: rebuilt but missing from the current outputs")
        elif current[name] != rebuilt[name]:
            differences.append(f"{kind} {name}: differs")
    return differences


def input_changes(settings: Settings) -> list[str]:
    """Input files whose SHA-256 differs from the one the published baseline recorded (changed,
    added or removed since it was published), named one per line."""
    import json

    from tipipeline.framework import FRAMEWORK_PATH
    from tipipeline.framework.catalogue import CATALOGUE_PATH
    from tipipeline.ingest.policy_audit import audit_files
    from tipipeline.inputs import version_of, wave_versions
    from tipipeline.outcomes.files import outcome_config_files, outcome_files

    with duckdb.connect(str(settings.baseline_path), read_only=True) as conn:
        recorded_files, codebook_sha, framework_sha, catalogue_sha = conn.execute(
            "SELECT input_files, codebook_sha256, framework_sha256, catalogue_sha256 FROM provenance LIMIT 1"
        ).fetchone()
    recorded = {item["file"]: item["sha256"] for item in json.loads(recorded_files)}
    recorded["surveys/codebook.yaml"] = codebook_sha
    recorded["framework/framework.yaml"], recorded["framework/indicators.yaml"] = framework_sha, catalogue_sha
    # The same file lists and hashes as the source assets' data versions (inputs.py).
    current = {
        f"surveys/{wave}/{name}": sha
        for wave, version in wave_versions(settings).items()
        for name, sha in version.files.items()
    }
    audits = version_of(audit_files(settings.policy_audit_dir)).files
    current.update({f"policy_audit/{name}": sha for name, sha in audits.items()})
    outcomes = version_of(outcome_files(settings.outcomes_dir)).files
    current.update({f"outcomes/{name}": sha for name, sha in outcomes.items()})
    if settings.codebook_path.is_file():
        current["surveys/codebook.yaml"] = file_sha256(settings.codebook_path)
    current["framework/framework.yaml"] = file_sha256(FRAMEWORK_PATH)
    current["framework/indicators.yaml"] = file_sha256(CATALOGUE_PATH)
    current.update({name: file_sha256(path) for name, path in outcome_config_files().items()})
    changes = []
    for name in sorted(set(recorded) | set(current)):
        if name not in current:
            changes.append(f"input {name}: in the published baseline but no longer in {settings.raw_dir}")
        elif name not in recorded:
            changes.append(f"input {name}: added since the baseline was published (or its last run failed)")
        elif recorded[name] != current[name]:
            changes.append(
                f"input {name}: changed since the baseline was published "
                f"(SHA-256 {recorded[name][:12]}... then, {current[name][:12]}... now)"
            )
    return changes


def verify(settings: Settings, progress=print) -> list[str]:
    """Rebuild from `settings`' inputs into a temporary folder; return the differences (empty:
    verified), starting with the input files whose hash changed since the baseline was published."""
    from dagster import DagsterInstance

    from tipipeline.pipeline import run_pipeline
    from tipipeline.settings import get_settings

    if not settings.baseline_path.exists():
        return [f"no published baseline at {settings.baseline_path}: run `tipipeline run` first"]
    with tempfile.TemporaryDirectory(prefix="tipipeline-verify-") as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(settings.raw_dir, data / "raw")
        if settings.boundaries_dir.is_dir():
            shutil.copytree(settings.boundaries_dir, data / "boundaries")
        rebuilt = get_settings(data, Path(tmp) / "outputs")
        progress(f"Rebuilding from the inputs in {tmp} ...")
        with DagsterInstance.ephemeral() as instance:
            run_pipeline(rebuilt, instance=instance, progress=lambda m: progress("  " + m))
        differences = input_changes(settings)
        differences += compare(table_digests(settings.baseline_path), table_digests(rebuilt.baseline_path), "table")
        differences += compare(file_digests(settings.output_dir), file_digests(rebuilt.output_dir), "file")
    return differences
