"""Readable failures in assets, and the run-failure alert (webhook and e-mail) they feed."""

import email
import json
import logging
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from dagster import (
    AssetExecutionContext,
    DagsterInstance,
    Failure,
    SkipReason,
    StaticPartitionsDefinition,
    asset,
    build_run_status_sensor_context,
    materialize,
)
from dagster_shared.error import SerializableErrorInfo

from tipipeline import alerts
from tipipeline.alerts import alert_message, failure_reason, post_webhook, run_failure_alert, summarise_failure
from tipipeline.assets.failures import as_failure, readable_failures
from tipipeline.errors import ConfigError, InputError

WAVE_FILE = "data/raw/wave_2024_autumn.csv"
REASON = "'abc' is not a whole number"
ONE_LINE = f"wave_2024_autumn.csv, row 7, column 'q3_age': {REASON}"

ALERT_ENV = [
    alerts.ENV_WEBHOOK,
    alerts.ENV_EMAIL,
    alerts.ENV_FROM,
    alerts.ENV_SMTP_HOST,
    alerts.ENV_SMTP_PORT,
    alerts.ENV_UI_URL,
]


@pytest.fixture(autouse=True)
def no_alert_settings(monkeypatch):
    """Whatever the developer's shell says, each test starts with no alert configured."""
    for name in ALERT_ENV:
        monkeypatch.delenv(name, raising=False)


# --- Local sinks -------------------------------------------------------------------------------


class WebhookSink:
    """An HTTP server on 127.0.0.1 that records the bodies POSTed to it."""

    def __init__(self, status: int = 200):
        self.status = status
        self.bodies: list[bytes] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                sink.bodies.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                self.send_response(sink.status)
                self.end_headers()
                self.wfile.write(b"1" if sink.status == 200 else b"error")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhookb2/secret-token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def messages(self) -> list[dict]:
        return [json.loads(body) for body in self.bodies]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class SmtpSink(socketserver.ThreadingTCPServer):
    """Just enough SMTP on 127.0.0.1 to accept mail and keep each message's bytes."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.messages: list[bytes] = []

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str):
                self.wfile.write(line.encode("ascii") + b"\r\n")

            def handle(self):
                self.reply("220 sink ESMTP")
                while line := self.rfile.readline():
                    verb = line.decode("ascii", "replace").strip().split(" ")[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 sink")
                    elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        data = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data += chunk[1:] if chunk.startswith(b"..") else chunk
                        self.server.messages.append(data)
                        self.reply("250 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self):
        self.shutdown()
        self.server_close()


@pytest.fixture()
def webhook(monkeypatch):
    sink = WebhookSink()
    monkeypatch.setenv(alerts.ENV_WEBHOOK, sink.url)
    yield sink
    sink.close()


def refused_url() -> str:
    """A URL on a local port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/webhookb2/secret-token"


# --- A run that fails on bad input -------------------------------------------------------------

waves = StaticPartitionsDefinition(["2024-autumn", "2025-spring"])


@asset(partitions_def=waves)
def survey_wave(context: AssetExecutionContext) -> None:
    with readable_failures():
        raise InputError(WAVE_FILE, REASON, row=7, column="q3_age")


@asset
@readable_failures()
def decorated_asset(context: AssetExecutionContext) -> None:
    context.log.info("about to fail")
    raise InputError(WAVE_FILE, REASON, row=7, column="q3_age")


@asset
def plain_input_error() -> None:
    raise InputError(WAVE_FILE, REASON, row=7, column="q3_age")


@pytest.fixture(scope="module")
def failed_run():
    instance = DagsterInstance.ephemeral()
    result = materialize([survey_wave], instance=instance, partition_key="2024-autumn", raise_on_error=False)
    assert not result.success
    return instance, result


def sensor_context(instance, result):
    return build_run_status_sensor_context(
        sensor_name="run_failure_alert",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
    )


def step_failure(result):
    [event] = [event for event in result.all_events if event.is_step_failure]
    return event


# --- readable_failures -------------------------------------------------------------------------


def test_input_error_becomes_a_one_line_failure_with_its_location():
    with pytest.raises(Failure) as raised:
        with readable_failures():
            raise InputError(WAVE_FILE, REASON, row=7, column="q3_age")
    failure = raised.value
    assert failure.description == ONE_LINE
    assert {key: value.value for key, value in failure.metadata.items()} == {
        "file": WAVE_FILE,
        "row": 7,
        "column": "q3_age",
        "reason": REASON,
    }
    assert failure.allow_retries is False
    assert failure.__cause__ is None and failure.__suppress_context__


def test_unknown_location_is_left_out_of_the_metadata():
    failure = as_failure(InputError(WAVE_FILE, "the file is empty"))
    assert set(failure.metadata) == {"file", "reason"}
    config = as_failure(ConfigError("framework.yaml", "domains[2].items", "unknown item 'q99'"))
    assert {key: value.value for key, value in config.metadata.items()} == {
        "file": "framework.yaml",
        "field": "domains[2].items",
        "reason": "unknown item 'q99'",
    }
    assert config.description == "framework.yaml: domains[2].items: unknown item 'q99'"


