"""ONS mid-year population estimates: the denominators of the outcome rates (all ages and 10-24).

Two layouts are read, detected from the header row wherever it stands (ONS puts a title, notes
and feedback links above it):
- **MYE2** (wide): sheet `MYE2 - Persons` (`MYE2 - All` before mid-2019), one row per area:
  `Code, Name, Geography, All ages, 0, 1, ..., 89, 90+`, ages as numbers or text. The mid-year
  comes from the title ("... mid-2022"). `All ages` must equal the sum of the single years.
- **MYEB1** (long): one row per area x sex x single year of age, `code`/`ladcodeYY`,
  `name`/`lanameYY`, `sex` (M/F or 1/2), `age` (0..90, 90 meaning 90 and over) and one
  `population_YYYY` column per mid-year; areas are summed over both sexes, one row per mid-year.
A workbook holding both is read from `MYE2 - Persons` unless `sheet` says otherwise; sheet names
match ignoring case and surrounding spaces. Workbooks are read as `.xlsx` (openpyxl) or in the
Excel 97-2003 format, `.xls` (xlrd), told apart by their content rather than their name; `.csv`
tables are read too. A `.xls` reads as its `.xlsx` twin does, except that xlrd drops empty rows
after the last row with a value, so they are not counted as blank rows.

Accounting, per file: rows read (below the header) = data rows + `note_row` (text only, e.g.
footnotes and source lines: no figures) + `blank_row`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tipipeline import registry
from tipipeline.errors import InputError
from tipipeline.files import WORKBOOK_SUFFIXES
from tipipeline.ingest.raw_export import detect_encoding

PERSONS_SHEETS = ("mye2 - persons", "mye2 - all")
WIDE = "mye2_wide"
LONG = "myeb1_long"
NOTE_ROW = "note_row"
BLANK_ROW = "blank_row"
# ONS puts a title, notes and feedback links above the table; the header is within these rows.
HEADER_SEARCH_ROWS = 50
# The VRU's focus age group.
FOCUS_AGES = range(10, 25)

COLUMNS = registry.table("population_estimates").names

_XLSX_MAGIC = b"PK\x03\x04"
# An OLE2 compound document: an Excel 97-2003 workbook, or an .xlsx encrypted with a password.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The stream in which a password-protected .xlsx keeps its encrypted workbook.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_ENCRYPTED_WORKBOOK = (
    "the workbook is password-protected (encrypted): open it in Excel, remove the password and save it again"
)
_MID_YEAR = re.compile(r"\bmid[-\s]?(\d{4})\b", re.IGNORECASE)
_GSS_CODE = re.compile(r"^[A-Z]\d{8}$")
_LONG_CODE = re.compile(r"^(?:lad)?code\d*$")
_LONG_NAME = re.compile(r"^(?:la|lad)?name\d*$")
_POPULATION_YEAR = re.compile(r"^population(\d{4})$")
_OPEN_AGE = re.compile(r"^(\d+)\s*(?:\+|and over|and older|plus)$", re.IGNORECASE)
_SEXES = {"m": "M", "male": "M", "males": "M", "1": "M", "f": "F", "female": "F", "females": "F", "2": "F"}


def _key(value) -> str:
    return re.sub(r"[^a-z0-9+]+", "", _text(value).casefold())


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sheet_key(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


@dataclass
class PopulationFile:
    """One population file as read: areas with their denominators, and the accounting."""

    path: Path
    sha256: str
    sheet: str | None  # None for a CSV table
    layout: str  # WIDE or LONG
    rows_read: int  # rows below the header
    rows_accepted: int  # data rows (MYEB1: area x sex x age rows)
    data: pd.DataFrame  # COLUMNS, one row per area and mid-year
    excluded: dict[str, int] = field(default_factory=dict)  # rule -> rows

    def quality_row(self) -> dict:
        """The file's line in `data_quality` (the policy audit's columns)."""
        excluded = {rule: n for rule, n in self.excluded.items() if n}
        return {
            "source_file": self.path.name,
            "sha256": self.sha256,
            "file_format": f"ons_{self.layout}",
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_quarantined": 0,
            "rows_excluded": sum(excluded.values()),
            "excluded_by_rule": json.dumps(excluded),
        }


@dataclass
class _Table:
    """A sheet's rows as (row number, cells), and where to say errors happened."""

    path: Path
    sheet: str | None
    rows: list[tuple[int, list]]

    def error(self, message: str, row: int | None = None, column=None) -> InputError:
        where = f"sheet {self.sheet!r}: " if self.sheet else ""
        return InputError(self.path, where + message, row=row, column=None if column is None else _text(column))


