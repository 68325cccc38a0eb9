"""OHID Fingertips data exports (CSV): one row per indicator x area x sex x age x period.

Both header spellings are read: the spaced one of the website's "Export table" download
(`Indicator ID`, `Time period`, `Lower CI 95.0 limit`, ...) and the squashed or underscored ones of
the API and of fingertipsR/pandas copies (`IndicatorID`, `Timeperiod`, `Time_period_Sortable`, ...).
Headers are matched ignoring case, spaces and punctuation, so every spelling maps to one set of
snake_case columns.

Rules (every data record is kept or excluded by one of them, and counted):
- kept: a record with no `Category Type`/`Category`. A blank `Value` is kept as `suppressed` with
  its `Value note` ("Value for Hackney and City of London combined", suppressed small numbers).
- excluded `category_row`: a breakdown row (deprivation decile, ethnic group, ...), whose
  `Category Type` or `Category` is filled; the borough figures are the rows without a category.
- excluded `blank_row`: an empty line.

Values, confidence limits, counts and denominators are taken as published, never recomputed. A
record's `source_row` is the line of the file on which it starts (a quoted field may hold line
breaks, so records and lines differ).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tipipeline import registry
from tipipeline.errors import InputError
from tipipeline.ingest.raw_export import detect_encoding
from tipipeline.outcomes import files
from tipipeline.reference import ENGLAND_CODE, LONDON_CODE

# Canonical column -> the spaced spelling of the website export (shown in error messages).
SPACED = {
    "indicator_id": "Indicator ID",
    "indicator_name": "Indicator Name",
    "area_code": "Area Code",
    "area_name": "Area Name",
    "area_type": "Area Type",
    "sex": "Sex",
    "age": "Age",
    "category_type": "Category Type",
    "category": "Category",
    "time_period": "Time period",
    "value": "Value",
    "lower_ci95": "Lower CI 95.0 limit",
    "upper_ci95": "Upper CI 95.0 limit",
    "lower_ci998": "Lower CI 99.8 limit",
    "upper_ci998": "Upper CI 99.8 limit",
    "count": "Count",
    "denominator": "Denominator",
    "value_note": "Value note",
    "compared_to_england": "Compared to England value or percentiles",
    "time_period_sortable": "Time period Sortable",
}
# The API's squashed spelling, for the error message that names what is missing.
SQUASHED = {column: label.replace(" ", "") for column, label in SPACED.items()}
REQUIRED = (
    "indicator_id",
    "indicator_name",
    "area_code",
    "area_name",
    "area_type",
    "sex",
    "age",
    "category_type",
    "time_period",
    "value",
    "lower_ci95",
    "upper_ci95",
    "count",
    "denominator",
    "value_note",
)
NUMBERS = ("value", "lower_ci95", "upper_ci95", "lower_ci998", "upper_ci998", "count", "denominator")
TEXTS = ("indicator_name", "area_code", "area_name", "area_type", "sex", "age", "time_period")
OPTIONAL_TEXTS = ("value_note", "compared_to_england")

COLUMNS = registry.table("fingertips_values").names

CATEGORY_ROW = "category_row"
BLANK_ROW = "blank_row"


_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
# Period spellings Fingertips uses, each -> (start year group, end year group or None).
_PERIODS = [
    re.compile(r"^(\d{4})$"),  # 2017
    re.compile(r"^(\d{4})\s*/\s*(\d{2})$"),  # 2017/18 (financial or academic year)
    re.compile(r"^(\d{4})\s*-\s*(\d{2}|\d{4})$"),  # 2015 - 17, 2015-2017
    re.compile(r"^(\d{4})\s*/\s*\d{2}\s*-\s*\d{2}\s*/\s*(\d{2})$"),  # 2014/15 - 16/17
    re.compile(r"^(\d{4})\s+Q[1-4]$", re.IGNORECASE),  # 2019 Q3
    re.compile(rf"^(?:{_MONTHS})[a-z]*\s+(\d{{4}})$", re.IGNORECASE),  # Jan 2020
]
_FINANCIAL_QUARTER = re.compile(r"^(\d{4})\s*/\s*(\d{2})\s+Q([1-4])$", re.IGNORECASE)  # 2019/20 Q4


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", str(text).casefold())


@dataclass
class FingertipsFile:
    """One Fingertips export as read: the kept rows and the accounting."""

    path: Path
    sha256: str
    header_style: str  # "spaced", "squashed" or "underscored"
    rows_read: int
    data: pd.DataFrame  # COLUMNS, one row per kept record, in file order
    excluded: dict[str, int] = field(default_factory=dict)  # rule -> records

    @property
    def rows_kept(self) -> int:
        return len(self.data)

    def quality_row(self) -> dict:
        """The file's line in `data_quality` (the policy audit's columns)."""
        excluded = {rule: n for rule, n in self.excluded.items() if n}
        return {
            "source_file": self.path.name,
            "sha256": self.sha256,
            "file_format": f"fingertips_csv_{self.header_style}",
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_kept,
            "rows_quarantined": 0,
            "rows_excluded": sum(excluded.values()),
            "excluded_by_rule": json.dumps(excluded),
        }


def read_fingertips(path: str | Path) -> FingertipsFile:
    """Read a Fingertips data-export CSV; InputError naming file, line and column if unusable."""
    path = Path(path)
    data = files.read_csv_bytes(path, "a Fingertips data export (CSV)", "download the data as CSV")
    records = _records(data, detect_encoding(path, data))
    header_line, header = _first_record(path, records)
    columns, style = map_header(path, header, header_line)
    # Errors name a column as the file spells it.
    names = {column: header[position].strip() for column, position in columns.items()}
    rows: list[dict] = []
    excluded = {CATEGORY_ROW: 0, BLANK_ROW: 0}
    for line, fields in records:
        if not any(f.strip() for f in fields):
            excluded[BLANK_ROW] += 1
            continue
        cells = _cells(path, line, fields, header, columns)
        if cells.get("category_type") or cells.get("category"):
            excluded[CATEGORY_ROW] += 1
            continue
        rows.append(_parse_record(path, line, cells, names))
    frame = _frame(rows, path.name)
    # Every record below the header was kept or excluded by a rule (any other stopped the read).
    rows_read = len(frame) + sum(excluded.values())
    return FingertipsFile(path, hashlib.sha256(data).hexdigest(), style, rows_read, frame, excluded)


def _records(data: bytes, encoding: str):
    """Yield (line on which the record starts, fields) for every CSV record."""
    csv.field_size_limit(1 << 30)
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline=""), strict=False)
    last_line = 0
    for fields in reader:
        yield last_line + 1, fields
        last_line = reader.line_num


def _first_record(path: Path, records) -> tuple[int, list[str]]:
    for line, fields in records:
        if any(f.strip() for f in fields):
            return line, fields
    raise InputError(path, "no header row: the file holds only blank lines")


def map_header(path: Path, header: list[str], line: int = 1) -> tuple[dict[str, int], str]:
    """(canonical column -> position, header style); InputError listing the columns missing."""
    wanted = {_key(label): column for column, label in SPACED.items()}
    positions: dict[str, int] = {}
    for position, name in enumerate(header):
        column = wanted.get(_key(name))
        if column is not None and column not in positions:
            positions[column] = position
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        names = ", ".join(f"{SPACED[c]!r} (or {SQUASHED[c]!r})" for c in missing)
        raise InputError(
            path,
            f"not a Fingertips data export: the header is neither Fingertips spelling; missing {names}",
            row=line,
        )
    first = header[positions["indicator_id"]]
    style = "spaced" if " " in first.strip() else "underscored" if "_" in first else "squashed"
    return positions, style


def _cells(path: Path, line: int, fields: list[str], header: list[str], columns: dict[str, int]) -> dict[str, str]:
    """The record's cells by canonical column, stripped; InputError if it does not fit the header."""
    width = len(header)
    if len(fields) > width and any(f.strip() for f in fields[width:]):
        raise InputError(path, f"{len(fields)} fields where the header has {width}", row=line)
    short_of = [c for c, position in columns.items() if position >= len(fields)]
    if any(c in REQUIRED for c in short_of):
        first = min(columns[c] for c in short_of)
        raise InputError(
            path,
            f"{len(fields)} fields where the header has {width}: the record stops before {header[first]!r}",
            row=line,
        )
    # Exports drop trailing empty fields (the real files end short of `Compared to goal`): a record
    # short only of optional columns has them blank.
    return {c: (fields[p].strip() if p < len(fields) else "") for c, p in columns.items()}


