"""Tell people when a run fails: one message to a webhook (Teams, Slack) and/or one e-mail.

Configured by environment variables, read when the sensor runs:

- ``TIPIPELINE_ALERT_WEBHOOK``: URL that receives ``{"text": ..., "job": ..., ...}`` as JSON.
- ``TIPIPELINE_ALERT_EMAIL``: comma-separated recipients; needs ``TIPIPELINE_SMTP_HOST``
  (``TIPIPELINE_SMTP_PORT``, default 25; ``TIPIPELINE_ALERT_FROM``, default tipipeline@<host>).
- ``TIPIPELINE_UI_URL``: base URL of the Dagster UI, to link the failed run.

Nothing here raises inside the sensor: a message that cannot be sent is logged (without the
webhook URL, which is a secret) and the sensor carries on.
"""

from __future__ import annotations

import json
import logging
import re
import smtplib
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage

from dagster import (
    DagsterEvent,
    DefaultSensorStatus,
    Failure,
    RunFailureSensorContext,
    SkipReason,
    run_failure_sensor,
)
from dagster_shared.error import SerializableErrorInfo

from tipipeline.assets.failures import LOCATION_KEYS, one_line
from tipipeline.errors import TipipelineError
from tipipeline.settings import (
    ALERT_EMAIL_ENV,
    ALERT_FROM_ENV,
    ALERT_WEBHOOK_ENV,
    SMTP_HOST_ENV,
    SMTP_PORT_ENV,
    UI_URL_ENV,
    env,
)

__all__ = [
    "FailureSummary",
    "alert_message",
    "failure_reason",
    "post_webhook",
    "run_failure_alert",
    "send_email",
    "summarise_failure",
]

logger = logging.getLogger(__name__)

ENV_WEBHOOK, ENV_EMAIL, ENV_FROM = ALERT_WEBHOOK_ENV, ALERT_EMAIL_ENV, ALERT_FROM_ENV
ENV_SMTP_HOST, ENV_SMTP_PORT, ENV_UI_URL = SMTP_HOST_ENV, SMTP_PORT_ENV, UI_URL_ENV

UNKNOWN_REASON = "the run did not succeed (see the Dagster UI for details)"
AUTOMATION_JOB, AUTOMATION_JOB_LABEL = "__ASSET_JOB", "automation (assets materialised by declarative automation)"
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

# "tipipeline.errors.InputError: file.csv: ..." -> "file.csv: ...": our errors speak for themselves,
# and so does a dagster.Failure raised by readable_failures().
_CLASS_PREFIX = re.compile(r"^(?:tipipeline\.[\w.]*Error|dagster\.[\w.]*\.Failure): ")


# --- What went wrong ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FailureSummary:
    """The first failure of a run: which step, why, and where in the input if known."""

    reason: str
    step: str | None = None
    file: str | None = None
    field: str | None = None
    row: int | None = None
    column: str | None = None


def _error_reason(error: SerializableErrorInfo) -> str:
    cause = error
    # Dagster wraps the exception raised in the asset; that exception's message is the reason
    # (not its own cause, which is an implementation detail such as BadZipFile).
    while cause.cause is not None and (cause.cls_name or "").startswith("Dagster"):
        cause = cause.cause
    lines = [line for line in (cause.message or error.message or "").strip().splitlines() if line.strip()]
    return _CLASS_PREFIX.sub("", lines[0].strip()) if lines else UNKNOWN_REASON


def _exception_reason(error: BaseException) -> str:
    if isinstance(error, Failure):
        return one_line(error.description or "") or UNKNOWN_REASON
    if isinstance(error, TipipelineError):
        return one_line(str(error)) or type(error).__name__
    text = one_line(str(error))
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _is_failed_check(event: DagsterEvent) -> bool:
    if event.event_type_value != "ASSET_CHECK_EVALUATION":
        return False
    data = event.event_specific_data
    return not data.passed and getattr(data.severity, "value", None) == "ERROR"


def _metadata_value(value: object) -> object:
    return getattr(value, "value", value)  # MetadataValue -> plain value


def _summarise_event(event: DagsterEvent) -> FailureSummary | None:
    if event.is_step_failure:
        data = event.step_failure_data
        user = data.user_failure_data
        reason = one_line(user.description) if user is not None and user.description else None
        location: dict[str, object] = {}
        if user is not None:
            for key in LOCATION_KEYS:
                if user.metadata.get(key) is not None:
                    location[key] = _metadata_value(user.metadata[key])
        return FailureSummary(reason=reason or _error_reason(data.error), step=event.step_key, **location)
    if _is_failed_check(event):
        data = event.event_specific_data
        return FailureSummary(reason=f"check {data.check_name} failed: {data.description}", step=event.step_key)
    if event.event_type_value == "PIPELINE_FAILURE":
        data = event.event_specific_data
        first = getattr(data, "first_step_failure_event", None)
        if first is not None:
            return _summarise_event(first)
        if getattr(data, "error", None) is not None:
            return FailureSummary(reason=_error_reason(data.error))
        return FailureSummary(reason=one_line(event.message or "") or UNKNOWN_REASON)
    return None


