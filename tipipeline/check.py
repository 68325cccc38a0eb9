"""`tipipeline check`: read and validate input files without writing anything, and report.

One report (a dict, JSON-ready) per file: its kind, detected format, encoding, rows read /
accepted / quarantined / excluded (by rule), identifying columns dropped and the problems found
(row, column, message). `usable` is False, with a one-line `reason`, when the file cannot be used.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from tipipeline.definition.check import check_definition_file, definition_root, format_definition_report
from tipipeline.errors import TipipelineError
from tipipeline.ingest.codebook import Codebook, load_codebook
from tipipeline.ingest.exports import read_export
from tipipeline.ingest.identifiers import DEVELOPMENT_KEY
from tipipeline.ingest.surveys import ingest_file, inspect_format
from tipipeline.outcomes.check import check_outcome_file, format_outcome_report, outcome_kind
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
            found = inspect_format(path)
        else:
            # Nothing is stored, so a throwaway key serves for real data; pseudonyms are not shown.
            key = DEVELOPMENT_KEY if codebook.synthetic else secrets.token_bytes(32)
            found = ingest_file(path, codebook, wave or path.parent.name, load_reference(), key).report()
        report.update(found.to_dict(MAX_PROBLEMS))
    except TipipelineError as exc:
        report["reason"] = str(exc)
        return report
    if report["rows_accepted"] == 0:
        report["reason"] = f"{path.name}: no row would be accepted"
    else:
        report["usable"] = True
    return report


def detect_kind(path: Path) -> str:
    """survey_export, policy_audit (a CSV/XLSX with a Coder column) or boundary (by suffix)."""
    from tipipeline.ingest.boundaries import BOUNDARY_SUFFIXES

    if path.suffix.lower() in BOUNDARY_SUFFIXES:
        return "boundary"
    try:
        columns = read_export(path).columns
    except TipipelineError:
        return "survey_export"  # the survey check reports why it cannot be read
    return "policy_audit" if any(c.strip().casefold() == "coder" for c in columns) else "survey_export"


def check_policy_audit(path: str | Path) -> dict:
    """Check one policy-audit file: rows, documents, coders, double coding, disagreements."""
    from tipipeline.framework import load_framework
    from tipipeline.ingest.policy_audit import CONSENSUS, read_audit_file, summarise
    from tipipeline.reference import AliasResolver

    path = Path(path)
    report = _empty_report(path, "policy_audit")
    try:
        framework = load_framework()
        audit = read_audit_file(path, framework, AliasResolver())
    except TipipelineError as exc:
        report["reason"] = str(exc)
        return report
    summary = summarise(audit.codings, framework)
    quality = audit.quality_row()
    coders = audit.codings.loc[audit.codings["coder"] != CONSENSUS, "coder"]
    double = int((summary.documents["coders"] >= 2).sum())
    report.update(
        format=audit.file_format,
        header_rows=1,
        rows_read=audit.rows_read,
        rows_accepted=quality["rows_accepted"],
        rows_quarantined=quality["rows_quarantined"],
        rows_excluded={"blank_row": audit.excluded_blank} if audit.excluded_blank else {},
        documents=len(summary.documents),
        coders=sorted(coders.unique().tolist()),
        double_coded_documents=double,
        documents_with_disagreements=int(summary.documents["document_id"].isin(_disagreeing(audit.codings)).sum()),
        unresolved_disagreements=len(summary.unresolved),
        problems=[
            {"row": int(r.source_row), "column": r.column, "message": r.reason} for r in audit.quarantine.itertuples()
        ][:MAX_PROBLEMS],
    )
    if report["rows_accepted"] == 0:
        report["reason"] = f"{path.name}: no row would be accepted"
    else:
        report["usable"] = True
    return report


def _disagreeing(codings) -> set:
    from tipipeline.ingest.policy_audit import CONSENSUS

    coded = codings[codings["coder"] != CONSENSUS]
    scores = coded.filter(like="score_").columns
    differing = coded.groupby("document_id")[list(scores)].nunique().gt(1).any(axis=1)
    return set(differing[differing].index)


def check_boundary_file(path: str | Path) -> dict:
    """Check one boundary file: features, GSS code column, CRS, codes missing or extra."""
    import geopandas as gpd

    from tipipeline.ingest.boundaries import find_code_column, read_boundary_file

    path = Path(path)
    report = _empty_report(path, "boundary")
    reference = load_reference()
    codes = set(reference.boroughs["gss_code"])
    try:
        frame = gpd.read_file(path)
        column, _ = find_code_column(frame, codes)
        found = set(frame[column].astype(str).str.strip()) if column else set()
        report.update(
            format=path.suffix.lower().lstrip("."),
            features=len(frame),
            code_column=column,
            crs=frame.crs.name if frame.crs else None,
            codes_missing=sorted(codes - found),
            codes_extra=sorted(c for c in found - codes if c.startswith("E09")),
            rows_read=len(frame),
        )
    except Exception as exc:  # an unreadable file: read_boundary_file below gives the reason
        report["problems"].append({"row": None, "column": None, "message": str(exc).splitlines()[0][:200]})
    try:
        result = read_boundary_file(path, reference)
    except TipipelineError as exc:
        report["reason"] = str(exc)
        return report
    report.update(
        usable=True,
        rows_accepted=len(result.boroughs),
        notes=result.notes,
        bcus=len(result.bcus),
        icbs=len(result.icbs),
    )
    return report


def check_files(
    paths: list[str | Path], codebook_path: str | Path | None = None, wave: str | None = None
) -> list[dict]:
    """Check each file by its kind; a codebook that does not load is reported against survey files."""
    codebook = None
    codebook_error = None
    if codebook_path is not None:
        try:
            from tipipeline.framework import load_framework

            codebook = load_codebook(codebook_path, load_framework())
        except TipipelineError as exc:
            codebook_error = str(exc)
    reports = []
    for path in map(Path, paths):
        root = definition_root(path)
        if root is not None:
            reports.append(check_definition_file(path, root))
            continue
        outcome = outcome_kind(path)
        if outcome:
            reports.append(check_outcome_file(path, outcome))
            continue
        kind = detect_kind(path)
        if kind == "boundary":
            reports.append(check_boundary_file(path))
        elif kind == "policy_audit":
            reports.append(check_policy_audit(path))
        elif codebook_error:
            report = _empty_report(path, "survey_export")
            report["reason"] = f"codebook: {codebook_error}"
            reports.append(report)
        else:
            reports.append(check_survey_export(path, codebook, wave))
    return reports


def format_report(report: dict) -> str:
    """A human-readable summary of one report."""
    lines = [f"{report['file']}"]
    if report["kind"] == "boundary":
        lines.append(
            f"  kind: boundary; features: {report.get('features')}; GSS code column: {report.get('code_column')}; "
            f"CRS: {report.get('crs')}"
        )
        if report.get("codes_missing"):
            lines.append(f"  codes missing: {', '.join(report['codes_missing'])}")
        if report.get("codes_extra"):
            lines.append(f"  codes extra: {', '.join(report['codes_extra'])}")
        for note in report.get("notes", []):
            lines.append(f"  note: {note}")
    elif report["kind"] == "policy_audit" and report.get("format"):
        lines.append(
            f"  kind: policy_audit; rows read {report['rows_read']} = accepted {report['rows_accepted']} + "
            f"quarantined {report['rows_quarantined']} + excluded {sum(report['rows_excluded'].values())}"
        )
        lines.append(
            f"  documents {report['documents']}; coders {', '.join(report['coders'])}; double-coded "
            f"{report['double_coded_documents']}; with disagreements {report['documents_with_disagreements']}; "
            f"unresolved (document x principle) {report['unresolved_disagreements']}"
        )
        for problem in report["problems"][:20]:
            lines.append(f"  row {problem['row']}, column {problem['column']!r}: {problem['message']}")
    elif report["kind"].startswith("outcome"):
        lines += format_outcome_report(report)
    elif report["kind"].startswith("definition"):
        lines += format_definition_report(report)
    elif report.get("format"):
        encoding = f", {report['encoding']}" if report.get("encoding") else ""
        lines.append(
            f"  kind: {report['kind']}; format: {report.get('format_label', report['format'])}{encoding}; "
            f"header rows: {report['header_rows']}"
        )
        if report.get("reader") == "duckdb":
            lines.append("  read by DuckDB's CSV reader")
        elif report.get("reader"):
            why = f" (the DuckDB reader declined: {report['reader_declined']})" if report.get("reader_declined") else ""
            lines.append(f"  read by the Python reader{why}")
        excluded = sum(report["rows_excluded"].values())
        lines.append(
            f"  rows read {report['rows_read']} = accepted {report['rows_accepted']} + quarantined "
            f"{report['rows_quarantined']} + excluded {excluded}"
        )
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
