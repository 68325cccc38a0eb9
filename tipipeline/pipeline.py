"""Run the whole pipeline in-process: register waves, build each wave, then everything else.

This is what `tipipeline run` and `make run` call. Dagster's own `--select '*'` cannot mix
partitioned and unpartitioned assets, and a dynamic partition must exist before it can be run,
so the order here is: register wave folders, run the reference job, the wave job once per wave,
then the baseline job. The jobs are the ones the Definitions declare, so every run opens (and
can be re-launched) in the Dagster UI.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dagster import AssetKey, AssetSelection, DagsterInstance, Definitions

from tipipeline.alerts import summarise_failure
from tipipeline.assets.sources import observations
from tipipeline.assets.waves import REGISTER
from tipipeline.automation import baseline_job, reference_job, wave_job
from tipipeline.definitions import build_definitions
from tipipeline.errors import TipipelineError
from tipipeline.ingest.waves import discover_waves
from tipipeline.partitions import survey_waves
from tipipeline.settings import Settings

# The console logger would print whole tracebacks; the one-line reason is printed instead and
# the full record stays in the run history (Dagster UI).
QUIET_LOGGING = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


PID_TAG, HOST_TAG = "tipipeline/pid", "tipipeline/host"


def release_dead_runs(instance: DagsterInstance, progress: Callable[[str], None] = lambda _: None) -> list[str]:
    """Mark runs of `tipipeline run` whose process died (killed, power cut) as failed and free
    the concurrency slots they held, so that the next run is not kept waiting for them."""
    from dagster import DagsterRunStatus, RunsFilter

    released = []
    host = socket.gethostname()
    for record in instance.get_run_records(RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING])):
        run = record.dagster_run
        pid = run.tags.get(PID_TAG)
        if not pid or run.tags.get(HOST_TAG) != host or _alive(int(pid)):
            continue
        instance.report_run_failed(run, "the process running it stopped (killed or crashed)")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    if released:
        progress(f"Released {len(released)} run(s) left behind by a stopped process")
    return released


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PipelineError(TipipelineError):
    """A run failed; the message is the first failing step's reason."""


@dataclass
class RunSummary:
    waves: list[str] = field(default_factory=list)
    materialised: int = 0
    run_ids: list[str] = field(default_factory=list)


def run_pipeline(
    settings: Settings,
    selection: str | None = None,
    instance: DagsterInstance | None = None,
    progress: Callable[[str], None] = lambda _: None,
    only_waves: list[str] | None = None,
) -> RunSummary:
    """Materialise `selection` (default: everything) with the jobs the Definitions declare; raise
    PipelineError naming the first failure once everything that could run has run.

    A wave that fails does not stop the others: the London-wide assets are built from the waves
    that loaded (as the automation does), and the error says which wave is missing.
    `only_waves`: run just these wave partitions (the others are kept as they are in the
    warehouse), then the London-wide assets that read the waves: how a newly arrived wave is added.
    """
    instance = instance or DagsterInstance.get()
    release_dead_runs(instance, progress)
    defs = build_definitions(settings)
    keys = _selected_keys(defs, selection)
    waves = _register_waves(instance, settings, progress) if keys & _job_keys(defs, wave_job.name) else []
    record_input_versions(instance, settings)
    summary = RunSummary(waves=waves)

    failures: list[str] = []
    steps = _steps(defs, keys, waves, instance, only_waves, settings)
    for index, (job_name, label, partition, step_keys) in enumerate(steps, start=1):
        progress(f"[{index}/{len(steps)}] {label}: running...")
        started = time.monotonic()
        job = defs.resolve_job_def(job_name)
        whole = step_keys == _job_keys(defs, job_name)
        result = job.execute_in_process(
            instance=instance,
            partition_key=partition,
            asset_selection=None if whole else sorted(step_keys, key=lambda k: k.to_user_string()),
            run_config=QUIET_LOGGING,
            raise_on_error=False,
            tags={PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()},
        )
        summary.run_ids.append(result.run_id)
        materialised = [e.asset_key.to_user_string() for e in result.get_asset_materialization_events()]
        summary.materialised += len(materialised)
        if not result.success:
            reason = f"{label} failed: {_first_failure(result)}"
            progress(f"[{index}/{len(steps)}] {reason}")
            failures.append(reason)
            if job_name == reference_job.name:
                # Nothing can be read without the reference data and the codebook.
                break
            continue
        progress(f"[{index}/{len(steps)}] {label}: {len(materialised)} asset(s) in {time.monotonic() - started:.1f} s")
    if failures:
        more = f" (and {len(failures) - 1} more failure(s) above)" if len(failures) > 1 else ""
        raise PipelineError(failures[0] + more)
    return summary


def _job_keys(defs: Definitions, job_name: str) -> set[AssetKey]:
    return set(defs.resolve_job_def(job_name).asset_layer.selected_asset_keys)


