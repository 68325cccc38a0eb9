"""The wave register: which survey waves the warehouse holds. When a wave folder is removed, its
partition is deleted (automation.py) and this asset retires its rows from every per-wave table,
so a removed wave never lingers in the baseline nor blocks a build of the others."""

import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from tipipeline import inputs, registry
from tipipeline.assets.indicators import wave_indicator_assets
from tipipeline.assets.ingest import WAVE_TABLES, wave_assets
from tipipeline.assets.metadata import table_metadata
from tipipeline.ingest.long_form import ANSWER_CODES, ANSWER_ITEMS
from tipipeline.ingest.waves import discover_waves
from tipipeline.preview import markdown_preview
from tipipeline.resources import PathsResource, WarehouseResource
from tipipeline.warehouse import replace_table, retire_waves, table_exists

# Every table written one wave at a time (a `wave` column; one partition per wave): the tables of
# the per-wave assets (table name = asset name), so a new per-wave asset is retired with the others;
# an asset that is a view over another table (stg_responses over stg_answers) is retired there.
PER_WAVE_TABLES = sorted(
    {key.path[-1] for asset in (*wave_assets, *wave_indicator_assets) for key in asset.keys}
    | {t.stored_as for t in WAVE_TABLES if t.stored_as}
    | {ANSWER_ITEMS, ANSWER_CODES}  # what the stg_responses view reads each wave through
)
REGISTER = "survey_wave_register"


def wave_register(conn, settings) -> tuple[pd.DataFrame, dict[str, int]]:
    """Retire the rows of waves whose folder is gone; list the waves on disk, what is staged of
    each, and whether what is staged was read from the files now on disk."""
    on_disk = discover_waves(settings.surveys_dir)
    # No wave folder at all is far likelier an unmounted or mistyped data folder than every wave
    # withdrawn: keep everything (`tipipeline wave remove` retires a wave on purpose).
    retired = (
        retire_waves(
            conn,
            PER_WAVE_TABLES,
            keep=on_disk,
            counted="stg_respondents",
            # A wave staged with no respondent accepted still has its files' accounting: name it from there.
            named_in=["stg_respondents", "survey_data_quality"],
        )
        if on_disk
        else {}
    )
    staged, built = {}, {}
    if table_exists(conn, "stg_respondents"):
        staged = dict(conn.execute("SELECT wave, count(*) FROM stg_respondents GROUP BY wave").fetchall())
        for wave, name, sha in conn.execute("SELECT wave, source_file, sha256 FROM survey_data_quality").fetchall():
            built.setdefault(wave, {})[name] = sha
    rows = []
    for wave in on_disk:
        version = inputs.wave_version(settings, wave)
        if wave not in staged:
            status = "not staged (never run, or its runs failed)"
        elif built.get(wave) != version.files:
            status = "stale: its files changed and the new ones have not loaded (last run failed or pending)"
        else:
            status = "staged from the files on disk"
        rows.append(
            {
                "wave": wave,
                "files": version.summary,
                "data_version": version.version,
                "respondents_staged": int(staged.get(wave, 0)),
                "status": status,
            }
        )
    frame = pd.DataFrame(rows, columns=registry.table(REGISTER).names)
    return frame.astype({"respondents_staged": "int64"}), retired


@asset(
    name=REGISTER,
    group_name="ingest",
    description=registry.table(REGISTER).description,
    kinds={"duckdb"},
    owners=["team:tipipeline"],
    code_version="1",
    pool="duckdb_write",
    tags={"layer": "ingest"},
    # Refreshed with the London-wide assets after any wave changes, and launched by the input sensor
    # when a wave folder is removed.
    # `survey_data_quality`: the file hashes each wave was staged from (tests/test_asset_reads.py
    # holds every table read here to this list).
    deps=["stg_respondents", "survey_data_quality", "indicator_cells", "journey"],
)
def survey_wave_register(
    context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource
) -> MaterializeResult:
    with warehouse.get_connection() as conn:
        register, retired = wave_register(conn, paths.settings)
        replace_table(conn, REGISTER, register)
    if register.empty:
        context.log.warning(f"no wave folders under {paths.settings.surveys_dir}: nothing retired")
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
