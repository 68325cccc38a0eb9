"""`tipipeline check`: read and validate input files without writing anything, and report.

One report (a dict, JSON-ready) per file: its kind, detected format, encoding, rows read /
accepted / quarantined / excluded (by rule), identifying columns dropped and the problems found
(row, column, message). `usable` is False, with a one-line `reason`, when the file cannot be used.

A survey export is checked as the run would ingest it: against the codebook the run would use
(that of the data directory whose wave folder holds the file, else the configured data
directory's; `--codebook` overrides) and with its wave's column overrides (the wave folder's
name; `--wave` overrides). So check and run reach one verdict on every file.
"""

from __future__ import annotations

import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tipipeline.consensus.check import check_definition_file, definition_root, format_definition_report
from tipipeline.errors import TipipelineError
from tipipeline.files import AUDIT_SUFFIXES, BOUNDARY_SUFFIXES, EXPORT_SUFFIXES, OUTCOME_SUFFIXES
from tipipeline.ingest.codebook import Codebook, load_codebook
from tipipeline.ingest.exports import read_export
from tipipeline.ingest.identifiers import DEVELOPMENT_KEY
from tipipeline.ingest.surveys import ingest_file
from tipipeline.ingest.waves import WAVE_NAME
from tipipeline.ingest.workforce import SUFFIXES as WORKFORCE_SUFFIXES
from tipipeline.ingest.workforce import is_home_office_workbook, read_workforce_file
from tipipeline.outcomes.check import (
    check_outcome_file,
    format_outcome_report,
    lookalike_report,
    outcome_kind,
    outcome_lookalike,
)
from tipipeline.reference import AliasResolver, load_reference
from tipipeline.settings import data_dir_origin, get_settings

MAX_PROBLEMS = 200
# Every suffix some folder of the data directory reads (definition files are found by their folder).
READ_SUFFIXES = {*EXPORT_SUFFIXES, *AUDIT_SUFFIXES, *OUTCOME_SUFFIXES, *BOUNDARY_SUFFIXES}
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
OUTCOME_NAMES = {
    "outcome_crime": "an MPS crime file",
    "outcome_fingertips": "a Fingertips export",
    "outcome_population": "an ONS population file",
}


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


@dataclass(frozen=True)
class SurveyPlace:
    """How the run would ingest a file as a survey export: with which codebook, as which wave."""

    codebook_path: Path
    wave: str | None
    in_wave_folder: bool  # the file sits in a wave folder, so the run reads it as that wave's export
    codebook_origin: str  # where the codebook is taken from, in words (for a missing codebook)


def wave_folder(path: str | Path) -> tuple[Path, str] | None:
    """(surveys folder, wave) when `path` sits in a wave folder the run reads: a folder with a
    wave's name (a partition key) in a data directory's `raw/surveys/`; else None."""
    folder = Path(path).resolve().parent
    surveys = folder.parent
    if WAVE_NAME.match(folder.name) and surveys.name == "surveys" and surveys.parent.name == "raw":
        return surveys, folder.name
    return None


def survey_place(path: str | Path, codebook_path: str | Path | None = None, wave: str | None = None) -> SurveyPlace:
    """The codebook and wave a survey export is checked with: `codebook_path` and `wave` when
    given; else, for a file in a wave folder, its data directory's codebook and the folder's wave;
    else the configured data directory's codebook and the file's folder name."""
    path = Path(path)
    found = wave_folder(path)
    if found is not None:
        surveys, folder_wave = found
        default, origin = surveys / "codebook.yaml", f"the data directory {surveys.parent.parent} holding the file"
    else:
        default, origin = get_settings().codebook_path, data_dir_origin()
        folder_wave = path.resolve().parent.name
    if codebook_path is not None:
        default, origin = Path(codebook_path), "--codebook"
    return SurveyPlace(default, wave or folder_wave, found is not None, origin)


class _Codebooks:
    """Codebooks loaded (and validated against the framework) as the run loads them, once each."""

    def __init__(self) -> None:
        self._loaded: dict[Path, tuple[Codebook | None, str | None]] = {}

    def load(self, path: Path, origin: str) -> tuple[Codebook | None, str | None]:
        """(codebook, None), or (None, why it cannot be used)."""
        key = path.resolve()
        if key not in self._loaded:
            if not key.is_file():
                self._loaded[key] = (None, f"no codebook at {key} (from {origin}); give one with --codebook FILE")
            else:
                from tipipeline.framework import load_framework

                try:
                    self._loaded[key] = (load_codebook(key, load_framework()), None)
                except TipipelineError as exc:
                    self._loaded[key] = (None, f"codebook: {exc}")
        return self._loaded[key]

    def get(self, place: SurveyPlace) -> Codebook | None:
        """The codebook of `place`, if it loads."""
        return self.load(place.codebook_path, place.codebook_origin)[0]


