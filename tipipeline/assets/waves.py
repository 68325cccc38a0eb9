"""The wave register: which survey waves the warehouse holds. When a wave folder is removed, its
partition is deleted (automation.py) and this asset retires its rows from every per-wave table,
so a removed wave never lingers in the baseline nor blocks a build of the others."""

import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from tipipeline import inputs
from tipipeline.assets.indicators import JOURNEY_TABLES, WAVE_INDICATOR_TABLES
from tipipeline.assets.ingest import WAVE_TABLES
from tipipeline.ingest.waves import discover_waves
from tipipeline.metadata import markdown_preview, table_metadata
from tipipeline.resources import PathsResource, WarehouseResource
from tipipeline.warehouse import replace_table, retire_waves

# Every table written one wave at a time (a `wave` column; one partition per wave).
PER_WAVE_TABLES = [t.name for t in (*WAVE_TABLES, *WAVE_INDICATOR_TABLES, *JOURNEY_TABLES)]
REGISTER = "survey_wave_register"


def wave_register(conn, settings) -> tuple[pd.DataFrame, dict[str, int]]:
    """Retire the rows of waves whose folder is gone; list the waves on disk and what is staged."""
    on_disk = discover_waves(settings.surveys_dir)
    retired = retire_waves(conn, PER_WAVE_TABLES, keep=on_disk)
    staged = (
        dict(conn.execute("SELECT wave, count(*) FROM stg_respondents GROUP BY wave").fetchall())
        if _has(conn, "stg_respondents")
        else {}
    )
    rows = []
    for wave in on_disk:
        version = inputs.wave_version(settings, wave)
        rows.append(
            {
                "wave": wave,
                "files": version.summary,
                "data_version": version.version,
                "respondents_staged": int(staged.get(wave, 0)),
                "status": "staged" if wave in staged else "not staged (never run, or its last run failed)",
            }
        )
    frame = pd.DataFrame(rows, columns=["wave", "files", "data_version", "respondents_staged", "status"])
    return frame.astype({"respondents_staged": "int64"}), retired


def _has(conn, table: str) -> bool:
    return bool(
        conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?", [table]
        ).fetchone()[0]
    )


@asset(
    name=REGISTER,
    group_name="ingest",
    description="The survey waves the warehouse holds: one row per wave folder on disk with its files, data version "
    "and respondents staged. Rows of a wave whose folder was removed are retired from every per-wave table.",
    kinds={"duckdb"},
    owners=["team:tipipeline"],
    code_version="1",
    pool="duckdb_write",
    tags={"layer": "ingest"},
    # Refreshed with the London-wide assets after any wave changes, and launched by the input sensor
    # when a wave folder is removed.
    deps=["stg_respondents", "indicator_cells", "journey"],
)
def survey_wave_register(
    context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource
) -> MaterializeResult:
    with warehouse.get_connection() as conn:
        register, retired = wave_register(conn, paths.settings)
        replace_table(conn, REGISTER, register)
    for wave, rows in retired.items():
        context.log.info(f"wave {wave} retired: its folder is gone ({rows} staged respondents removed)")
    return MaterializeResult(
        metadata={
            **table_metadata(register, REGISTER),
            "waves": ", ".join(register["wave"]) or "none",
            "retired": ", ".join(retired) or "none",
            "register": MetadataValue.md(markdown_preview(register.drop(columns="data_version"))),
        }
    )


wave_register_assets = [survey_wave_register]