def read_population(path: str | Path, sheet: str | None = None) -> PopulationFile:
    """Read ONS mid-year estimates (MYE2 wide or MYEB1 long); InputError naming file, sheet, row, column.

    `sheet` picks a sheet of a workbook (default `MYE2 - Persons`, else `MYE2 - All`, else the
    `MYEB1` sheet).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror or exc})") from exc
    if data.startswith(OLE_MAGIC):
        table = _xls_table(path, data, sheet)
    elif data.startswith(_XLSX_MAGIC):
        table = _workbook_table(path, data, sheet)
    elif path.suffix.lower() in WORKBOOK_SUFFIXES:
        raise InputError(path, _not_a_workbook(path.suffix.lower(), data))
    else:
        table = _csv_table(path, data)
    header, layout = _find_header(table)
    reader = _read_wide if layout == WIDE else _read_long
    frame, accepted, excluded = reader(table, header)
    rows_read = len(table.rows) - header - 1
    # The accounting must close: every row below the header is data or excluded by a rule.
    if rows_read != accepted + sum(excluded.values()):
        raise AssertionError(f"{path.name}: population rows do not add up")
    frame.insert(COLUMNS.index("source_file"), "source_file", path.name)
    frame.insert(COLUMNS.index("source_sheet"), "source_sheet", table.sheet)
    return PopulationFile(
        path, hashlib.sha256(data).hexdigest(), table.sheet, layout, rows_read, accepted, frame, excluded
    )


# --- reading cells -----------------------------------------------------------------------


def _workbook_table(path: Path, data: bytes, wanted: str | None) -> _Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    unreadable = (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, EOFError)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except unreadable as exc:
        raise InputError(path, f"not a readable XLSX workbook: truncated or corrupt ({type(exc).__name__})") from exc
    try:
        name = _choose_sheet(path, workbook.sheetnames, wanted)
        rows = [(number, list(row)) for number, row in enumerate(workbook[name].iter_rows(values_only=True), 1)]
    except unreadable as exc:
        raise InputError(path, f"not a readable XLSX workbook: truncated or corrupt ({type(exc).__name__})") from exc
    finally:
        workbook.close()
    return _Table(path, name, rows)


def _not_a_workbook(suffix: str, data: bytes) -> str:
    if not data.strip():
        return "the file is empty: expected ONS mid-year population estimates"
    if suffix != ".xls":
        return "named .xlsx but is not an XLSX workbook"
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "named .xls but is a web page (HTML), not an Excel workbook: open it in Excel and save it as an .xlsx workbook"
    return "named .xls but is not an Excel workbook"


def xls_errors() -> tuple[type[Exception], ...]:
    """What xlrd raises on a truncated or corrupt .xls (it checks the format with asserts and
    index arithmetic as well as its own errors)."""
    import xlrd
    from xlrd.compdoc import CompDocError

    return (
        xlrd.XLRDError,
        CompDocError,
        struct.error,
        AssertionError,
        IndexError,
        KeyError,
        ValueError,
        TypeError,
        EOFError,
        OverflowError,
        UnicodeDecodeError,
    )


def open_xls(path: Path, data: bytes):
    """An Excel 97-2003 workbook opened with xlrd, its sheets read on demand; InputError naming the
    file if it is password-protected, truncated or corrupt."""
    import xlrd

    try:
        # xlrd writes warnings about odd but readable files to its log; they are not the user's concern.
        return xlrd.open_workbook(file_contents=data, on_demand=True, logfile=io.StringIO())
    except xls_errors() as exc:
        if isinstance(exc, xlrd.XLRDError) and "encrypted" in str(exc).casefold():
            raise InputError(path, _ENCRYPTED_WORKBOOK) from exc  # a FILEPASS record: the workbook has a password
        if _ENCRYPTED_PACKAGE in data:  # no workbook stream, but an .xlsx encrypted with a password
            raise InputError(path, _ENCRYPTED_WORKBOOK) from exc
        if isinstance(exc, xlrd.XLRDError) and "find workbook" in str(exc).casefold():
            raise InputError(
                path, "an Office file with no workbook in it (a Word document?), not an Excel workbook"
            ) from exc
        raise _corrupt_xls(path, exc) from exc


def _corrupt_xls(path: Path, exc: Exception) -> InputError:
    name = "struct.error" if isinstance(exc, struct.error) else type(exc).__name__
    return InputError(path, f"not a readable Excel 97-2003 workbook (.xls): truncated or corrupt ({name})")


def _xls_table(path: Path, data: bytes, wanted: str | None) -> _Table:
    book = open_xls(path, data)
    try:
        name = _choose_sheet(path, book.sheet_names(), wanted)
        sheet = book.sheet_by_name(name)
        rows = [
            (index + 1, _xls_row(sheet.row_types(index), sheet.row_values(index), book.datemode))
            for index in range(sheet.nrows)
        ]
    except xls_errors() as exc:
        raise _corrupt_xls(path, exc) from exc
    finally:
        book.release_resources()
    return _Table(path, name, rows)


def _xls_row(kinds, values: list, datemode: int) -> list:
    """A row of xlrd cells as openpyxl gives them: None when empty, whole numbers as int, error
    codes as their text ('#N/A'), dates as datetimes."""
    import xlrd

    row = []
    for kind, value in zip(kinds, values):
        if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
            value = None
        elif kind == xlrd.XL_CELL_NUMBER and float(value).is_integer():
            value = int(value)
        elif kind == xlrd.XL_CELL_BOOLEAN:
            value = bool(value)
        elif kind == xlrd.XL_CELL_ERROR:
            value = xlrd.error_text_from_code.get(value, f"#ERROR {value}")
        elif kind == xlrd.XL_CELL_DATE:
            try:
                value = xlrd.xldate.xldate_as_datetime(value, datemode)
            except (xlrd.xldate.XLDateError, ValueError, OverflowError):
                pass  # a date Python cannot hold stays a number
        row.append(value)
    return row


def _choose_sheet(path: Path, names: list[str], wanted: str | None) -> str:
    by_key = {_sheet_key(n): n for n in names}
    listing = ", ".join(repr(n) for n in names)
    if wanted is not None:
        if _sheet_key(wanted) in by_key:
            return by_key[_sheet_key(wanted)]
        raise InputError(path, f"no sheet {wanted!r}; the workbook has {listing}")
    for key in PERSONS_SHEETS:
        if key in by_key:
            return by_key[key]
    # MYEB1 may carry its boundaries in the name: "MYEB1 (2021 Geography)".
    long = [n for n in names if re.match(r"^myeb1(?:\W|$)", _sheet_key(n))]
    if len(long) == 1:
        return long[0]
    if long:
        raise InputError(path, f"several MYEB1 sheets ({', '.join(map(repr, long))}): say which to read")
    raise InputError(path, f"no 'MYE2 - Persons' (or 'MYE2 - All', 'MYEB1') sheet; the workbook has {listing}")


def _csv_table(path: Path, data: bytes) -> _Table:
    if not data.strip():
        raise InputError(path, "the file is empty: expected ONS mid-year population estimates")
    if b"\x00" in data[:65536] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(
            path, "a binary file, neither an Excel workbook (.xlsx, .xls) nor a CSV table of population estimates"
        )
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=detect_encoding(path, data), newline="")
    return _Table(path, None, [(number, fields) for number, fields in enumerate(csv.reader(stream), 1)])


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_note(table: _Table, number: int, cells: list, figures: list[int], code: int, heading: list) -> bool:
    """A row of text without figures (a footnote, source line or heading); an area without its
    figures is an error, not a note."""
    if not all(_blank(cells[p]) for p in figures):
        return False
    if _GSS_CODE.match(_text(cells[code])):
        raise table.error(f"no figures for the area {_text(cells[code])}", row=number, column=heading[figures[0]])
    return True


def _whole(table: _Table, row: int, column, value) -> int:
    """A count of people: a whole number, as a number or as text ('10,847')."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\d{1,3}(?:,\d{3})+|\d+", value.strip()):
        return int(value.strip().replace(",", ""))
    if _blank(value):
        raise table.error("no figure", row=row, column=column)
    raise table.error(f"{_text(value)[:40]!r} is not a whole number of people", row=row, column=column)


