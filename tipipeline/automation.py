"""Jobs, the input-watching sensor, declarative automation and the nightly schedule.

Zero clicks from a new or corrected file to a refreshed baseline:
1. `survey_inputs_sensor` (every 30 s) registers new wave folders as partitions, deletes the
   partitions of removed ones (and runs the wave register, which retires their rows, and the
   London-wide assets after it, until the published baseline no longer holds them), and
   reports a new observation of every input whose content hash changed (a wave's exports, the
   codebook, the audits, the boundary file, framework, reference);
2. the automation condition sensor then runs, once per change, exactly what depends on that input,
   ending with the published baseline, the maps and the report.
"""

from __future__ import annotations

import json

from dagster import (
    AssetSelection,
    AssetSpec,
    AutomationCondition,
    AutomationConditionSensorDefinition,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    define_asset_job,
    map_asset_specs,
    schedule,
    sensor,
)

from tipipeline.assets.indicators import wave_indicator_assets
from tipipeline.assets.ingest import wave_assets
from tipipeline.assets.sources import observations
from tipipeline.assets.waves import REGISTER
from tipipeline.ingest.waves import discover_waves
from tipipeline.partitions import survey_waves
from tipipeline.settings import get_settings, watch_seconds

PER_WAVE_ASSETS = [*wave_assets, *wave_indicator_assets]
WAVE_SELECTION = AssetSelection.assets(*PER_WAVE_ASSETS)
# Unpartitioned assets the waves read (reference data, the codebook, the policy audit that journey
# stages use): built before any wave.
REFERENCE_SELECTION = (WAVE_SELECTION.upstream() - WAVE_SELECTION).materializable().required_multi_asset_neighbors()

reference_job = define_asset_job(
    "reference_job",
    selection=REFERENCE_SELECTION,
    description="Reference data, the framework tables, the codebook and the policy audit: what every wave is read "
    "against.",
)
wave_job = define_asset_job(
    "survey_wave_job",
    selection=WAVE_SELECTION,
    description="One survey wave (a partition): staging tables, scores, disclosure-controlled cells, journey.",
)
baseline_job = define_asset_job(
    "baseline_job",
    selection=AssetSelection.all() - WAVE_SELECTION - REFERENCE_SELECTION,
    description="London-wide: boundaries, the wave register, indicators of every wave, change "
    "between waves, the published baseline, maps and report.",
)
JOBS = [reference_job, wave_job, baseline_job]


def with_automation(assets: list, partitioned_keys: set[str]) -> list:
    """Every materialisable asset re-runs when something it depends on changes (`eager`).

    The London-wide assets that read every wave follow one gate, the wave register: it runs once a
    wave's run has finished (and when one is retired), the others run with it in the same run, in
    order. Were each to react to the wave partitions itself, they could run apart, each on a
    different state of the waves. None waits for a missing wave (one whose last run failed): a
    failed wave never stops the others from publishing.
    """
    conditions = AutomationCondition
    per_wave = AssetSelection.assets(*partitioned_keys)
    eager = conditions.eager()
    gate = eager.without(~conditions.any_deps_missing()).with_label("eager, even with a wave missing")
    follower = (
        conditions.in_latest_time_window()
        & (conditions.newly_missing() | conditions.any_deps_updated().ignore(per_wave)).since_last_handled()
        & ~conditions.any_deps_in_progress()
        & ~conditions.in_progress()
    ).with_label("eager, after the wave register")

    def condition(spec: AssetSpec) -> AssetSpec:
        reads_every_wave = spec.partitions_def is None and any(
            dep.asset_key.to_user_string() in partitioned_keys for dep in spec.deps
        )
        chosen = (gate if spec.key.to_user_string() == REGISTER else follower) if reads_every_wave else eager
        return spec.replace_attributes(automation_condition=chosen)

    return map_asset_specs(condition, assets)


automation_sensor = AutomationConditionSensorDefinition(
    "automation_sensor",
    target=AssetSelection.all(),
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=watch_seconds(),
    description="Declarative automation: runs what an input change, a new wave or a refreshed wave makes stale.",
)

CURSOR_VERSIONS, CURSOR_RETIRING = "versions", "retiring"  # retiring: wave -> attempts made
MAX_RETIRE_ATTEMPTS = 3  # a retirement whose runs keep failing is left to a person (the alert says why)
RETIRED_TAG = "tipipeline/retired"
# What a removed wave re-runs: the register (which retires its rows) and everything London-wide after it.
RETIRE_SELECTION = AssetSelection.assets(REGISTER).downstream()