def summarise_failure(source: object) -> FailureSummary:
    """The first failure in events (a run's, or one event), an error info, an exception or a text.

    Among events, the first step failure or failed blocking check wins, as in the CLI; the run
    failure event is the fallback.
    """
    if source is None:
        return FailureSummary(reason=UNKNOWN_REASON)
    if isinstance(source, str):
        lines = [line for line in source.strip().splitlines() if line.strip()]
        return FailureSummary(reason=_CLASS_PREFIX.sub("", lines[0].strip()) if lines else UNKNOWN_REASON)
    if isinstance(source, BaseException):
        location = {key: getattr(source, key) for key in LOCATION_KEYS if getattr(source, key, None) not in (None, "")}
        return FailureSummary(reason=_exception_reason(source), **location)
    if isinstance(source, SerializableErrorInfo):
        return FailureSummary(reason=_error_reason(source))
    if isinstance(source, DagsterEvent):
        return _summarise_event(source) or FailureSummary(reason=UNKNOWN_REASON)
    if isinstance(source, Iterable):
        fallback = None
        for event in source:
            if not isinstance(event, DagsterEvent):
                continue
            if event.is_step_failure or _is_failed_check(event):
                return _summarise_event(event)
            if fallback is None and event.event_type_value == "PIPELINE_FAILURE":
                fallback = _summarise_event(event)
        return fallback or FailureSummary(reason=UNKNOWN_REASON)
    return FailureSummary(reason=UNKNOWN_REASON)


def failure_reason(events_or_error: object) -> str:
    """The one-line reason a run (its events), a step (its error) or an exception failed.

    Dagster's own wrappers are looked through, and tipipeline error class names (and
    ``dagster.Failure``'s) are stripped: "wave_3.csv, row 12, column 'q4': not a number".
    """
    return summarise_failure(events_or_error).reason


# --- The message -------------------------------------------------------------------------------


def _where(file: str | None, field: str | None, row: int | None, column: str | None) -> str | None:
    parts = [str(file)] if file else []
    if field:
        parts.append(f"field {field}")
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column {column}")
    return ", ".join(parts) or None


def alert_message(
    job: str,
    run_id: str,
    reason: str,
    *,
    partition: str | None = None,
    step: str | None = None,
    file: str | None = None,
    field: str | None = None,
    row: int | None = None,
    column: str | None = None,
    assets: Iterable[str] = (),
    ui_url: str | None = None,
) -> dict[str, object]:
    """The JSON message: ``text`` for Teams and Slack, and the same facts as separate fields."""
    run_url = f"{ui_url.rstrip('/')}/runs/{run_id}" if ui_url else None
    assets = sorted(assets)
    # Runs the automation launches belong to Dagster's implicit asset job: say what it is.
    job = AUTOMATION_JOB_LABEL if job == AUTOMATION_JOB else job
    headline = f"tipipeline run failed: job {job}" + (f", partition {partition}" if partition else "") + "."
    lines = [headline]
    if assets:
        shown = ", ".join(assets[:5]) + (f" and {len(assets) - 5} more" if len(assets) > 5 else "")
        lines.append(f"Assets: {shown}.")
    if step:
        lines.append(f"Step: {step}.")
    lines.append(f"Reason: {reason}")
    where = _where(file, field, row, column)
    if where:
        lines.append(f"Where: {where}")
    lines.append(f"Run: {run_id}" + (f" ({run_url})" if run_url else ""))
    message: dict[str, object] = {"text": "\n".join(lines)}
    fields = {
        "job": job,
        "partition": partition,
        "run_id": run_id,
        "step": step,
        "reason": reason,
        "file": file,
        "field": field,
        "row": row,
        "column": column,
        "assets": assets or None,
        "run_url": run_url,
    }
    message.update({key: value for key, value in fields.items() if value is not None})
    return message


# --- Sending -----------------------------------------------------------------------------------