def _find_header(table: _Table) -> tuple[int, str]:
    """(position of the header row in table.rows, layout)."""
    for position, (_, cells) in enumerate(table.rows[:HEADER_SEARCH_ROWS]):
        keys = {_key(c) for c in cells}
        if {"code", "name", "allages"} <= keys:
            return position, WIDE
        long_code = any(_LONG_CODE.match(k) for k in keys)
        if long_code and {"sex", "age"} <= keys and any(_POPULATION_YEAR.match(k) for k in keys):
            return position, LONG
    raise table.error(
        f"no header row in the first {HEADER_SEARCH_ROWS} rows: expected 'Code', 'Name' and 'All ages' "
        "(MYE2), or 'code' (or 'ladcodeYY'), 'sex', 'age' and 'population_YYYY' (MYEB1)"
    )


# --- MYE2: one row per area --------------------------------------------------------------


def _age_label(value) -> tuple[int, bool] | None:
    """(age, open-ended) for an age column's heading: 17, '17', '90+', '90 and over'."""
    text = _text(value)
    if text.isdigit():
        return int(text), False
    match = _OPEN_AGE.match(text)
    return (int(match.group(1)), True) if match else None


def _check_ages(table: _Table, row: int, ages: dict[int, int], open_ages: list[int]) -> None:
    """Single years 0..N-1 and N (or N+) once each, with N past the focus ages."""
    top = max(ages) if ages else -1
    if len(open_ages) > 1 or (open_ages and open_ages[0] != top):
        raise table.error(f"the open-ended age group must be the last age ({top}+)", row=row)
    missing = [str(a) for a in range(top + 1) if a not in ages]
    if missing:
        raise table.error(f"the header lacks the ages {', '.join(missing[:10])}", row=row)
    if top < FOCUS_AGES.stop:
        raise table.error(f"the ages stop at {top}: 10-24 needs single years of age to 24 and an older group", row=row)


