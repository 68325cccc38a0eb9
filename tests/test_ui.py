"""The Dagster UI serves the pipeline's assets: start the webserver, look at the asset catalogue."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser import browser_page, chromium_path
from conftest import REPO

ARTEFACTS = REPO / "tests" / "artefacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def webserver(settings, tmp_path):
    """dagster-webserver on 127.0.0.1 for the project's definitions, with a fresh DAGSTER_HOME."""
    port = _free_port()
    env = dict(
        os.environ,
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
        TIPIPELINE_DATA_DIR=str(settings.data_dir),
        TIPIPELINE_OUTPUT_DIR=str(settings.output_dir),
    )
    Path(env["DAGSTER_HOME"]).mkdir()
    # Runs submitted through the API start at once (no daemon in this test).
    (Path(env["DAGSTER_HOME"]) / "dagster.yaml").write_text(
        "run_coordinator:\n  module: dagster._core.run_coordinator\n  class: DefaultRunCoordinator\n"
        "telemetry:\n  enabled: false\n"
    )
    # The code location is called `tipipeline`, as under `make ui` (dg dev) and deploy/workspace.yaml.
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        "load_from:\n  - python_module:\n      module_name: tipipeline.definitions\n      location_name: tipipeline\n"
    )
    webserver_bin = Path(sys.executable).with_name("dagster-webserver")
    proc = subprocess.Popen(
        [str(webserver_bin), "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url + "/server_info", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"webserver exited: {proc.stderr.read().decode()[-2000:]}")
                time.sleep(0.5)
        else:
            pytest.fail("webserver did not start within 60 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _graphql(url: str, query: str) -> dict:
    request = urllib.request.Request(
        url + "/graphql", data=json.dumps({"query": query}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def test_asset_catalogue_lists_the_pipeline_assets(webserver):
    from tipipeline.definitions import defs

    chromium_path()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    served = _graphql(webserver, "{ assetNodes { assetKey { path } groupName } }")["assetNodes"]
    expected = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"/".join(n["assetKey"]["path"]) for n in served} == expected
    with browser_page(height=2400) as page:
        page.goto(webserver + "/assets", wait_until="networkidle")
        skip = page.get_by_role("button", name="Skip")
        if skip.count():
            skip.first.click()  # the first-visit "Join the community" dialog
        for name in ["audit_codings", "boroughs", "coder_agreement"]:  # the first rows, alphabetically
            page.get_by_text(name, exact=True).first.wait_for(timeout=30_000)
        page.screenshot(path=str(ARTEFACTS / "dagster_asset_catalogue.png"), full_page=True)
        page.goto(webserver + "/asset-groups", wait_until="networkidle")
        page.get_by_text("reference", exact=True).first.wait_for(timeout=30_000)
        page.screenshot(path=str(ARTEFACTS / "dagster_asset_graph.png"))


def test_materialise_through_the_graphql_api_then_look_at_the_graph(webserver):
    from dagster import DagsterRunStatus
    from dagster_graphql import DagsterGraphQLClient
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    chromium_path()
    host, port = webserver.removeprefix("http://").split(":")
    client = DagsterGraphQLClient(host, port_number=int(port))
    run_id = client.submit_job_execution(
        "reference_job", asset_selection=["boroughs", "organisations", "organisation_aliases"]
    )
    deadline = time.monotonic() + 180
    status = client.get_run_status(run_id)
    while status not in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED):
        assert time.monotonic() < deadline, f"run {run_id} still {status}"
        time.sleep(1)
        status = client.get_run_status(run_id)
    assert status == DagsterRunStatus.SUCCESS
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with browser_page(width=1600, height=1000) as page:
        page.goto(webserver + "/asset-groups/reference", wait_until="networkidle")
        skip = page.get_by_role("button", name="Skip")
        if skip.count():
            skip.first.click()
        page.wait_for_timeout(3000)
        page.screenshot(path=str(ARTEFACTS / "dagster_reference_group.png"))
        page.goto(webserver + f"/runs/{run_id}", wait_until="networkidle")
        page.get_by_text("Success").first.wait_for(timeout=30_000)
        page.screenshot(path=str(ARTEFACTS / "dagster_run.png"))
        # The asset page lists the columns of the latest materialisation with their descriptions,
        # which come from the table registry.
        page.goto(webserver + "/assets/boroughs", wait_until="networkidle")
        for description in ("Three-letter code (tile grid).", "MPS Basic Command Unit (empty for the City of London)."):
            page.get_by_text(description, exact=True).first.wait_for(timeout=30_000)
        skip = page.get_by_role("button", name="Skip")
        try:
            skip.first.wait_for(timeout=5_000)  # the first-visit dialog may open again on this page
            skip.first.click()
        except PlaywrightTimeoutError:
            pass
        page.get_by_text("short_code", exact=True).first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTEFACTS / "dagster_column_descriptions.png"))


def _dismiss_dialogs(page) -> None:
    """Close the UI's first-visit dialog ("Join the community") if it opens."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    skip = page.get_by_role("button", name="Skip")
    try:
        skip.first.wait_for(timeout=3_000)
        skip.first.click()
    except PlaywrightTimeoutError:
        pass


def _runs(url: str) -> list[dict]:
    query = "{ runsOrError { ... on Runs { results { runId jobName status } } } }"
    return _graphql(url, query)["runsOrError"]["results"]


def test_cli_runs_open_in_the_ui_and_materialize_all_launches(webserver, settings, tmp_path):
    """The jobs `tipipeline run` launches are the declared ones, so the UI opens them; a job's
    Materialize all launches on the first click."""
    from dagster import DagsterInstance

    from tipipeline.pipeline import run_pipeline

    chromium_path()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        summary = run_pipeline(settings, selection="group:reference", instance=instance)
    cli_runs = {r["runId"]: r["jobName"] for r in _runs(webserver) if r["runId"] in summary.run_ids}
    assert sorted(cli_runs.values()) == ["baseline_job", "reference_job"]
    with browser_page(width=1600, height=1000) as page:
        for run_id, job in cli_runs.items():
            page.goto(webserver + f"/runs/{run_id}", wait_until="networkidle")
            page.get_by_text("Success").first.wait_for(timeout=30_000)
            _dismiss_dialogs(page)
            page.get_by_role("link", name=job).first.click()
            page.wait_for_url(f"**/jobs/{job}**", timeout=30_000)
            page.get_by_text(job).first.wait_for(timeout=30_000)
            page.wait_for_timeout(2000)
            assert page.get_by_text("No matching jobs").count() == 0
            assert page.get_by_text("could not be found").count() == 0
        page.screenshot(path=str(ARTEFACTS / "dagster_cli_job.png"))
        before = {r["runId"] for r in _runs(webserver)}
        page.goto(webserver + "/locations/tipipeline/jobs/reference_job", wait_until="networkidle")
        _dismiss_dialogs(page)
        page.get_by_role("button", name="Materialize all").first.click()
        deadline = time.monotonic() + 180
        while True:
            new = [r for r in _runs(webserver) if r["runId"] not in before]
            if new and new[0]["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
                break
            assert time.monotonic() < deadline, f"Materialize all launched {new or 'nothing'} within 180 s"
            time.sleep(2)
        page.screenshot(path=str(ARTEFACTS / "dagster_materialize_all.png"))
    assert [(r["jobName"], r["status"]) for r in new] == [("reference_job", "SUCCESS")]
