"""`tipipeline check` for outcome files: recognise an MPS crime file, a Fingertips export or an ONS
population file by its content, read it with its reader, and report what was found."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
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


# What makes a file look like an outcome file the readers do not take: words in its first rows
# (casefolded, punctuation as spaces) or its sheet names. Checked only for a file no reader takes.
_LOOKS_LIKE = (
    (
        FINGERTIPS,
        re.compile(r"\bfingertips\b|\bindicator ?(id|name)?\b.*\b(time ?period|area ?code|value ?note)\b"),
        "a Fingertips (public health indicator) file",
        "Fingertips data exports as CSV (Indicator ID, Indicator Name, Area Code, Time period, Value, ...)",
    ),
    (
        CRIME,
        re.compile(
            r"\b(crimes?|offen[cs]es?|major ?category|minor ?category|major ?text|minor ?text|knife|knives|"
            r"weapons?|robbery|burglary|homicide|violence)\b"
        ),
        "a police crime file",
        None,  # the crime reader's own list of layouts (crime.EXPECTED_LAYOUTS)
    ),
    (
        POPULATION,
        re.compile(r"\b(population|mid ?year|all ages|mye ?\d\w*)\b"),
        "a population file",
        "the ONS mid-year estimates workbook (a sheet MYE2 - Persons or MYEB1, .xlsx or .xls) or MYEB1 as CSV",
    ),
)
HEADER_ROWS = 5  # the rows of a file (of each sheet of a workbook) searched for those words
HEADER_SHEETS = 10
SHOWN_CELLS = 6


def _words(text: object) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", str(text).casefold()).split())


@dataclass
class _Head:
    """The first rows of a file (of each sheet of a workbook, after its name), as non-empty cells."""

    sheets: list[str]
    rows: list[list[str]]

    @property
    def cells(self) -> list[str]:
        return [cell for row in self.rows for cell in row]

    def shown(self) -> str:
        cells = self.rows[0] if self.rows else []
        first = ", ".join(cells[:SHOWN_CELLS]) + (", ..." if len(cells) > SHOWN_CELLS else "")
        if not self.sheets:
            return f"its first row: {first}"
        return f"its sheets: {', '.join(self.sheets[:SHOWN_CELLS])}; its first row: {first}"


def _head(path: Path) -> _Head:
    """The first rows of a CSV or workbook; nothing for a file that cannot be read so."""
    import csv
    import io

    try:
        with path.open("rb") as handle:
            head = handle.read(65536)
    except OSError:
        return _Head([], [])
    if head.startswith(b"PK\x03\x04"):
        return _workbook_head(path)
    text = ""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = head.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if not text or "\x00" in text:
        return _Head([], [])
    rows = [[c.strip() for c in row if c.strip()] for row in csv.reader(io.StringIO(text, newline=""))]
    return _Head([], [row for row in rows if row][:HEADER_ROWS])


def _workbook_head(path: Path) -> _Head:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # not a workbook openpyxl reads (an .ods, a corrupt file): nothing to go on
        return _Head([], [])
    head = _Head(list(book.sheetnames), [])
    try:
        for sheet in book.worksheets[:HEADER_SHEETS]:
            for row in sheet.iter_rows(max_row=HEADER_ROWS, values_only=True):
                cells = [str(value).strip() for value in row if value is not None and str(value).strip()]
                if cells:
                    head.rows.append(cells)
    except Exception:  # a damaged sheet: the names and the rows read so far are what there is
        pass
    finally:
        book.close()
    return head


def outcome_lookalike(path: str | Path, survey_columns: Iterable[str] = ()) -> dict | None:
    """For a file no reader takes: whether it looks like a police crime, Fingertips or population
    file, by the words of its first rows and its sheet names, as {kind, what, header, reason}; None
    if it does not, or if its first rows hold two or more of `survey_columns` (a codebook's export
    columns and question texts: a survey export, whatever words its questions use)."""
    path = Path(path)
    head = _head(path)
    words = [_words(cell) for cell in head.sheets + head.cells]
    wanted = {_words(column) for column in survey_columns}
    if len(wanted & set(words)) >= 2:
        return None
    text = " | ".join(words)
    for kind, pattern, what, readers in _LOOKS_LIKE:
        if pattern.search(text):
            if readers is None:
                from tipipeline.outcomes.crime import EXPECTED_LAYOUTS

                readers = f"MPS Borough Level Crime CSVs ({EXPECTED_LAYOUTS})"
            return {
                "kind": kind,
                "what": what,
                "header": head.shown(),
                "reason": f"{path.name}: looks like {what}, of a layout the outcome readers do not take "
                f"({head.shown()}); they take {readers}",
            }
    return None


def lookalike_report(path: str | Path, lookalike: dict) -> dict:
    """The report of a file that looks like an outcome file of a layout no reader takes (not usable)."""
    report = _report(Path(path), lookalike["kind"])
    report.update(looks_like=lookalike["what"], reason=lookalike["reason"])
    return report


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
        lookalike = outcome_lookalike(path)
        if lookalike is not None:  # named by what it looks like, with the layouts the readers take
            return lookalike_report(path, lookalike)
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
    if report.get("looks_like"):
        return [f"  kind: looks like {report['looks_like']}; no outcome reader takes its layout"] + [
            f"  {detail}" for detail in report["details"]
        ]
    if not report.get("format"):
        return []
    excluded = sum(report["rows_excluded"].values())
    lines = [
        f"  kind: {report['kind'].removeprefix('outcome_')}; format: {report['format']}",
        f"  rows read {report['rows_read']} = accepted {report['rows_accepted']} + excluded {excluded}",
    ]
    lines += [f"    excluded, {rule}: {count}" for rule, count in report["rows_excluded"].items()]
    return lines + [f"  {detail}" for detail in report["details"]]
