"""The Dagster layer end to end on a copy of the sample: definitions, run, reruns, failures, sensor."""

import os
import shutil
import time

import duckdb
import pytest
from conftest import SHARED, TABLES_ONLY
from dagster import DagsterInstance, build_sensor_context

from tipipeline.definitions import build_definitions, defs
from tipipeline.pipeline import PipelineError, run_pipeline

REFERENCE_COUNTS = {
    "boroughs": 33,
    "icbs": 5,
    "borough_icb_lookup": 33,
    "bcus": 12,
    "organisations": 39,
    "tile_grid": 33,
    "framework_principles": 6,
    "framework_domains": 11,
    "journey_stages": 5,
}


def test_definitions_load_and_every_job_resolves():
    graph = defs.resolve_asset_graph()
    assert len(graph.get_all_asset_keys()) >= 11
    jobs = {job.name: set(job.asset_layer.executable_asset_keys) for job in defs.resolve_all_job_defs()}
    materialisable = {k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    declared = ["reference_job", "survey_wave_job", "baseline_job"]
    assert set(declared) <= set(jobs)
    # One job model: the three declared jobs split every materialisable asset between them.
    assert set().union(*(jobs[j] for j in declared)) == materialisable
    assert sum(len(jobs[j]) for j in declared) == len(materialisable)
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        spec = node.assets_def.specs_by_key[key]
        assert spec.description, key
        if not node.is_materializable:
            assert spec.group_name == "inputs", key
            continue
        assert spec.group_name in {"reference", "ingest", "indicators", "outputs"}, key
        assert spec.kinds, key
        assert spec.owners, key
        assert node.code_version, key
        assert node.automation_condition is not None, key


def test_reference_assets_have_blocking_checks():
    graph = defs.resolve_asset_graph()
    checked = {
        spec.asset_key.to_user_string() for a in defs.assets for spec in getattr(a, "check_specs", []) if spec.blocking
    }
    wave_tables = {
        "stg_respondents",
        "stg_responses",
        "restricted_free_text",
        "survey_quarantine",
        "survey_exclusions",
        "survey_data_quality",
    }
    assert set(REFERENCE_COUNTS) | {"organisation_aliases", "survey_codebook"} | wave_tables <= checked
    assert {"indicators", "survey_indicators", "respondent_measures"} <= checked
    assert checked <= {k.to_user_string() for k in graph.get_all_asset_keys()}


@pytest.fixture()
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


def _tables(path):
    with duckdb.connect(str(path), read_only=True) as conn:
        return {name: conn.table(name).order("ALL").fetchall() for (name,) in conn.execute("SHOW TABLES").fetchall()}


def test_full_run_builds_reference_tables_and_metadata(settings, instance):
    messages = []
    summary = run_pipeline(settings, selection=TABLES_ONLY, instance=instance, progress=messages.append)
    assert summary.waves == ["2024-w1", "2025-w2"]
    assert any("Registered 2 new wave partition(s)" in m for m in messages)
    assert set(instance.get_dynamic_partitions("survey_waves")) == {"2024-w1", "2025-w2"}
    tables = _tables(settings.warehouse_path)
    for name, count in REFERENCE_COUNTS.items():
        assert len(tables[name]) == count, name
    assert len(tables["survey_data_quality"]) == 2
    assert len(tables["stg_respondents"]) == 6010
    event = instance.get_latest_materialization_event(
        next(k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.to_user_string() == "boroughs")
    )
    metadata = event.asset_materialization.metadata
    assert metadata["dagster/row_count"].value == 33
    assert "gss_code" in [c.name for c in metadata["dagster/column_schema"].schema.columns]
    assert "E09000001" in metadata["preview"].value


def test_rerunning_a_wave_replaces_only_its_rows(built_copy):
    settings, instance = built_copy.settings, built_copy.instance  # the sample as built, copied
    before = _tables(settings.warehouse_path)
    run_pipeline(settings, selection="group:ingest", instance=instance)
    assert _tables(settings.warehouse_path) == before


def test_selection_matching_nothing_is_an_error(settings, instance):
    with pytest.raises(PipelineError, match="matches no asset"):
        run_pipeline(settings, selection="key:no_such_asset", instance=instance)


def test_empty_wave_folder_fails_with_one_line_reason_and_others_still_load(settings, instance):
    (settings.surveys_dir / "2026-w3").mkdir()
    with pytest.raises(PipelineError) as info:
        run_pipeline(settings, instance=instance)
    message = str(info.value)
    assert "\n" not in message
    assert "wave 2026-w3 failed" in message and "holds no survey export" in message
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        waves = {w for (w,) in conn.execute("SELECT DISTINCT wave FROM stg_respondents").fetchall()}
    assert waves == {"2024-w1", "2025-w2"}


def test_cli_run_exit_codes(settings, tmp_path, monkeypatch, capsys):
    from tipipeline.cli import main

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    assert (
        main(
            [
                "run",
                "--data-dir",
                str(settings.data_dir),
                "--output-dir",
                str(settings.output_dir),
                "--select",
                TABLES_ONLY,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "[4/4] baseline" in out and str(settings.warehouse_path) in out
    shutil.rmtree(settings.surveys_dir / "2025-w2")
    (settings.surveys_dir / "2025-w2").mkdir()
    assert main(["run", "--data-dir", str(settings.data_dir), "--select", TABLES_ONLY]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tipipeline: error: wave 2025-w2 failed")


def test_sensor_registers_waves_and_observes_changed_inputs(settings, instance, monkeypatch):
    import json

    from tipipeline.automation import survey_inputs_sensor

    monkeypatch.setenv("TIPIPELINE_DATA_DIR", str(settings.data_dir))

    def tick(cursor=None):
        return survey_inputs_sensor(build_sensor_context(instance=instance, cursor=cursor))

    def observed(result):
        return sorted(
            e.asset_key.to_user_string() + (f"[{e.partition}]" if e.partition else "") for e in result.asset_events
        )

    first = tick()
    assert first.dynamic_partitions_requests[0].partition_keys == ["2024-w1", "2025-w2"]
    assert not first.run_requests  # declarative automation runs what is stale, not the sensor
    # Unpartitioned inputs are observed at once; a new wave once its partition exists.
    assert observed(first) == sorted(
        [
            "raw_codebook",
            "raw_policy_audits",
            "raw_outcomes",
            "raw_definition",
            "raw_practice",
            "raw_workforce",
            "raw_boundaries",
            "framework_files",
            "reference_files",
        ]
    )
    instance.add_dynamic_partitions("survey_waves", ["2024-w1", "2025-w2"])
    second = tick(first.cursor)
    assert observed(second) == ["raw_survey_wave[2024-w1]", "raw_survey_wave[2025-w2]"]
    versions = {e.partition: e.tags["dagster/data_version"] for e in second.asset_events}
    assert versions["2024-w1"] != versions["2025-w2"]
    assert observed(tick(second.cursor)) == []  # nothing changed, nothing reported

    # A corrected export (one row removed) changes that wave's version and nothing else.
    [export] = sorted((settings.surveys_dir / "2025-w2").iterdir())
    lines = export.read_bytes().splitlines(keepends=True)
    export.write_bytes(b"".join(lines[:-1]))
    assert observed(tick(second.cursor)) == []  # just written: left until it settles (a copy in progress)
    os.utime(export, (time.time() - 60, time.time() - 60))
    corrected = tick(second.cursor)
    assert observed(corrected) == ["raw_survey_wave[2025-w2]"]
    assert corrected.asset_events[0].tags["dagster/data_version"] != versions["2025-w2"]

    # A removed wave folder: its partition is deleted, and while the published baseline holds the
    # wave, the register and the London-wide assets are run (not while another run is going on).
    settings.baseline_path.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.baseline_path)) as conn:
        conn.execute("CREATE TABLE provenance AS SELECT '2024-w1, 2025-w2' AS survey_waves")
    shutil.rmtree(settings.surveys_dir / "2024-w1")
    removed = tick(corrected.cursor)
    assert removed.dynamic_partitions_requests[0].partition_keys == ["2024-w1"]
    assert type(removed.dynamic_partitions_requests[0]).__name__ == "DeleteDynamicPartitionsRequest"
    assert observed(removed) == []
    [retire] = removed.run_requests
    assert retire.tags["tipipeline/retired"] == "2024-w1" and retire.asset_selection is None
    assert "raw_survey_wave[2024-w1]" not in json.loads(removed.cursor)["versions"]
    instance.delete_dynamic_partition("survey_waves", "2024-w1")
    # Still published (the run failed, or ran on the old folder): tried again, at most three times.
    again = tick(removed.cursor)
    third = tick(again.cursor)
    assert len(again.run_requests) == len(third.run_requests) == 1
    assert tick(third.cursor).run_requests == []
    # Once the baseline no longer holds it, the wave is retired: nothing more to do.
    with duckdb.connect(str(settings.baseline_path)) as conn:
        conn.execute("CREATE OR REPLACE TABLE provenance AS SELECT '2025-w2' AS survey_waves")
    done = tick(again.cursor)
    assert done.run_requests == [] and json.loads(done.cursor)["retiring"] == {}
    # A data folder that is not there (unmounted, mistyped) retires nothing.
    shutil.rmtree(settings.surveys_dir)
    unmounted = tick(done.cursor)
    assert unmounted.run_requests == [] and not unmounted.dynamic_partitions_requests
    assert "is the data folder mounted?" in unmounted.skip_reason.skip_message


def test_definitions_follow_settings(settings):
    bound = build_definitions(settings)
    resources = bound.resources
    assert resources["warehouse"].database == str(settings.warehouse_path)


def test_rerunning_one_wave_leaves_every_table_identical(built_copy):
    settings, instance = built_copy.settings, built_copy.instance  # the sample as built, copied
    before = _tables(settings.warehouse_path)
    job = build_definitions(settings).resolve_job_def("survey_wave_job")
    assert job.execute_in_process(instance=instance, partition_key="2024-w1").success
    after = _tables(settings.warehouse_path)
    # The audit log is appended to: the rerun's audit of the same cells is one more row, same fingerprint.
    log_before, log_after = before.pop("disclosure_audits"), after.pop("disclosure_audits")
    assert len(log_after) == len(log_before) + 1
    assert {row[0] for row in log_after} == {row[0] for row in log_before}
    assert after == before
    assert {w for (w, *_rest) in after["stg_respondents"]} == {"2024-w1", "2025-w2"}


def test_staging_schema_is_strict():
    import pandas as pd

    from tipipeline.schemas.ingest import StgRespondents
    from tipipeline.schemas.validation import validate

    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in StgRespondents.columns})
    frame["email"] = pd.Series(dtype="object")
    outcome = validate(StgRespondents, frame)
    assert not outcome.passed and "email" in outcome.failure_cases_markdown()


LAD = SHARED / "boundaries" / "london-2021-lad22-gen20.shp"


@pytest.mark.skipif(not LAD.exists(), reason="shared boundary file is not present")
def test_boundary_file_in_the_data_directory_is_used(settings, instance):
    settings.boundaries_dir.mkdir(parents=True)
    for part in LAD.parent.glob(LAD.stem + ".*"):
        shutil.copy(part, settings.boundaries_dir / part.name)
    run_pipeline(settings, selection="key:borough_boundaries", instance=instance)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        modes = conn.execute("SELECT DISTINCT mode FROM borough_boundaries").fetchall()
        area = conn.execute("SELECT sum(area_km2) FROM borough_boundaries").fetchone()[0]
        bcus = conn.execute("SELECT count(*) FROM bcu_boundaries").fetchone()[0]
    assert modes == [("file",)] and 1570 < area < 1577 and bcus == 12
    # What the maps read: the file's shapes, bit for bit, with its name and Crown copyright attribution.
    from tipipeline.ingest.boundaries import read_boundary_file, read_warehouse_boundaries
    from tipipeline.reference import load_reference

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        stored = read_warehouse_boundaries(conn)
        sources = conn.execute(
            "SELECT DISTINCT source_file, attribution FROM (SELECT source_file, attribution FROM borough_boundaries "
            "UNION ALL SELECT source_file, attribution FROM bcu_boundaries "
            "UNION ALL SELECT source_file, attribution FROM icb_boundaries)"
        ).fetchall()
    from_file = read_boundary_file(LAD, load_reference())
    assert sources == [(LAD.name, from_file.attribution)] and stored.attribution == from_file.attribution
    for level in ("boroughs", "bcus", "icbs"):
        assert (getattr(stored, level).geometry.to_wkb() == getattr(from_file, level).geometry.to_wkb()).all()
    key = next(k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.to_user_string() == "borough_boundaries")
    metadata = instance.get_latest_materialization_event(key).asset_materialization.metadata
    assert metadata["mode"].value == "file" and metadata["source_file"].value == LAD.name
    assert len(metadata["source_sha256"].value) == 64 and "Crown copyright" in metadata["attribution"].value
    # A broken file in its place fails the run: the tile grid is never used silently instead.
    (settings.boundaries_dir / LAD.name).write_bytes(b"broken")
    with pytest.raises(PipelineError, match="unreadable boundary file"):
        run_pipeline(settings, selection="key:borough_boundaries", instance=instance)


def test_policy_audit_assets_publish_agreement_metadata(settings, instance):
    run_pipeline(settings, selection="key:coder_agreement", instance=instance)
    key = next(k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.to_user_string() == "coder_agreement")
    metadata = instance.get_latest_materialization_event(key).asset_materialization.metadata
    assert 0 < metadata["overall_kappa"].value < 1 and "weighted_kappa_linear" in metadata["agreement"].value
    unresolved_key = next(
        k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.to_user_string() == "policy_unresolved"
    )
    assert (
        instance.get_latest_materialization_event(unresolved_key)
        .asset_materialization.metadata["unresolved_count"]
        .value
        > 0
    )
