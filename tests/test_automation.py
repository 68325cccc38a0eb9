"""Zero clicks from a new or corrected file to a refreshed baseline, with the real daemon.

`dg dev` (webserver, code server and daemon, as `make ui` runs it) watches a temporary data
folder. Each step changes the folder as an analyst would and waits for the published baseline to
follow, with no other action:
- a new wave folder is ingested and published, and the report is rebuilt;
- a corrected export in an existing wave publishes its new row counts;
- a deleted wave folder leaves the baseline, and no run fails because of it;
- a broken wave fails alone: the webhook receives one message, and the next wave still publishes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import duckdb
import pytest
from conftest import REPO

# Each step must land within the 3 minutes; the sensors tick every 10 s here.
STEP_TIMEOUT = 180


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Webhook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture()
def webhook():
    _Webhook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Webhook.received
    server.shutdown()


def _baseline(settings) -> dict:
    """What the published baseline holds: its waves, when it was published, rows read per wave."""
    if not settings.baseline_path.exists():
        return {}
    with duckdb.connect(str(settings.baseline_path), read_only=True) as conn:
        waves, published = conn.execute("SELECT survey_waves, published_at FROM provenance LIMIT 1").fetchone()
        rows = dict(
            conn.execute(
                "SELECT wave, sum(rows_read) FROM data_quality WHERE source = 'survey' GROUP BY wave"
            ).fetchall()
        )
    return {"waves": [w for w in waves.split(", ") if w], "published_at": published, "rows_read": rows}


def _wait(what: str, condition, proc, timeout: float = STEP_TIMEOUT):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            pytest.fail(f"dg dev exited while waiting for {what}")
        try:
            value = condition()
        except duckdb.Error:
            value = None  # the baseline was being swapped in: look again
        if value:
            return time.monotonic() - started
        time.sleep(3)
    pytest.fail(f"not within {timeout} s: {what}")


def _drop_last_records(export: Path, count: int) -> str:
    """Rewrite a Qualtrics CSV without its last `count` records (as a corrected export would come);
    return its three header rows."""
    import csv
    import io

    records = list(csv.reader(io.StringIO(export.read_text(encoding="utf-8-sig"), newline="")))
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(records[:-count])
    export.write_text(out.getvalue(), encoding="utf-8-sig", newline="")
    header = io.StringIO(newline="")
    csv.writer(header, lineterminator="\r\n").writerows(records[:3])
    return header.getvalue()


def _failed_runs(home: Path) -> list:
    from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

    with DagsterInstance.from_config(str(home)) as instance:
        return instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.FAILURE]))


def test_daemon_refreshes_the_baseline_with_zero_clicks(cli_built_sample, tmp_path, webhook, monkeypatch):
    from tipipeline.settings import get_settings

    url, messages = webhook
    # The first build, as `make run` does it, into the instance the daemon will use: the session's
    # shared `tipipeline run` of the sample (conftest.cli_built_sample), copied with its Dagster home.
    build = cli_built_sample.copy(tmp_path / "build")
    data, home = build.data, build.home
    held = tmp_path / "held"
    shutil.copytree(data / "raw" / "surveys" / "2024-w1", held / "2026-w3")
    settings = get_settings(data, build.outputs)
    env = {
        "DAGSTER_HOME": str(home),
        "TIPIPELINE_DATA_DIR": str(settings.data_dir),
        "TIPIPELINE_OUTPUT_DIR": str(settings.output_dir),
        "TIPIPELINE_WATCH_SECONDS": "10",
        "TIPIPELINE_ALERT_WEBHOOK": url,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    first = _baseline(settings)
    assert first["waves"] == ["2024-w1", "2025-w2"]
    report = settings.output_dir / "report" / "baseline.html"
    report_built = report.stat().st_mtime_ns

    def rebuilt(since: int) -> bool:
        """The report was written after `since` and after the baseline it shows was published."""
        written = report.stat().st_mtime_ns
        return written > since and written > settings.baseline_path.stat().st_mtime_ns

    port = _free_port()
    dg = Path(sys.executable).with_name("dg")
    proc = subprocess.Popen(
        [str(dg), "dev", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env={**os.environ, **env, "VIRTUAL_ENV": str(Path(sys.executable).parents[1])},
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "dg_dev.log", "wb"),  # noqa: SIM115 (closed with the process)
        start_new_session=True,
    )
    try:
        # 1. A new wave folder: ingested, published, report rebuilt.
        time.sleep(20)  # the daemon's first ticks record the inputs as they are
        shutil.copytree(held / "2026-w3", data / "raw" / "surveys" / "2026-w3")
        _wait("the new wave in the baseline", lambda: "2026-w3" in _baseline(settings).get("waves", []), proc)
        _wait("the report rebuilt", lambda: rebuilt(report_built), proc)
        added = _baseline(settings)
        assert added["waves"] == ["2024-w1", "2025-w2", "2026-w3"]

        # 2. A corrected export replaces the file in an existing wave: 6 rows fewer.
        [export] = sorted((data / "raw" / "surveys" / "2024-w1").iterdir())
        header = _drop_last_records(export, 6)
        expected = added["rows_read"]["2024-w1"] - 6
        report_built = report.stat().st_mtime_ns
        _wait(
            "the corrected wave's row count", lambda: _baseline(settings)["rows_read"].get("2024-w1") == expected, proc
        )
        _wait("the report rebuilt", lambda: rebuilt(report_built), proc)

        # 3. A deleted wave folder leaves the baseline; no run fails because of it.
        report_built = report.stat().st_mtime_ns
        shutil.rmtree(data / "raw" / "surveys" / "2026-w3")
        _wait("the deleted wave gone", lambda: _baseline(settings)["waves"] == ["2024-w1", "2025-w2"], proc)
        _wait("the report rebuilt", lambda: rebuilt(report_built), proc)
        time.sleep(25)  # let any run the deletion set off finish
        assert _failed_runs(home) == []
        assert messages == []

        # 4. A broken wave (a header-only export) fails alone and raises one alert ...
        broken = data / "raw" / "surveys" / "2027-w4"
        broken.mkdir()
        (broken / "export.csv").write_text(header, encoding="utf-8-sig")
        _wait("one alert", lambda: len(messages) >= 1, proc)
        assert "2027-w4" in json.dumps(messages[0])
        [failed] = _failed_runs(home)
        assert failed.tags.get("dagster/partition") == "2027-w4"
        # ... and never stops another wave from publishing.
        shutil.copytree(held / "2026-w3", data / "raw" / "surveys" / "2028-w5")
        _wait(
            "the next wave published beside the broken one",
            lambda: _baseline(settings)["waves"] == ["2024-w1", "2025-w2", "2028-w5"],
            proc,
        )
        time.sleep(25)
        assert len(messages) == 1, messages
        assert len(_failed_runs(home)) == 1
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