def check_survey_export(path: str | Path, codebook: Codebook | None = None, wave: str | None = None) -> dict:
    """Check one survey export: everything ingestion would do, against `codebook` (default: the
    codebook the run would use for this file, see `survey_place`) with `wave`'s column overrides."""
    path = Path(path)
    if codebook is not None:
        return _check_survey(path, codebook, wave or path.resolve().parent.name)
    place = survey_place(path, wave=wave)
    return _check_survey_at(path, place, _Codebooks())


def _check_survey_at(path: Path, place: SurveyPlace, codebooks: _Codebooks) -> dict:
    codebook, error = codebooks.load(place.codebook_path, place.codebook_origin)
    if codebook is None:
        report = _empty_report(path, "survey_export")
        report.update(codebook=str(place.codebook_path), wave=place.wave)
        report["reason"] = f"{path.name}: {error}" if error.startswith("no codebook") else error
        return report
    report = _check_survey(path, codebook, place.wave)
    report.update(codebook=str(place.codebook_path), wave_overrides=place.wave in codebook.waves)
    if report["reason"] and "is not in the export" in report["reason"]:
        report["reason"] += _overrides_hint(codebook, place)
    return report


def _overrides_hint(codebook: Codebook, place: SurveyPlace) -> str:
    """For a missing column in a file outside a wave folder (whose wave is only its folder's name):
    which waves have column overrides, when that wave has none. In a wave folder the reason is the run's."""
    others = sorted(w for w in codebook.waves if w != place.wave)
    if place.in_wave_folder or not others or place.wave in codebook.waves:
        return ""
    waves = f"the wave {others[0]} has its own" if len(others) == 1 else f"the waves {', '.join(others)} have theirs"
    return (
        f" (checked with the codebook's own columns, as wave {place.wave}; {waves}: "
        "give --wave ID if the file belongs to one)"
    )


def _check_survey(path: Path, codebook: Codebook, wave: str | None) -> dict:
    report = _empty_report(path, "survey_export")
    report["wave"] = wave
    try:
        # Nothing is stored, so a throwaway key serves for real data; pseudonyms are not shown.
        key = DEVELOPMENT_KEY if codebook.synthetic else secrets.token_bytes(32)
        found = ingest_file(path, codebook, wave or path.resolve().parent.name, load_reference(), key).report()
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