def _redact(text: str, url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    for secret in (url, parts.path + ("?" + parts.query if parts.query else ""), parts.query):
        if secret and len(secret) > 1:
            text = text.replace(secret, "<webhook>")
    return text


def _describe_http_error(exc: BaseException, url: str) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"the webhook answered HTTP {exc.code} {exc.reason or ''}".rstrip()
    if isinstance(exc, urllib.error.URLError):
        return _redact(f"the webhook could not be reached ({exc.reason})", url)
    return _redact(f"the webhook could not be reached ({type(exc).__name__}: {exc})", url)


def post_webhook(url: str, payload: Mapping[str, object], timeout: float = 10, log=None) -> bool:
    """POST ``payload`` as JSON to ``url``; True if it was accepted (2xx). Never raises.

    Failures are logged to ``log`` (default: this module's logger) without the URL.
    """
    log = log or logger
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        log.warning("Run-failure alert not sent: %s must be an http(s) URL.", ENV_WEBHOOK)
        return False
    try:
        body = json.dumps(payload, default=str).encode("utf-8")
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            ok = 200 <= response.status < 300
        if not ok:
            log.warning("Run-failure alert not accepted: the webhook answered HTTP %s.", response.status)
        return ok
    except Exception as exc:  # an alert must never break the sensor
        log.warning("Run-failure alert not sent: %s.", _describe_http_error(exc, url))
        return False


def send_email(
    host: str,
    port: int,
    sender: str,
    recipients: Iterable[str],
    subject: str,
    body: str,
    timeout: float = 10,
    log=None,
) -> bool:
    """Send one plain-text e-mail through an SMTP relay (no login, no TLS). Never raises."""
    log = log or logger
    recipients = [address.strip() for address in recipients if address.strip()]
    if not recipients:
        log.warning("Run-failure e-mail not sent: %s names no recipient.", ENV_EMAIL)
        return False
    message = EmailMessage()
    message["Subject"] = one_line(subject)[:200]
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message.set_content(body)
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            smtp.send_message(message)
        return True
    except Exception as exc:  # an alert must never break the sensor
        log.warning("Run-failure e-mail not sent via %s:%s: %s: %s.", host, port, type(exc).__name__, exc)
        return False


# --- The sensor --------------------------------------------------------------------------------


def _partition(tags: Mapping[str, str]) -> str | None:
    if tags.get(PARTITION_TAG):
        return tags[PARTITION_TAG]
    if tags.get(RANGE_START_TAG) and tags.get(RANGE_END_TAG):
        return f"{tags[RANGE_START_TAG]} to {tags[RANGE_END_TAG]}"
    return None


DISCLOSURE_DETAIL = re.compile(r"disclosure (?:audit|problem|control)", re.IGNORECASE)


def outside_safe(reason: str) -> str:
    """The reason as it may leave the secure environment: a disclosure failure names a small count
    of an identifiable organisation, so the message says only that the disclosure check failed."""
    if DISCLOSURE_DETAIL.search(reason):
        return "the disclosure control check failed; the details stay in the Dagster UI (never sent outside)"
    return reason


def _message_for(context: RunFailureSensorContext, ui_url: str | None) -> dict[str, object]:
    run = context.dagster_run
    try:
        events = [*context.get_step_failure_events(), context.failure_event]
    except Exception:  # fall back to the run failure event alone
        events = [context.failure_event]
    summary = summarise_failure(events)
    assets = [key.to_user_string() for key in (run.asset_selection or ())]
    return alert_message(
        run.job_name,
        run.run_id,
        outside_safe(summary.reason),
        partition=_partition(run.tags),
        step=summary.step,
        file=summary.file,
        field=summary.field,
        row=summary.row,
        column=summary.column,
        assets=assets,
        ui_url=ui_url,
    )


def _smtp_port(log) -> int:
    raw = env(ENV_SMTP_PORT).strip()
    try:
        return int(raw) if raw else 25
    except ValueError:
        log.warning("%s=%r is not a number; using port 25.", ENV_SMTP_PORT, raw)
        return 25


@run_failure_sensor(
    name="run_failure_alert",
    description=(
        "When a run fails, posts its job, partition, failing step and one-line reason to "
        f"{ENV_WEBHOOK} and/or e-mails {ENV_EMAIL}. Does nothing if neither is set."
    ),
    default_status=DefaultSensorStatus.RUNNING,
)
def run_failure_alert(context: RunFailureSensorContext):
    webhook = env(ENV_WEBHOOK).strip()
    email_to = env(ENV_EMAIL).strip()
    smtp_host = env(ENV_SMTP_HOST).strip()
    if email_to and not smtp_host:
        context.log.warning("%s is set but %s is not: no e-mail will be sent.", ENV_EMAIL, ENV_SMTP_HOST)
    if not webhook and not (email_to and smtp_host):
        return SkipReason(f"No alert destination: set {ENV_WEBHOOK}, or {ENV_EMAIL} with {ENV_SMTP_HOST}.")

    run = context.dagster_run
    try:
        message = _message_for(context, env(ENV_UI_URL).strip() or None)
    except Exception as exc:  # still say that the run failed
        context.log.warning("Could not summarise run %s's failure (%s); sending a short alert.", run.run_id, exc)
        message = alert_message(run.job_name, run.run_id, UNKNOWN_REASON)

    if webhook and post_webhook(webhook, message, log=context.log):
        context.log.info("Run-failure alert for run %s posted to the webhook.", run.run_id)
    if email_to and smtp_host:
        subject = f"[tipipeline] run failed: {message['job']}"
        if message.get("partition"):
            subject += f" ({message['partition']})"
        subject += f": {message['reason']}"
        sender = env(ENV_FROM).strip() or f"tipipeline@{socket.getfqdn()}"
        if send_email(
            smtp_host,
            _smtp_port(context.log),
            sender,
            email_to.split(","),
            subject,
            str(message["text"]),
            log=context.log,
        ):
            context.log.info("Run-failure e-mail for run %s sent to %s.", run.run_id, email_to)
    return None
