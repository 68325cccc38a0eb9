"""Run the whole pipeline in-process: register waves, build each wave, then everything else.

This is what `tipipeline run` and `make run` call. Dagster's own `--select '*'` cannot mix
partitioned and unpartitioned assets, and a dynamic partition must exist before it can be run,
so the order here is: register wave folders, run the per-wave assets once per wave, then the rest.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dagster import AssetSelection, DagsterInstance, Definitions, define_asset_job

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
    """Materialise `selection` (default: everything); raise PipelineError on the first failure.

    `only_waves`: run just these wave partitions (the others are kept as they are in the
    warehouse), then the London-wide assets: how a newly arrived wave is added.
    """
    instance = instance or DagsterInstance.get()
    release_dead_runs(instance, progress)
    base = build_definitions(settings)
    graph = base.resolve_asset_graph()
    chosen = AssetSelection.from_string(selection) if selection else AssetSelection.all()
    keys = chosen.resolve(graph)
    if not keys:
        raise PipelineError(f"the selection {selection!r} matches no asset")
    # An asset computed together with others (one multi-asset, e.g. a wave's staging tables) is
    # materialised with all of them.
    keys = set().union(
        *({k} if graph.get(k).assets_def.can_subset else set(graph.get(k).assets_def.keys) for k in keys)
    )
    wave_keys = {k for k in keys if graph.get(k).partitions_def == survey_waves}
    other_keys = keys - wave_keys
    # Unpartitioned assets the waves depend on (reference data, the codebook) run first.
    upstream = AssetSelection.assets(*wave_keys).upstream().resolve(graph) if wave_keys else set()
    before_keys = other_keys & upstream
    after_keys = other_keys - before_keys

    summary = RunSummary()
    if wave_keys:
        waves = discover_waves(settings.surveys_dir)
        if not waves:
            raise PipelineError(f"no survey wave folders under {settings.surveys_dir}")
        known = set(instance.get_dynamic_partitions(survey_waves.name))
        new = [w for w in waves if w not in known]
        if new:
            instance.add_dynamic_partitions(survey_waves.name, new)
            progress(f"Registered {len(new)} new wave partition(s): {', '.join(new)}")
        summary.waves = waves

    jobs, steps = [], []
    if before_keys:
        jobs.append(define_asset_job("cli_before", selection=AssetSelection.assets(*before_keys)))
        steps.append(("cli_before", "reference data and codebook", None))
    if wave_keys:
        jobs.append(define_asset_job("cli_waves", selection=AssetSelection.assets(*wave_keys)))
        missing = sorted(set(only_waves or []) - set(summary.waves))
        if missing:
            raise PipelineError(f"no wave folder named {', '.join(missing)} under {settings.surveys_dir}")
        steps += [("cli_waves", f"wave {w}", w) for w in summary.waves if not only_waves or w in only_waves]
    if after_keys:
        jobs.append(define_asset_job("cli_rest", selection=AssetSelection.assets(*after_keys)))
        steps.append(("cli_rest", "baseline (London-wide assets)", None))
    defs = Definitions.merge(base, Definitions(jobs=jobs))

    failures: list[str] = []
    for index, (job_name, label, partition) in enumerate(steps, start=1):
        if job_name != "cli_waves" and failures:
            # Never build London-wide outputs on top of a wave that failed to load.
            progress(f"[{index}/{len(steps)}] {label}: skipped because a wave failed")
            break
        progress(f"[{index}/{len(steps)}] {label}: running...")
        started = time.monotonic()
        job = defs.resolve_job_def(job_name)
        result = job.execute_in_process(
            instance=instance,
            partition_key=partition,
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
            continue
        progress(f"[{index}/{len(steps)}] {label}: {len(materialised)} asset(s) in {time.monotonic() - started:.1f} s")
    if failures:
        more = f" (and {len(failures) - 1} more failure(s) above)" if len(failures) > 1 else ""
        raise PipelineError(failures[0] + more)
    return summary


def _first_failure(result) -> str:
    """The first failing step's error message, on one line."""
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            cause = error
            # Dagster wraps the exception raised in the asset; that exception's message is the
            # reason (not its own cause, which is an implementation detail such as BadZipFile).
            while cause.cause is not None and (cause.cls_name or "").startswith("Dagster"):
                cause = cause.cause
            lines = [line for line in (cause.message or error.message).strip().splitlines() if line.strip()]
            message = lines[0] if lines else "unknown error"
            # "tipipeline.errors.InputError: file.csv: ..." -> "file.csv: ...": our errors speak for themselves.
            message = re.sub(r"^tipipeline\.[\w.]*Error: ", "", message)
            return f"{event.step_key}: {message}"
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if not data.passed and data.severity.value == "ERROR":
                return f"check {data.check_name} failed: {data.description}"
    return "the run did not succeed (see the Dagster UI for details)"
