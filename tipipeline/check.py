"""`tipipeline check`: read and validate input files without writing anything, and report.

One report (a dict, JSON-ready) per file: its kind, detected format, encoding, rows read /
accepted / quarantined / excluded (by rule), identifying columns dropped and the problems found
(row, column, message). `usable` is False, with a one-line `reason`, when the file cannot be used.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from tipipeline.errors import TipipelineError
from tipipeline.ingest.codebook import Codebook, load_codebook
from tipipeline.ingest.exports import read_export
from tipipeline.ingest.identifiers import DEVELOPMENT_KEY, identifying_columns
from tipipeline.ingest.surveys import EXCLUSION_RULES, _Ledger, apply_format_rules, ingest_file
from tipipeline.reference import load_reference

MAX_PROBLEMS = 200


def _empty_report(path: Path, kind: str) -> dict:
    return {
        "file": str(path),
        "kind": kind,
        "format": None,
        "encoding": None,
        "header_rows": None,
        "rows_read": 0,
        "rows_accepted": 0,
        "rows_quarantined": 0,
        "rows_excluded": {},
        "identifying_columns_dropped": [],
        "problems": [],
        "usable": False,
        "reason": None,
    }


def check_survey_export(path: str | Path, codebook: Codebook | None = None, wave: str | None = None) -> dict:
    """Check one survey export; with a codebook, everything ingestion would do, else format only."""
    path = Path(path)
    report = _empty_report(path, "survey_export")
    try:
        if codebook is None:
            _format_only(path, report)
        else:
            # Nothing is stored, so a throwaway key serves for real data; pseudonyms are not shown.
            key = DEVELOPMENT_KEY if codebook.synthetic else secrets.token_bytes(32)
            result = ingest_file(path, codebook, wave or path.parent.name, load_reference(), key)
            report.update(
                format=result.raw_format,
                format_label=result.format_label,
                encoding=result.encoding,
                header_rows=result.header_rows,
                rows_read=result.rows_read,
                rows_accepted=result.rows_accepted,
                rows_quarantined=result.rows_quarantined,
                rows_excluded=result.rows_excluded,
                identifying_columns_dropped=result.identifying_columns_dropped,
                problems=sorted(result.problems, key=lambda p: p["row"])[:MAX_PROBLEMS],
            )
    except TipipelineError as exc:
        report["reason"] = str(exc)
        return report
    if report["rows_accepted"] == 0:
        report["reason"] = f"{path.name}: no row would be accepted"
    else:
        report["usable"] = True
    return report


def _format_only(path: Path, report: dict) -> None:
    raw = read_export(path)
    ledger = _Ledger(raw, wave="")
    apply_format_rules(raw, ledger, None)
    excluded = ledger.excluded.value_counts().to_dict()
    if raw.blank_rows:
        excluded["blank_row"] = len(raw.blank_rows)
    problems = [{"row": row, "column": None, "message": f"malformed row: {reason}"} for row, reason in raw.malformed.items()]
    problems += [{"row": e["source_row"], "column": e["column"], "message": e["reason"]} for e in ledger.entries]
    report.update(
        format=raw.format,
        format_label=raw.format_label,
        encoding=raw.encoding,
        header_rows=raw.header_rows,
        rows_read=raw.rows_read,
        rows_accepted=int(ledger.open.sum()),
        rows_quarantined=len(raw.malformed) + int(ledger.quarantined.sum()),
        rows_excluded={rule: int(excluded[rule]) for rule in EXCLUSION_RULES if rule in excluded},
        identifying_columns_dropped=identifying_columns(raw.columns),
        problems=sorted(problems, key=lambda p: p["row"])[:MAX_PROBLEMS],
    )


def check_files(paths: list[str | Path], codebook_path: str | Path | None = None, wave: str | None = None) -> list[dict]:
    """Check each file; a codebook that does not load is reported against every file."""
    codebook = None
    codebook_error = None
    if codebook_path is not None:
        try:
            from tipipeline.framework import load_framework

            codebook = load_codebook(codebook_path, load_framework())
        except TipipelineError as exc:
            codebook_error = str(exc)
    reports = []
    for path in paths:
        if codebook_error:
            report = _empty_report(Path(path), "survey_export")
            report["reason"] = f"codebook: {codebook_error}"
            reports.append(report)
            continue
        reports.append(check_survey_export(path, codebook, wave))
    return reports


def format_report(report: dict) -> str:
    """A human-readable summary of one report."""
    lines = [f"{report['file']}"]
    if report.get("format"):
        encoding = f", {report['encoding']}" if report.get("encoding") else ""
        lines.append(f"  kind: {report['kind']}; format: {report.get('format_label', report['format'])}{encoding}; "
                     f"header rows: {report['header_rows']}")
        excluded = sum(report["rows_excluded"].values())
        lines.append(f"  rows read {report['rows_read']} = accepted {report['rows_accepted']} + quarantined "
                     f"{report['rows_quarantined']} + excluded {excluded}")
        for rule, count in report["rows_excluded"].items():
            lines.append(f"    excluded, {rule}: {count}")
        dropped = report["identifying_columns_dropped"]
        lines.append(f"  identifying columns dropped: {', '.join(dropped) if dropped else 'none'}")
        for problem in report["problems"][:20]:
            column = f", column {problem['column']!r}" if problem["column"] else ""
            lines.append(f"  row {problem['row']}{column}: {problem['message']}")
        if len(report["problems"]) > 20:
            lines.append(f"  ... and {len(report['problems']) - 20} more problems (use --json for all)")
    lines.append(f"  usable: {'yes' if report['usable'] else 'NO: ' + str(report['reason'])}")
    return "\n".join(lines)