def _wide_columns(table: _Table, header: int) -> dict:
    number, cells = table.rows[header]
    positions: dict = {"ages": {}}
    open_ages = []
    for position, cell in enumerate(cells):
        key = _key(cell)
        if key in ("code", "name", "allages") or key.startswith("geography"):
            positions.setdefault("geography" if key.startswith("geography") else key, position)
            continue
        label = _age_label(cell)
        if label is None:
            continue
        age, is_open = label
        if age in positions["ages"]:
            raise table.error(f"age {age} has two columns", row=number, column=cell)
        positions["ages"][age] = position
        if is_open:
            open_ages.append(age)
    _check_ages(table, number, positions["ages"], open_ages)
    return positions


def _mid_year(table: _Table, header: int) -> int:
    """The year of the estimates: 'mid-YYYY' in the title rows above the header, else in the
    sheet's or the file's name."""
    texts = [_text(c) for _, cells in table.rows[:header] for c in cells if isinstance(c, str)]
    for text in [*texts, table.sheet or "", table.path.stem]:
        match = _MID_YEAR.search(text)
        if match:
            return int(match.group(1))
    raise table.error("cannot tell the mid-year: no 'mid-YYYY' in the title rows above the header")


def _read_wide(table: _Table, header: int) -> tuple[pd.DataFrame, int, dict[str, int]]:
    columns = _wide_columns(table, header)
    heading = table.rows[header][1]
    mid_year = _mid_year(table, header)
    figures = [columns["allages"], *columns["ages"].values()]
    excluded = {NOTE_ROW: 0, BLANK_ROW: 0}
    out, seen = [], {}
    for number, cells in table.rows[header + 1 :]:
        cells = cells + [None] * (len(heading) - len(cells))
        if all(_blank(c) for c in cells):
            excluded[BLANK_ROW] += 1
            continue
        if _is_note(table, number, cells, figures, columns["code"], heading):
            excluded[NOTE_ROW] += 1
            continue
        code = _text(cells[columns["code"]])
        if not code:
            raise table.error("figures without an area code", row=number, column=heading[columns["code"]])
        if code in seen:
            raise table.error(
                f"area {code} again (first at row {seen[code]})", row=number, column=heading[columns["code"]]
            )
        seen[code] = number
        ages = {age: _whole(table, number, heading[p], cells[p]) for age, p in columns["ages"].items()}
        all_ages = _whole(table, number, heading[columns["allages"]], cells[columns["allages"]])
        if all_ages != sum(ages.values()):
            raise table.error(
                f"all ages ({all_ages:,}) is not the sum of the single years of age ({sum(ages.values()):,}) for {code}",
                row=number,
                column=heading[columns["allages"]],
            )
        geography = _text(cells[columns["geography"]]) if "geography" in columns else ""
        out.append(_area(code, _text(cells[columns["name"]]), geography, mid_year, ages, number))
    return _frame(out), len(out), excluded


