"""Output assets: the published, read-only baseline and its CSV / Parquet exports."""

import hashlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import duckdb
import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from tipipeline.assets.metadata import published_columns_markdown
from tipipeline.files import sha256_of
from tipipeline.framework import FRAMEWORK_PATH, load_framework
from tipipeline.framework.catalogue import CATALOGUE_PATH, indicator_families, load_indicator_catalogue
from tipipeline.ingest.codebook import load_codebook
from tipipeline.preview import markdown_preview
from tipipeline.publish.baseline import export_tables, git_commit, input_files, load_spec, publish
from tipipeline.reference import load_reference
from tipipeline.resources import PathsResource, WarehouseResource
from tipipeline.stats.disclosure_audit import audit_snapshot

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _package_version() -> str:
    try:
        return version("tipipeline")
    except PackageNotFoundError:
        return "unknown"


@asset(
    group_name="outputs",
    description="The published baseline (data/warehouse/baseline.duckdb): only disclosure-controlled tables, each "
    "with table and column comments, written to a new file and swapped in atomically; plus CSV and Parquet exports "
    "of every published table in outputs/exports/. Open it with tipipeline.open_baseline().",
    kinds={"duckdb", "csv", "parquet"},
    owners=["team:tipipeline"],
    code_version="1",
    pool="duckdb_write",
    tags={"layer": "outputs"},
    deps=[
        "indicators",
        "indicator_catalogue",
        "indicator_changes",
        "reliability",
        "journey",
        "journey_summary",
        "borough_partnership",
        "policy_documents",
        "policy_organisations",
        "policy_principles",
        "coder_agreement",
        "promising_practice",
        "organisations",
        "boroughs",
        "survey_data_quality",
        "audit_data_quality",
        "outcome_indicators",
        "outcome_coverage",
        "outcome_catalogue",
        "partnership_outcomes",
        "partnership_outcome_correlations",
        "fingertips_values",
        "outcome_data_quality",
        "definition_statements",
        "panel_flow",
        "london_definition",
        "definition_framework_links",
        "definition_data_quality",
        "definition_protocol",
        "practice_library",
        "practice_status_summary",
        "practice_data_quality",
        # Read, not published: the waves and the disclosure audit's cells, and which organisations
        # each file's respondents came from (tests/test_asset_reads.py holds every read to this list).
        "indicator_cells",
        "stg_respondents",
    ],
)
def published_baseline(
    context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource
) -> MaterializeResult:
    settings = paths.settings
    reference = load_reference()
    lock = PROJECT_ROOT / "requirements.lock"
    with warehouse.get_connection() as conn:
        waves = [w for (w,) in conn.execute("SELECT DISTINCT wave FROM indicator_cells ORDER BY wave").fetchall()]
        provenance = {
            "survey_waves": ", ".join(waves),
            "input_files": input_files(conn),
            "codebook_sha256": load_codebook(settings.codebook_path).sha256,
            "framework_sha256": sha256_of(FRAMEWORK_PATH),
            "catalogue_sha256": sha256_of(CATALOGUE_PATH),
            "reference_sha256": hashlib.sha256(
                "".join(f"{k}:{v}" for k, v in sorted(reference.sha256.items())).encode()
            ).hexdigest(),
            "package_version": _package_version(),
            "git_commit": git_commit(PROJECT_ROOT),
            "lock_sha256": sha256_of(lock) or "unknown",
            "run_id": context.run.run_id,
            "published_at": pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        framework = load_framework()
        threshold = framework.disclosure.min_cell_size
        families = indicator_families(load_indicator_catalogue(framework))
        file_organisations = conn.execute("SELECT DISTINCT wave, source_file, org_id FROM stg_respondents").df()

        def audit(snapshot: Path) -> list[str]:
            # The published tables as a reader gets them, audited before they replace the old ones.
            with duckdb.connect(str(snapshot), read_only=True) as published:
                problems = audit_snapshot(conn, published, threshold, families, file_organisations)
            return [
                f"{p.problem} ({p.indicator_id}, {p.geography_level}, {p.geography_code}, {p.wave})"
                for p in problems.itertuples()
            ]

        rows = publish(conn, settings.baseline_path, load_spec(min_cell_size=threshold), provenance, audit)
    exports = export_tables(settings.baseline_path, settings.output_dir / "exports")
    summary = pd.DataFrame({"table": list(rows), "rows": list(rows.values())})
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(settings.baseline_path)),
            "tables": MetadataValue.md(markdown_preview(summary, rows=50)),
            "columns": MetadataValue.md(published_columns_markdown(settings.baseline_path)),
            "exports": MetadataValue.path(str(settings.output_dir / "exports")),
            "export_files": len(exports),
            "survey_waves": provenance["survey_waves"] or "none",
            "git_commit": provenance["git_commit"],
        }
    )


output_assets = [published_baseline]