def test_multi_line_messages_become_one_line():
    failure = as_failure(InputError(WAVE_FILE, "bad header\n  expected 'id'\n"))
    assert "\n" not in failure.description
    assert failure.description == "wave_2024_autumn.csv: bad header expected 'id'"


def test_other_exceptions_pass_through_unchanged():
    original = ValueError("not ours")
    with pytest.raises(ValueError) as raised:
        with readable_failures():
            raise original
    assert raised.value is original


def test_a_failing_asset_reports_one_line_and_the_location(failed_run):
    _, result = failed_run
    data = step_failure(result).step_failure_data
    assert data.error.cls_name == "Failure"
    assert data.error.message.strip().endswith(ONE_LINE)
    assert data.error.cause is None and data.error.context is None
    assert data.user_failure_data.description == ONE_LINE
    metadata = {key: value.value for key, value in data.user_failure_data.metadata.items()}
    assert metadata == {"file": WAVE_FILE, "row": 7, "column": "q3_age", "reason": REASON}
    # Not retried: the step failed once.
    assert len([event for event in result.all_events if event.is_step_failure]) == 1


def test_readable_failures_works_as_a_decorator_under_asset():
    instance = DagsterInstance.ephemeral()
    result = materialize([decorated_asset], instance=instance, raise_on_error=False)
    data = step_failure(result).step_failure_data
    assert data.user_failure_data.description == ONE_LINE
    # The asset still received its context.
    assert any("about to fail" in entry.user_message for entry in instance.all_logs(result.run_id))


# --- failure_reason ----------------------------------------------------------------------------


def test_failure_reason_of_a_run_with_readable_failures(failed_run):
    _, result = failed_run
    assert failure_reason(result.all_events) == ONE_LINE
    assert failure_reason(result.get_run_failure_event()) == ONE_LINE
    summary = summarise_failure(result.all_events)
    assert (summary.step, summary.file, summary.row, summary.column) == ("survey_wave", WAVE_FILE, 7, "q3_age")


def test_failure_reason_strips_our_class_names_from_a_raw_error():
    result = materialize([plain_input_error], instance=DagsterInstance.ephemeral(), raise_on_error=False)
    assert failure_reason(result.all_events) == ONE_LINE
    assert failure_reason(step_failure(result).step_failure_data.error) == ONE_LINE
    # Without readable_failures the location is only in the text.
    assert summarise_failure(result.all_events).file is None


def test_failure_reason_looks_through_dagster_wrappers():
    inner = SerializableErrorInfo(
        message="tipipeline.errors.InputError: x.csv, row 3: bad\n", stack=[], cls_name="InputError", cause=None
    )
    outer = SerializableErrorInfo(
        message='dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op "a":\n',
        stack=[],
        cls_name="DagsterExecutionStepExecutionError",
        cause=inner,
    )
    assert failure_reason(outer) == "x.csv, row 3: bad"
    assert failure_reason("tipipeline.errors.ConfigError: f.yaml: x: y\nmore") == "f.yaml: x: y"


def test_failure_reason_of_exceptions_and_nothing():
    assert failure_reason(InputError(WAVE_FILE, REASON, row=7, column="q3_age")) == ONE_LINE
    assert failure_reason(Failure(description="one line")) == "one line"
    assert failure_reason(ValueError("boom")) == "ValueError: boom"
    assert failure_reason([]) == alerts.UNKNOWN_REASON
    assert failure_reason(None) == alerts.UNKNOWN_REASON


# --- alert_message and post_webhook ------------------------------------------------------------


def test_alert_message_names_everything_known():
    message = alert_message(
        "wave_job",
        "abc-123",
        ONE_LINE,
        partition="2024-autumn",
        step="survey_wave",
        file=WAVE_FILE,
        row=7,
        column="q3_age",
        ui_url="http://127.0.0.1:3000/",
    )
    text = message["text"]
    for expected in ("wave_job", "2024-autumn", "survey_wave", ONE_LINE, WAVE_FILE, "row 7", "column q3_age"):
        assert expected in text
    assert "http://127.0.0.1:3000/runs/abc-123" in text
    assert message["run_url"] == "http://127.0.0.1:3000/runs/abc-123"
    assert (message["job"], message["row"], message["column"]) == ("wave_job", 7, "q3_age")


def test_alert_message_leaves_out_what_is_unknown():
    message = alert_message("baseline_job", "abc-123", "something broke")
    assert set(message) == {"text", "job", "run_id", "reason"}
    assert "partition" not in message["text"] and "Where" not in message["text"]