def _parse_record(path: Path, line: int, cells: dict[str, str], names: dict[str, str]) -> dict:
    """One kept record, typed; InputError naming the line and column of a cell that is not."""
    row: dict = {"source_row": line}
    indicator = cells["indicator_id"]
    if not _INTEGER.match(indicator):
        raise InputError(
            path, f"indicator id {indicator!r} is not a whole number", row=line, column=names["indicator_id"]
        )
    row["indicator_id"] = int(indicator)
    for column in TEXTS:
        row[column] = cells[column]
    if not row["area_code"]:
        raise InputError(path, "no area code", row=line, column=names["area_code"])
    for column in OPTIONAL_TEXTS:
        row[column] = cells.get(column) or None
    for column in NUMBERS:
        text = cells.get(column, "")
        if text and not _NUMBER.match(text):
            raise InputError(path, f"{text[:40]!r} is not a number", row=line, column=names[column])
        row[column] = float(text) if text else None
    sortable = cells.get("time_period_sortable", "")
    if sortable and not _INTEGER.match(sortable):
        raise InputError(path, f"{sortable!r} is not a whole number", row=line, column=names["time_period_sortable"])
    row["time_period_sortable"] = int(sortable) if sortable else None
    row["period_start_year"], row["period_end_year"] = period_years(row["time_period"])
    # A blank value is a published absence (suppressed, or combined with another area): kept.
    row["suppressed"] = row["value"] is None
    return row


