"""Ingest assets: raw survey waves (one partition per wave folder) into the warehouse."""

from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    DataVersion,
    MaterializeResult,
    asset,
)

from tipipeline.ingest.waves import wave_inventory
from tipipeline.metadata import schema_check_result, table_metadata
from tipipeline.partitions import survey_waves
from tipipeline.resources import PathsResource, WarehouseResource
from tipipeline.schemas.ingest import WaveFiles
from tipipeline.schemas.validation import validate
from tipipeline.warehouse import replace_partition

@asset(
    group_name="ingest",
    partitions_def=survey_waves,
    description="The survey export files of each wave folder, with size and SHA-256: what the wave was "
    "built from. Re-materialising a wave replaces only that wave's rows.",
    kinds={"duckdb", "pandas"},
    owners=["team:tipipeline"],
    code_version="1",
    pool="duckdb_write",
    tags={"layer": "ingest"},
    check_specs=[AssetCheckSpec("survey_wave_files_schema", asset="survey_wave_files", blocking=True)],
)
def survey_wave_files(context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource) -> MaterializeResult:
    wave = context.partition_key
    frame = wave_inventory(paths.settings.surveys_dir, wave)
    outcome = validate(WaveFiles, frame)
    with warehouse.get_connection() as conn:
        replace_partition(conn, "raw_wave_files", frame, "wave", wave)
    return MaterializeResult(
        metadata={**table_metadata(frame, "raw_wave_files"), "wave": wave},
        data_version=DataVersion("-".join(sorted(frame["sha256"]))[:64]),
        check_results=[schema_check_result("survey_wave_files_schema", outcome)],
    )

ingest_assets = [survey_wave_files]