def test_post_webhook_failures_are_logged_without_the_url(caplog):
    sink = WebhookSink(status=500)
    try:
        with caplog.at_level(logging.WARNING, logger="tipipeline.alerts"):
            assert post_webhook(sink.url, {"text": "hi"}) is False
            assert post_webhook(refused_url(), {"text": "hi"}, timeout=2) is False
            assert post_webhook("ftp://example.invalid/secret-token", {"text": "hi"}) is False
    finally:
        sink.close()
    assert len(sink.bodies) == 1
    assert "HTTP 500" in caplog.text
    assert "secret-token" not in caplog.text and "127.0.0.1" not in caplog.text


# --- The sensor --------------------------------------------------------------------------------


def test_sensor_posts_one_message_naming_job_file_row_column_and_reason(failed_run, webhook, monkeypatch):
    monkeypatch.setenv(alerts.ENV_UI_URL, "http://127.0.0.1:3000")
    instance, result = failed_run
    returned = run_failure_alert(sensor_context(instance, result))
    assert returned is None
    [message] = webhook.messages
    text = message["text"]
    job = result.dagster_run.job_name
    for expected in (job, "2024-autumn", "survey_wave", WAVE_FILE, "row 7", "column q3_age", ONE_LINE):
        assert expected in text
    assert f"http://127.0.0.1:3000/runs/{result.run_id}" in text
    assert "Traceback" not in text and "Failure:" not in text
    assert message["job"] == job
    assert message["partition"] == "2024-autumn"
    assert message["reason"] == ONE_LINE
    assert (message["file"], message["row"], message["column"]) == (WAVE_FILE, 7, "q3_age")


def test_sensor_without_a_destination_does_nothing(failed_run):
    sink = WebhookSink()  # listening, but not configured
    try:
        instance, result = failed_run
        returned = run_failure_alert(sensor_context(instance, result))
    finally:
        sink.close()
    assert isinstance(returned, SkipReason)
    assert sink.bodies == []


@pytest.mark.parametrize("status", [500, 404])
def test_sensor_survives_a_webhook_error(failed_run, webhook, status):
    webhook.status = status
    instance, result = failed_run
    assert run_failure_alert(sensor_context(instance, result)) is None
    assert len(webhook.bodies) == 1


def test_sensor_survives_a_refused_connection(failed_run, monkeypatch):
    monkeypatch.setenv(alerts.ENV_WEBHOOK, refused_url())
    instance, result = failed_run
    assert run_failure_alert(sensor_context(instance, result)) is None


def test_sensor_sends_one_email_with_the_reason(failed_run, monkeypatch):
    smtp = SmtpSink()
    try:
        monkeypatch.setenv(alerts.ENV_EMAIL, "data-team@example.org, lead@example.org")
        monkeypatch.setenv(alerts.ENV_SMTP_HOST, "127.0.0.1")
        monkeypatch.setenv(alerts.ENV_SMTP_PORT, str(smtp.port))
        instance, result = failed_run
        assert run_failure_alert(sensor_context(instance, result)) is None
    finally:
        smtp.close()
    [raw] = smtp.messages
    mail = email.message_from_bytes(raw)
    assert "run failed" in mail["Subject"] and ONE_LINE in mail["Subject"]
    assert mail["To"] == "data-team@example.org, lead@example.org"
    body = mail.get_payload(decode=True).decode("utf-8")
    for expected in (ONE_LINE, WAVE_FILE, "row 7", "column q3_age", result.run_id):
        assert expected in body


def test_sensor_survives_an_unreachable_smtp_server(failed_run, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(alerts.ENV_EMAIL, "data-team@example.org")
    monkeypatch.setenv(alerts.ENV_SMTP_HOST, "127.0.0.1")
    monkeypatch.setenv(alerts.ENV_SMTP_PORT, str(port))
    instance, result = failed_run
    assert run_failure_alert(sensor_context(instance, result)) is None


def test_sensor_is_running_by_default_and_watches_the_whole_code_location():
    from dagster import DefaultSensorStatus

    assert run_failure_alert.name == "run_failure_alert"
    assert run_failure_alert.default_status == DefaultSensorStatus.RUNNING
    # No job list and not every code location: Dagster then watches every job of this location.
    assert not run_failure_alert._monitored_jobs
    assert not run_failure_alert._monitor_all_code_locations


def test_disclosure_details_never_leave_in_an_alert():
    from tipipeline.alerts import outside_safe

    # A constructed breach: the audit's own wording names a small count of one organisation.
    for reason in (
        "check survey_indicators_disclosure_control failed: 2 disclosure problems, e.g. n can be narrowed to "
        "3-4 (domain_agree_policy, 2024-w1, E09000013)",
        "published_baseline: not published: the disclosure audit found the numerator is revealed: 3 "
        "(willing_to_share, organisation, E09000013, 2024-w1) (and 4 more)",
    ):
        safe = outside_safe(reason)
        assert "E09000013" not in safe and "3-4" not in safe and "revealed" not in safe
        assert "disclosure control check failed" in safe
    plain = "export.csv, row 7, column 'Q3': not a number"
    assert outside_safe(plain) == plain