def published_waves(settings) -> set[str] | None:
    """The survey waves the published baseline holds (empty when there is none yet; None when it
    cannot be read just now, e.g. while a new one is swapped in)."""
    import duckdb

    if not settings.baseline_path.exists():
        return set()
    try:
        with duckdb.connect(str(settings.baseline_path), read_only=True) as conn:
            (waves,) = conn.execute("SELECT survey_waves FROM provenance LIMIT 1").fetchone()
    except (duckdb.Error, TypeError):
        return None
    return {w for w in (waves or "").split(", ") if w}


def _runs_in_progress(instance) -> bool:
    from dagster import DagsterRunStatus, RunsFilter

    busy = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]
    return bool(instance.get_run_ids(RunsFilter(statuses=busy), limit=1))


@sensor(
    minimum_interval_seconds=watch_seconds(),
    default_status=DefaultSensorStatus.RUNNING,
    asset_selection=RETIRE_SELECTION,
    description="Watches data/raw and data/boundaries: registers new wave folders as partitions, retires removed "
    "ones, and records a new data version (content hash) of every input that changed.",
)
def survey_inputs_sensor(context: SensorEvaluationContext) -> SensorResult:
    settings = get_settings()
    on_disk = discover_waves(settings.surveys_dir)
    known = set(context.instance.get_dynamic_partitions(survey_waves.name))
    cursor = json.loads(context.cursor) if context.cursor else {}
    if not on_disk and known:
        # Far likelier an unmounted or mistyped data folder than every wave withdrawn: touch nothing.
        return SensorResult(
            skip_reason=f"no wave folders under {settings.surveys_dir}: is the data folder mounted? "
            "(nothing retired; `tipipeline wave remove ID` retires a wave on purpose)",
            cursor=context.cursor,
        )
    new = [w for w in on_disk if w not in known]
    gone = sorted(known - set(on_disk))
    events, versions = observations(settings, known - set(gone), cursor.get(CURSOR_VERSIONS, {}))
    requests = []
    if new:
        requests.append(survey_waves.build_add_request(new))
    if gone:
        requests.append(survey_waves.build_delete_request(gone))
    run_requests, retiring = _retirement(context, settings, cursor, gone, on_disk)
    changed = [e.asset_key.to_user_string() + (f"[{e.partition}]" if e.partition else "") for e in events]
    context.log.info(
        f"{len(on_disk)} wave folder(s); new: {', '.join(new) or 'none'}; removed: {', '.join(gone) or 'none'}; "
        f"changed inputs: {', '.join(changed) or 'none'}; retiring: {', '.join(retiring) or 'none'}"
    )
    return SensorResult(
        asset_events=events,
        dynamic_partitions_requests=requests,
        run_requests=run_requests,
        cursor=json.dumps({CURSOR_VERSIONS: versions, CURSOR_RETIRING: retiring}, sort_keys=True),
    )


def _retirement(context, settings, cursor: dict, gone: list[str], on_disk: list[str]) -> tuple[list, dict]:
    """A removed wave is retired until the published baseline no longer holds it: the register and
    the London-wide assets run again, once nothing else is running (a run in progress may have read
    the folder before it went), at most MAX_RETIRE_ATTEMPTS times per wave.

    Returns the run requests and the waves still being retired, with the attempts made for each."""
    retiring = {w: n for w, n in cursor.get(CURSOR_RETIRING, {}).items() if w not in on_disk}
    retiring.update({w: 0 for w in gone if w not in retiring})
    published = published_waves(settings)
    if published is None:
        return [], retiring  # the baseline cannot be read this tick: keep every pending wave
    retiring = {w: n for w, n in retiring.items() if w in published}
    due = sorted(w for w, n in retiring.items() if n < MAX_RETIRE_ATTEMPTS)
    if not due or _runs_in_progress(context.instance):
        return [], retiring
    for wave in due:
        retiring[wave] += 1
    return [RunRequest(tags={RETIRED_TAG: ",".join(due)})], retiring


@schedule(
    job=baseline_job,
    cron_schedule="0 6 * * *",
    execution_timezone="Europe/London",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Rebuild the London-wide assets every morning (turn on in the UI for a shared deployment).",
)
def nightly_baseline_schedule(_context):
    return RunRequest()
