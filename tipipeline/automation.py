"""Jobs, the new-wave sensor and the nightly schedule."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    define_asset_job,
    schedule,
    sensor,
)

from tipipeline.assets.ingest import wave_assets
from tipipeline.ingest.waves import discover_waves
from tipipeline.partitions import survey_waves
from tipipeline.settings import get_settings

WAVE_SELECTION = AssetSelection.assets(*wave_assets)

wave_job = define_asset_job(
    "survey_wave_job",
    selection=WAVE_SELECTION,
    description="Ingest one survey wave (a partition) into the staging tables.",
)
baseline_job = define_asset_job(
    "baseline_job",
    selection=AssetSelection.all() - WAVE_SELECTION,
    description="Everything that is not per-wave: reference data, the codebook, indicators, outputs.",
)


@sensor(
    job=wave_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Registers each new wave folder under data/raw/surveys/ as a partition and runs it.",
)
def new_survey_wave_sensor(context: SensorEvaluationContext) -> SensorResult:
    on_disk = discover_waves(get_settings().surveys_dir)
    known = set(context.instance.get_dynamic_partitions(survey_waves.name))
    new = [wave for wave in on_disk if wave not in known]
    if not new:
        return SensorResult(skip_reason=f"No new wave folders ({len(on_disk)} known).")
    return SensorResult(
        run_requests=[RunRequest(partition_key=wave, run_key=f"wave-{wave}") for wave in new],
        dynamic_partitions_requests=[survey_waves.build_add_request(new)],
    )


@schedule(
    job=baseline_job,
    cron_schedule="0 6 * * *",
    execution_timezone="Europe/London",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Rebuild the non-wave assets every morning (turn on in the UI for a shared deployment).",
)
def nightly_baseline_schedule(_context):
    return RunRequest()