def is_ods(path: Path) -> bool:
    """Whether the file is an OpenDocument spreadsheet (LibreOffice, or a download saved as .ods)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.read("mimetype").strip() == ODS_MIMETYPE
    except (OSError, KeyError, zipfile.BadZipFile):
        return False


def _ods_report(path: Path) -> dict:
    report = _empty_report(path, "unsupported")
    report["reason"] = (
        f"{path.name}: an OpenDocument spreadsheet (.ods), which no reader takes: save it as .xlsx, or as .csv"
    )
    return report


def _unread_suffix_report(path: Path) -> dict:
    report = _empty_report(path, "unsupported")
    report["reason"] = (
        f"{path.name}: the run reads no {path.suffix or 'suffix-less'} file: survey exports and policy audits are "
        f"{_either(EXPORT_SUFFIXES)} files, outcome files {_either(OUTCOME_SUFFIXES)}, boundary files "
        f"{_either(BOUNDARY_SUFFIXES)}"
    )
    return report


def _either(suffixes: tuple[str, ...]) -> str:
    return ", ".join(suffixes[:-1]) + f" or {suffixes[-1]}" if len(suffixes) > 1 else suffixes[0]


def _not_read(path: Path, kind: str, suffixes: tuple[str, ...], folder: str) -> dict | None:
    """The report for a file in a data folder that the run skips there (by its suffix, or as an
    Office lock file or hidden file), else None."""
    if path.suffix.lower() in suffixes and not path.name.startswith(("~$", ".")):
        return None
    report = _empty_report(path, kind)
    report["reason"] = (
        f"{path.name}: the run does not read this file from {folder}: it reads only {_either(suffixes)} files "
        "there, and skips Office lock files (~$...) and hidden files"
    )
    return report


def data_folder(path: str | Path) -> str | None:
    """'outcomes', 'policy_audit' or 'workforce' when `path` sits in that folder of a data directory's raw/
    (which the run reads every file of as that kind), else None."""
    folder = Path(path).resolve().parent
    if folder.parent.name == "raw" and folder.name in ("outcomes", "policy_audit", "workforce"):
        return folder.name
    return None


def _check_in_data_folder(path: Path, folder: str) -> dict:
    """A file of the outcomes or the policy-audit folder, read as the run reads it there."""
    if folder == "outcomes":
        return _not_read(path, "outcome", OUTCOME_SUFFIXES, "the outcomes folder") or check_outcome_file(path)
    if folder == "workforce":
        suffixes = tuple(sorted(WORKFORCE_SUFFIXES))
        return _not_read(path, "workforce", suffixes, "the workforce folder") or check_workforce_file(path)
    return _not_read(path, "policy_audit", AUDIT_SUFFIXES, "the policy-audit folder") or check_policy_audit(path)


def survey_columns(codebook: Codebook | None) -> list[str]:
    """Every export column and question text the codebook knows, in any wave."""
    if codebook is None:
        return []
    columns = [column for wave in (None, *codebook.waves) for column in codebook.columns_for_wave(wave).values()]
    texts = [spec.text for spec in (*codebook.fields.values(), *codebook.items) if spec.text]
    return columns + texts


def _name_other_kind(path: Path, report: dict, in_wave_folder: bool, codebook: Codebook | None) -> dict:
    """A survey export that is not usable, and is (or looks like) an outcome or other file: say so.
    In a wave folder the run reads it as a survey export, so that stays its kind; elsewhere it is
    named by what it looks like, not taken for a survey export."""
    known = outcome_kind(path)
    lookalike = None if known else outcome_lookalike(path, survey_columns(codebook))
    if in_wave_folder:
        if known:
            what = f"it is {OUTCOME_NAMES[known]}: outcome files go in raw/outcomes/, not a wave folder"
        elif lookalike:
            what = f"it looks like {lookalike['what']}, which is not a survey export"
        elif is_ods(path):
            what = "it is an OpenDocument spreadsheet (.ods) under another name"
        else:
            return report
        report["reason"] = f"{report['reason']}; {what}"
        return report
    if lookalike is None:
        return report
    named = lookalike_report(path, lookalike)
    named["details"] = [f"as a survey export it is not usable either: {report['reason']}"]
    named["survey_reason"] = report["reason"]
    return named


def check_files(
    paths: list[str | Path], codebook_path: str | Path | None = None, wave: str | None = None
) -> list[dict]:
    """Check each file as the run would read it: a file in a wave folder as that wave's survey
    export, one in raw/outcomes/ or raw/policy_audit/ as an outcome file or an audit; any other
    by its content. Survey exports are checked against the codebook the run
    would use (`codebook_path` overrides), with the wave's column overrides (`wave` overrides)."""
    codebooks = _Codebooks()
    reports = []
    for path in map(Path, paths):
        root = definition_root(path)
        if root is not None:
            reports.append(check_definition_file(path, root))
            continue
        place = survey_place(path, codebook_path, wave)
        if place.in_wave_folder:
            skipped = _not_read(path, "survey_export", EXPORT_SUFFIXES, f"the wave folder {place.wave!r}")
            report = skipped or _check_survey_at(path, place, codebooks)
            reports.append(
                report if report["usable"] or skipped else _name_other_kind(path, report, True, codebooks.get(place))
            )
            continue
        folder = data_folder(path)
        if folder is not None:
            reports.append(_check_in_data_folder(path, folder))
            continue
        outcome = outcome_kind(path)
        if outcome:
            reports.append(check_outcome_file(path, outcome))
            continue
        if is_ods(path):
            reports.append(check_workforce_file(path) if is_home_office_workbook(path) else _ods_report(path))
            continue
        if path.suffix.lower() not in READ_SUFFIXES:
            reports.append(_unread_suffix_report(path))
            continue
        kind = detect_kind(path)
        if kind == "boundary":
            reports.append(check_boundary_file(path))
        elif kind == "policy_audit":
            reports.append(check_policy_audit(path))
        else:
            report = _check_survey_at(path, place, codebooks)
            reports.append(report if report["usable"] else _name_other_kind(path, report, False, codebooks.get(place)))
    return reports


def format_report(report: dict) -> str:
    """A human-readable summary of one report."""
    lines = [f"{report['file']}"]
    if report["kind"] == "boundary":
        lines += _boundary_lines(report)
    elif report["kind"] == "policy_audit" and report.get("format"):
        lines += _audit_lines(report)
    elif report["kind"].startswith("outcome"):
        lines += format_outcome_report(report)
    elif report["kind"] == "workforce" and report.get("format"):
        lines += _workforce_lines(report)
    elif report["kind"].startswith("definition"):
        lines += format_definition_report(report)
    elif report.get("format"):
        lines += _survey_lines(report)
    if report.get("codebook"):
        overrides = " (with its column overrides)" if report.get("wave_overrides") else ""
        lines.append(
            f"  checked as the run would ingest it: codebook {report['codebook']}, wave {report['wave']}{overrides}"
        )
    lines.append(f"  usable: {'yes' if report['usable'] else 'NO: ' + str(report['reason'])}")
    return "\n".join(lines)


