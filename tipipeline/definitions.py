"""The Dagster Definitions: inputs, assets, checks, jobs, sensors, schedule and resources."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from tipipeline.alerts import run_failure_alert
from tipipeline.assets.consensus import definition_assets
from tipipeline.assets.geography import geography_assets
from tipipeline.assets.indicators import indicator_assets
from tipipeline.assets.ingest import ingest_assets
from tipipeline.assets.outcomes import outcome_assets
from tipipeline.assets.outputs import output_assets
from tipipeline.assets.practice import practice_assets
from tipipeline.assets.reference import reference_assets
from tipipeline.assets.reports import report_assets
from tipipeline.assets.sources import source_assets
from tipipeline.assets.waves import wave_register_assets
from tipipeline.assets.workforce import workforce_assets
from tipipeline.automation import (
    JOBS,
    automation_sensor,
    nightly_baseline_schedule,
    survey_inputs_sensor,
    with_automation,
)
from tipipeline.partitions import survey_waves
from tipipeline.resources import PathsResource, WarehouseResource
from tipipeline.settings import Settings, get_settings

ASSETS = [
    *reference_assets,
    *geography_assets,
    *ingest_assets,
    *wave_register_assets,
    *indicator_assets,
    *outcome_assets,
    *workforce_assets,
    *definition_assets,
    *practice_assets,
    *output_assets,
    *report_assets,
]


def build_definitions(settings: Settings | None = None) -> Definitions:
    """Definitions bound to `settings` (default: from the environment)."""
    settings = settings or get_settings()
    partitioned = {asset.key.to_user_string() for asset in source_assets if asset.partitions_def == survey_waves}
    partitioned |= {
        key.to_user_string() for asset in ASSETS if asset.partitions_def == survey_waves for key in asset.keys
    }
    return Definitions(
        assets=[*source_assets, *with_automation(ASSETS, partitioned)],
        jobs=JOBS,
        sensors=[survey_inputs_sensor, automation_sensor, run_failure_alert],
        schedules=[nightly_baseline_schedule],
        resources={
            "warehouse": WarehouseResource(database=str(settings.warehouse_path)),
            "paths": PathsResource(data_dir=str(settings.data_dir), output_dir=str(settings.output_dir)),
        },
        # One process per run: DuckDB allows one writer, and the runs here are small.
        executor=in_process_executor,
    )


defs = build_definitions()
