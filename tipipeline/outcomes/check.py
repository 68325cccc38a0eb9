"""`tipipeline check` for outcome files: recognise an MPS crime file, a Fingertips export or an ONS
population file by its content, read it with its reader, and report what was found."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from tipipeline.errors import TipipelineError

CRIME = "outcome_crime"
FINGERTIPS = "outcome_fingertips"
POPULATION = "outcome_population"
OUTCOME_KINDS = (CRIME, FINGERTIPS, POPULATION)

# The first header cells of each MPS layout, casefolded (see tipipeline/outcomes/crime.py).
_CRIME_STARTS = ("borough,major category", "majortext,minortext", "group,subgroup")


def _first_line(path: Path) -> str:
    try:
        head = path.read_bytes()[:4096]
    except OSError:
        return ""
    for encoding in ("utf-8-sig", "utf-16", "cp1252"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError:
            continue
        if text and "\x00" not in text:
            return text.splitlines()[0] if text.splitlines() else ""
    return ""


def _sheet_names(path: Path) -> list[str]:
    """The sheets of an .xlsx or .xls workbook (told apart by content), or [] if it cannot be read."""
    from tipipeline.outcomes.population import OLE_MAGIC, open_xls

    try:
        with path.open("rb") as handle:
            is_xls = handle.read(len(OLE_MAGIC)) == OLE_MAGIC
    except OSError:
        return []
    if is_xls:
        try:
            book = open_xls(path, path.read_bytes())
        except (OSError, TipipelineError):
            return []
        names = book.sheet_names()
        book.release_resources()
        return names
    try:
        with zipfile.ZipFile(path) as archive:
            workbook = archive.read("xl/workbook.xml").decode("utf-8", errors="replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return []
    return re.findall(r'<sheet[^>]*\bname="([^"]*)"', workbook)


def outcome_kind(path: str | Path) -> str | None:
    """Which outcome file this is (by content, not by name), or None if it is none of them. Every
    .xls is taken for population estimates, the only input that comes in that format."""
    path = Path(path)
    if path.suffix.lower() == ".xls":
        # The population reader gives the reason one cannot be read (not a workbook, corrupt,
        # password-protected, no MYE2 sheet).
        return POPULATION
    if path.suffix.lower() in (".xlsx", ".xlsm"):  # an .xls saved under an .xlsx name too
        names = [name.strip().casefold() for name in _sheet_names(path)]
        return POPULATION if any(n.startswith(("mye2", "myeb1")) for n in names) else None
    line = _first_line(path).strip().strip('"').casefold().replace('"', "")
    squashed = line.replace(" ", "")
    if line.startswith(_CRIME_STARTS):
        return CRIME
    if squashed.startswith("indicatorid,") or ",indicatorid," in squashed:
        return FINGERTIPS
    if "ladcode" in squashed and "population_" in squashed:
        return POPULATION
    return None


def _report(path: Path, kind: str) -> dict:
    return {
        "file": str(path),
        "kind": kind,
        "format": None,
        "rows_read": 0,
        "rows_accepted": 0,
        "rows_quarantined": 0,
        "rows_excluded": {},
        "problems": [],
        "details": [],
        "usable": False,
        "reason": None,
    }


def _check_crime(path: Path, report: dict) -> None:
    from tipipeline.outcomes.crime import accounting, read_crime_file

    file = read_crime_file(path)
    counts = accounting(file)
    report.update(
        format=file.layout,
        rows_read=file.rows_read,
        rows_accepted=file.rows_read - file.rows_blank,
        rows_excluded={"blank_row": file.rows_blank} if file.rows_blank else {},
    )
    boroughs = file.cells.loc[file.cells["area_kind"] == "borough", "gss_code"].nunique()
    others = sorted(set(file.cells.loc[file.cells["area_kind"] == "non_borough", "area_name"]))
    report["details"] = [
        f"months {counts['first_month']:%Y-%m} to {counts['last_month']:%Y-%m} ({counts['months']}); "
        f"{file.encoding}, {file.line_ending}",
        f"boroughs {boroughs}; other areas (kept out of borough figures): {', '.join(others) or 'none'}",
        f"offences counted {counts['count_total']:,} = in outcome measures {counts['count_mapped']:,} + "
        f"other categories {counts['count_unmapped']:,} + other areas {counts['count_non_borough']:,} + "
        f"repeated rows {counts['count_duplicate_row']:,}",
    ]
    if counts["count_unmapped_unknown"]:
        report["details"].append(
            f"categories outcomes.yaml does not know: {counts['count_unmapped_unknown']:,} offences (add them)"
        )
    if counts["measures_absent"]:
        report["details"].append(
            "measures none of whose categories this file publishes (missing for its months, not 0): "
            + ", ".join(counts["measures_absent"])
        )
    report["details"] += [f"note: {note}" for note in file.notes]


def _check_fingertips(path: Path, report: dict) -> None:
    from tipipeline.outcomes.fingertips import read_fingertips

    file = read_fingertips(path)
    data = file.data
    report.update(
        format=f"Fingertips export ({file.header_style} header)",
        rows_read=file.rows_read,
        rows_accepted=file.rows_kept,
        rows_excluded={rule: n for rule, n in file.excluded.items() if n},
    )
    report["details"] = [
        f"indicators: {', '.join(sorted(f'{i} {n}' for i, n in set(zip(data['indicator_id'], data['indicator_name']))))}",
        f"areas {data['area_code'].nunique()}; periods {', '.join(sorted(set(data['time_period'])))}",
        f"values withheld or blank (kept as suppressed, with their note): {int(data['suppressed'].sum())}",
    ]


def _check_population(path: Path, report: dict) -> None:
    from tipipeline.outcomes.population import read_population

    file = read_population(path)
    data = file.data
    london = data[data["area_code"].astype(str).str.startswith("E09")]
    report.update(
        format=f"ONS mid-year estimates ({file.layout}, sheet {file.sheet!r})" if file.sheet else file.layout,
        rows_read=file.rows_read,
        rows_accepted=file.rows_accepted,
        rows_excluded={rule: n for rule, n in file.excluded.items() if n},
    )
    report["details"] = [
        f"mid-years {', '.join(str(y) for y in sorted(set(data['mid_year'])))}; areas {len(data)}; "
        f"London boroughs {london['area_code'].nunique()} of 33",
    ]


def check_outcome_file(path: str | Path, kind: str | None = None) -> dict:
    """Read one outcome file as its kind and report it (nothing is written)."""
    path = Path(path)
    kind = kind or outcome_kind(path)
    report = _report(path, kind or "outcome")
    checks = {CRIME: _check_crime, FINGERTIPS: _check_fingertips, POPULATION: _check_population}
    if kind not in checks:
        report["reason"] = f"{path.name}: not an MPS crime file, a Fingertips export or an ONS population file"
        return report
    try:
        checks[kind](path, report)
    except TipipelineError as exc:
        report["reason"] = str(exc)
        return report
    if report["rows_accepted"] == 0:
        report["reason"] = f"{path.name}: no row would be accepted"
    else:
        report["usable"] = True
    return report


def format_outcome_report(report: dict) -> list[str]:
    """The lines `tipipeline check` prints for an outcome file (after the file name)."""
    if not report.get("format"):
        return []
    excluded = sum(report["rows_excluded"].values())
    lines = [
        f"  kind: {report['kind'].removeprefix('outcome_')}; format: {report['format']}",
        f"  rows read {report['rows_read']} = accepted {report['rows_accepted']} + excluded {excluded}",
    ]
    lines += [f"    excluded, {rule}: {count}" for rule, count in report["rows_excluded"].items()]
    return lines + [f"  {detail}" for detail in report["details"]]
