"""The Dagster Definitions: assets, checks, jobs, sensor, schedule and resources."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from tipipeline.assets.geography import geography_assets
from tipipeline.assets.indicators import indicator_assets
from tipipeline.assets.ingest import ingest_assets
from tipipeline.assets.outputs import output_assets
from tipipeline.assets.reference import reference_assets
from tipipeline.assets.reports import report_assets
from tipipeline.automation import baseline_job, new_survey_wave_sensor, nightly_baseline_schedule, wave_job
from tipipeline.resources import PathsResource, WarehouseResource
from tipipeline.settings import Settings, get_settings


def build_definitions(settings: Settings | None = None) -> Definitions:
    """Definitions bound to `settings` (default: from the environment)."""
    settings = settings or get_settings()
    return Definitions(
        assets=[
            *reference_assets,
            *geography_assets,
            *ingest_assets,
            *indicator_assets,
            *output_assets,
            *report_assets,
        ],
        jobs=[wave_job, baseline_job],
        sensors=[new_survey_wave_sensor],
        schedules=[nightly_baseline_schedule],
        resources={
            "warehouse": WarehouseResource(database=str(settings.warehouse_path)),
            "paths": PathsResource(data_dir=str(settings.data_dir), output_dir=str(settings.output_dir)),
        },
        # One process per run: DuckDB allows one writer, and the runs here are small.
        executor=in_process_executor,
    )


defs = build_definitions()