def _area(code: str, name: str, geography: str, mid_year: int, ages: dict[int, int], row: int) -> dict:
    return {
        "area_code": code,
        "area_name": name,
        "geography": geography or None,
        "mid_year": mid_year,
        "all_ages": sum(ages.values()),
        "aged_10_24": sum(ages[a] for a in FOCUS_AGES),
        "source_row": row,
    }


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("source_file", "source_sheet")])
    return frame.astype({"mid_year": "int64", "all_ages": "int64", "aged_10_24": "int64", "source_row": "int64"})


# --- MYEB1: one row per area x sex x age -------------------------------------------------


def _long_columns(table: _Table, header: int) -> dict:
    positions: dict = {"years": {}}
    for position, cell in enumerate(table.rows[header][1]):
        key = _key(cell)
        year = _POPULATION_YEAR.match(key)
        if year:
            positions["years"][int(year.group(1))] = position
            continue
        for name, test in (
            ("code", _LONG_CODE.match),
            ("name", _LONG_NAME.match),
            ("geography", lambda k: k in ("geography", "country")),
            ("sex", lambda k: k == "sex"),
            ("age", lambda k: k == "age"),
        ):
            if test(key) and name not in positions:
                positions[name] = position
                break
    return positions


def _long_row(table: _Table, number: int, cells: list, columns: dict, heading: list) -> tuple[str, int, list[int]]:
    """(sex, age, population per mid-year) of one data row."""
    sex_cell, age_cell = cells[columns["sex"]], cells[columns["age"]]
    sex = _SEXES.get(_key(sex_cell))
    if sex is None:
        raise table.error(f"sex {_text(sex_cell)!r} is not M/F (or 1/2)", row=number, column=heading[columns["sex"]])
    label = _age_label(age_cell)
    if label is None:
        raise table.error(
            f"age {_text(age_cell)!r} is not a single year of age", row=number, column=heading[columns["age"]]
        )
    counts = [_whole(table, number, heading[p], cells[p]) for p in columns["years"].values()]
    return sex, label[0], counts


def _read_long(table: _Table, header: int) -> tuple[pd.DataFrame, int, dict[str, int]]:
    columns = _long_columns(table, header)
    heading = table.rows[header][1]
    figures = [*columns["years"].values(), columns["sex"], columns["age"]]
    excluded = {NOTE_ROW: 0, BLANK_ROW: 0}
    areas: dict[str, dict] = {}
    accepted = 0
    for number, cells in table.rows[header + 1 :]:
        cells = cells + [None] * (len(heading) - len(cells))
        if all(_blank(c) for c in cells):
            excluded[BLANK_ROW] += 1
            continue
        if _is_note(table, number, cells, figures, columns["code"], heading):
            excluded[NOTE_ROW] += 1
            continue
        code = _text(cells[columns["code"]])
        if not code:
            raise table.error("figures without an area code", row=number, column=heading[columns["code"]])
        sex, age, counts = _long_row(table, number, cells, columns, heading)
        if code not in areas:
            name = _text(cells[columns["name"]]) if "name" in columns else ""
            geography = _text(cells[columns["geography"]]) if "geography" in columns else ""
            areas[code] = {"row": number, "cells": {}, "name": name, "geography": geography}
        area = areas[code]
        if (sex, age) in area["cells"]:
            first = area["cells"][(sex, age)][0]
            raise table.error(
                f"{code} {sex} age {age} again (first at row {first})", row=number, column=heading[columns["age"]]
            )
        area["cells"][(sex, age)] = (number, counts)
        accepted += 1
    return _long_areas(table, areas, list(columns["years"])), accepted, excluded


def _long_areas(table: _Table, areas: dict[str, dict], years: list[int]) -> pd.DataFrame:
    """Sum both sexes per area and mid-year, after checking each area has every sex x age once."""
    # The oldest age is the open-ended group (90 meaning 90 and over).
    top = max((age for area in areas.values() for _, age in area["cells"]), default=-1)
    if top < FOCUS_AGES.stop:
        raise table.error(f"the ages stop at {top}: 10-24 needs single years of age to 24 and an older group")
    out = []
    for code, area in areas.items():
        missing = [f"{s} {a}" for s in ("F", "M") for a in range(top + 1) if (s, a) not in area["cells"]]
        if missing:
            raise table.error(f"{code} has no row for sex and age {', '.join(missing[:6])}", row=area["row"])
        for index, year in enumerate(years):
            ages = {a: 0 for a in range(top + 1)}
            for (_, age), (_, counts) in area["cells"].items():
                ages[age] += counts[index]
            out.append(_area(code, area["name"], area["geography"], year, ages, area["row"]))
    return _frame(out)