def period_years(period: str) -> tuple[int | None, int | None]:
    """First and last calendar year a Fingertips period touches ('2015 - 17' -> 2015, 2017).

    A financial or academic year '2017/18' spans 2017 to 2018; '2014/15 - 16/17' spans 2014 to
    2017; '2019/20 Q4' (January to March) is 2020. A spelling not recognised gives (None, None):
    the period is kept as text.
    """
    text = period.strip()
    quarter = _FINANCIAL_QUARTER.match(text)
    if quarter:
        start = int(quarter.group(1))
        year = _widen(start, quarter.group(2)) if quarter.group(3) == "4" else start
        return year, year
    for pattern in _PERIODS:
        match = pattern.match(text)
        if match:
            start = int(match.group(1))
            end = _widen(start, match.group(2)) if pattern.groups > 1 else start
            return start, end
    return None, None


def _widen(start: int, end: str) -> int:
    """A two-digit end year in the start year's century, or the next one ('1999 - 01' -> 2001)."""
    if len(end) == 4:
        return int(end)
    year = start - start % 100 + int(end)
    return year if year >= start else year + 100


def _frame(rows: list[dict], source_file: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "source_file"])
    frame.insert(COLUMNS.index("source_file"), "source_file", source_file)
    types = {column: "Float64" for column in NUMBERS}
    types |= {c: "Int64" for c in ("period_start_year", "period_end_year", "time_period_sortable")}
    types |= {"indicator_id": "int64", "source_row": "int64", "suppressed": "bool"}
    return frame.astype(types)[COLUMNS]


def london_boroughs(frame: pd.DataFrame, reference=None) -> pd.DataFrame:
    """The rows for the 33 London boroughs (GSS E09...), the London region and England.

    A borough can appear under two area types in one export (e.g. `Counties & UAs` and
    `Districts & UAs`, which share the London boroughs): identical repeats are kept once; repeats
    that disagree are an InputError naming both rows. `reference` is a
    `tipipeline.reference.Reference` (default: the package's own).
    """
    if reference is None:
        from tipipeline.reference import load_reference

        reference = load_reference()
    codes = {*reference.boroughs["gss_code"], LONDON_CODE, ENGLAND_CODE}
    kept = frame[frame["area_code"].isin(codes)]
    key = ["indicator_id", "area_code", "sex", "age", "time_period"]
    published = ["value", "lower_ci95", "upper_ci95", "count", "denominator"]
    repeats = kept[kept.duplicated(key, keep=False)]
    for _, group in repeats.groupby(key, sort=False, dropna=False):
        first, *others = (row for _, row in group.iterrows())
        for other in others:
            if not all(_same(first[c], other[c]) for c in published):
                raise InputError(
                    other["source_file"],
                    f"{other['area_name']} {other['time_period']} is published twice with different "
                    f"values (also at row {first['source_row']} of {first['source_file']})",
                    row=int(other["source_row"]),
                    column=SPACED["value"],
                )
    return kept.drop_duplicates(key, keep="first").reset_index(drop=True)


def _same(a, b) -> bool:
    return (pd.isna(a) and pd.isna(b)) or (not pd.isna(a) and not pd.isna(b) and a == b)