def _selected_keys(defs: Definitions, selection: str | None) -> set[AssetKey]:
    """The materialisable assets `selection` names, with every asset computed together with one of
    them (one multi-asset, e.g. a wave's staging tables)."""
    graph = defs.resolve_asset_graph()
    chosen = AssetSelection.from_string(selection) if selection else AssetSelection.all()
    keys = {k for k in chosen.resolve(graph) if graph.get(k).is_materializable}
    if not keys:
        raise PipelineError(f"the selection {selection!r} matches no asset")
    return set().union(
        *({k} if graph.get(k).assets_def.can_subset else set(graph.get(k).assets_def.keys) for k in keys)
    )


def _register_waves(instance: DagsterInstance, settings: Settings, progress: Callable[[str], None]) -> list[str]:
    """Wave folders on disk become partitions; partitions whose folder is gone are deleted (the wave
    register retires their rows)."""
    waves = discover_waves(settings.surveys_dir)
    if not waves:
        raise PipelineError(f"no survey wave folders under {settings.surveys_dir}")
    known = set(instance.get_dynamic_partitions(survey_waves.name))
    new = [w for w in waves if w not in known]
    if new:
        instance.add_dynamic_partitions(survey_waves.name, new)
        progress(f"Registered {len(new)} new wave partition(s): {', '.join(new)}")
    for gone in sorted(known - set(waves)):
        instance.delete_dynamic_partition(survey_waves.name, gone)
        progress(f"Wave {gone}: its folder is gone; its partition is deleted and its rows retired")
    return waves


def record_input_versions(instance: DagsterInstance, settings: Settings) -> None:
    """Record each input's current content hash (as the sensor does), so the UI knows what this run
    was built from and the automation does not rebuild it again."""
    known = set(instance.get_dynamic_partitions(survey_waves.name))
    events, _ = observations(settings, known, {}, settle=False)
    for event in events:
        instance.report_runless_asset_event(event)


def _steps(defs, keys, waves, instance, only_waves, settings) -> list[tuple[str, str, str | None, set[AssetKey]]]:
    """(job, label, partition, assets) per run, in order: reference data, each wave, London-wide."""
    before = keys & _job_keys(defs, reference_job.name)
    per_wave = keys & _job_keys(defs, wave_job.name)
    after = keys & _job_keys(defs, baseline_job.name)
    if only_waves:
        missing = sorted(set(only_waves) - set(waves))
        if missing:
            raise PipelineError(f"no wave folder named {', '.join(missing)} under {settings.surveys_dir}")
        # Adding a wave: the reference data stay as built (unless never built), and only the
        # London-wide assets that read the waves run again.
        if all(instance.get_latest_materialization_event(k) for k in before):
            before = set()
        graph = defs.resolve_asset_graph()
        readers = AssetSelection.assets(*per_wave, REGISTER).downstream().resolve(graph) if per_wave else set()
        after &= readers
        waves = [w for w in waves if w in only_waves]
    steps = []
    if before:
        steps.append((reference_job.name, "reference data, codebook and policy audit", None, before))
    if per_wave:
        steps += [(wave_job.name, f"wave {w}", w, per_wave) for w in waves]
    if after:
        steps.append((baseline_job.name, "baseline (London-wide assets)", None, after))
    return steps


def _first_failure(result) -> str:
    """The first failing step (or blocking check) and its one-line reason."""
    failure = summarise_failure(result.all_events)
    return f"{failure.step}: {failure.reason}" if failure.step else failure.reason


def remove_wave(
    settings: Settings,
    wave: str,
    instance: DagsterInstance | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> RunSummary:
    """Retire a wave whose folder has been taken away: delete its partition and its rows in every
    per-wave table, then republish the London-wide assets without it."""
    from tipipeline.warehouse import connection, table_exists

    instance = instance or DagsterInstance.get()
    folder = settings.surveys_dir / wave
    if folder.exists():
        raise PipelineError(
            f"{folder}: the wave folder is still there; move it out of {settings.surveys_dir} first "
            "(tipipeline never deletes input data), then remove the wave"
        )
    known = wave in instance.get_dynamic_partitions(survey_waves.name)
    staged = 0
    if settings.warehouse_path.exists():
        with connection(settings.warehouse_path, read_only=True) as conn:
            if table_exists(conn, "stg_respondents"):
                staged = conn.execute("SELECT count(*) FROM stg_respondents WHERE wave = ?", [wave]).fetchone()[0]
    if not known and not staged:
        raise PipelineError(f"no wave {wave!r}: neither a partition nor staged rows of it")
    if known:
        instance.delete_dynamic_partition(survey_waves.name, wave)
    progress(f"Wave {wave}: partition deleted; retiring its {staged} staged respondent(s) and republishing")
    return run_pipeline(settings, selection=f"key:{REGISTER}+", instance=instance, progress=progress)