def check_workforce_file(path: str | Path) -> dict:
    """A workforce file read as the run reads it: kind, layout, organisations, groups and totals
    (per unit), and every row it could not use, by row and column."""
    path = Path(path)
    report = _empty_report(path, "workforce")
    reference = load_reference()
    sectors = dict(zip(reference.organisations["org_id"], reference.organisations["sector"]))
    try:
        read = read_workforce_file(path, AliasResolver(reference), sectors)
    except TipipelineError as exc:
        report["reason"] = str(exc)
        return report
    figures = read.figures
    quality = read.quality()
    report.update(
        format=read.kind,
        layout=read.layout,
        rows_read=quality["rows_read"],
        rows_accepted=quality["rows_accepted"],
        rows_quarantined=quality["rows_quarantined"],
        rows_excluded=dict(read.excluded),
        organisations=sorted(figures["org_id"].unique()),
        groups=sorted(figures["staff_group"].unique()),
        totals={
            f"{unit} at {as_at}": round(float(group["value"].sum()), 2)
            for (unit, as_at), group in figures.groupby(["unit", "as_at"], sort=True)
        },
        problems=[
            {"row": int(r.source_row), "column": r.column, "message": f"{r.reason} (value {r.value!r})"}
            for r in read.quarantine.itertuples()
        ],
        usable=not figures.empty,
        reason=None if not figures.empty else "no usable workforce figure in the file",
    )
    return report


def _workforce_lines(report: dict) -> list[str]:
    lines = [
        f"  kind: workforce ({report['format']}); {report['layout']}",
        f"  rows read {report['rows_read']} = accepted {report['rows_accepted']} + quarantined "
        f"{report['rows_quarantined']} + excluded {sum(report['rows_excluded'].values())}"
        + (
            f" ({', '.join(f'{k}: {v}' for k, v in report['rows_excluded'].items())})"
            if report["rows_excluded"]
            else ""
        ),
        f"  organisations {len(report['organisations'])}: {', '.join(report['organisations'])}",
        f"  staff groups: {', '.join(report['groups'])}",
        *(f"  total {label}: {value:,.2f}" for label, value in report["totals"].items()),
    ]
    return lines + [f"  row {p['row']}, column {p['column']!r}: {p['message']}" for p in report["problems"]]


def _boundary_lines(report: dict) -> list[str]:
    lines = [
        f"  kind: boundary; features: {report.get('features')}; GSS code column: {report.get('code_column')}; "
        f"CRS: {report.get('crs')}"
    ]
    if report.get("codes_missing"):
        lines.append(f"  codes missing: {', '.join(report['codes_missing'])}")
    if report.get("codes_extra"):
        lines.append(f"  codes extra: {', '.join(report['codes_extra'])}")
    return lines + [f"  note: {note}" for note in report.get("notes", [])]


def _audit_lines(report: dict) -> list[str]:
    lines = [
        f"  kind: policy_audit; rows read {report['rows_read']} = accepted {report['rows_accepted']} + "
        f"quarantined {report['rows_quarantined']} + excluded {sum(report['rows_excluded'].values())}",
        f"  documents {report['documents']}; coders {', '.join(report['coders'])}; double-coded "
        f"{report['double_coded_documents']}; with disagreements {report['documents_with_disagreements']}; "
        f"unresolved (document x principle) {report['unresolved_disagreements']}",
    ]
    return lines + [
        f"  row {problem['row']}, column {problem['column']!r}: {problem['message']}"
        for problem in report["problems"][:20]
    ]


def _survey_lines(report: dict) -> list[str]:
    encoding = f", {report['encoding']}" if report.get("encoding") else ""
    lines = [
        f"  kind: {report['kind']}; format: {report.get('format_label', report['format'])}{encoding}; "
        f"header rows: {report['header_rows']}"
    ]
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
    lines += [f"    excluded, {rule}: {count}" for rule, count in report["rows_excluded"].items()]
    dropped = report["identifying_columns_dropped"]
    lines.append(f"  identifying columns dropped: {', '.join(dropped) if dropped else 'none'}")
    for problem in report["problems"][:20]:
        column = f", column {problem['column']!r}" if problem["column"] else ""
        lines.append(f"  row {problem['row']}{column}: {problem['message']}")
    if len(report["problems"]) > 20:
        lines.append(f"  ... and {len(report['problems']) - 20} more problems (use --json for all)")
    return lines
