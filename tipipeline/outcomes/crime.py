"""MPS "Borough Level Crime" CSVs (London Datastore): reader, releases, outcome mapping, accounting.

Layouts, detected from the header (the first three columns; then one `YYYYMM` column per month):

- `borough_major_minor`: `Borough,Major Category,Minor Category` (the MPS's own categories, to 2018);
- `majortext_boroughname`: `MajorText,MinorText,BoroughName` (Home Office categories, mixed case);
- `majortext_lookup_boroughname`: `MajorText,MinorText,LookUp_BoroughName` (the same, 2019-2024);
- `majortext_upper_2024`: either MajorText header with every category in UPPER CASE: the 2024
  re-coding, with coarser categories;
- `group_subgroup_bocu`: `Group,SubGroup,BOCU` (2026; `BOCU` holds borough names).

CRLF or LF; UTF-8 with or without a byte-order mark, UTF-16 with one, else Windows-1252 (reported
in `CrimeFile.notes`).

The long frame (`CrimeFile.cells`, CELL_COLUMNS) has one row per published count cell:
source_file, layout, source_row (the record's row as a spreadsheet shows it, header = 1),
area_name and major/minor_category as published, gss_code (None for a non-borough area),
area_kind ('borough' | 'non_borough'), category_key, month (a date, the first of the month),
count (int), duplicates_area (the area an Aviation Security row repeats, else None) and
duplicate_of_row (the earlier row an exact repeat repeats, else <NA>).

Rules (every published cell is kept, and counted in `accounting`):

- Areas are boroughs by name only (no GSS codes), resolved through the alias table. Any other
  area ("London Heathrow and London City Airports", "Aviation Security (SO18)", "Unknown", a name
  that is not a London borough) is kept with `area_kind = 'non_borough'`: counted, never in a
  borough figure. A name that looks like a misspelt borough is an error with a suggestion.
- "Aviation Security (SO18)" rows that repeat a Heathrow row exactly (same category, same count
  in every month) are flagged in `duplicates_area`; they stay non-borough cells.
- The City of London is never in these files: it has its own police force, so the MPS does not
  cover it. It is "not covered" (`COVERAGE`, `coverage()`), never 0. Should a file ever carry City
  rows, they are MPS records made inside the City, not the City's figure: kept as non-borough.
- Sparse files: a borough x category row that is missing means 0 in every month of that file,
  for a borough the file has rows for. A borough with no row at all is missing from the file (every
  borough records crime every month), never 0; so is a measure none of whose categories the file
  publishes (an unfamiliar spelling must not read as no crime). `map_outcomes` leaves both out and
  `accounting` names them. The long frame holds only published cells; `complete_grid()` adds the
  zeros when asked.
- A row repeating an earlier row's area (a borough by any of its names) and category with the same
  counts is flagged in
  `duplicate_of_row` and left out of every figure (counted as `duplicate_row` in the accounting);
  with different counts it is an error.
- Categories are matched by `category_key`: upper case, '&' as 'and', punctuation and repeated
  spaces removed ("Public Fear, Alarm or Distress" = "PUBLIC FEAR ALARM OR DISTRESS").
- Releases overlap ("Historical" and "most recent 24 months", or two monthly releases):
  `combine_releases` takes each month from the newest release and says which file supplied it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from tipipeline import registry
from tipipeline.errors import ConfigError, InputError, format_pydantic_error, read_yaml_mapping
from tipipeline.ingest.raw_export import detect_encoding
from tipipeline.outcomes import files
from tipipeline.reference import AliasResolver, Reference, load_reference, normalise_name

MAPPING_PATH = files.MAPPING_PATH

# Normalised first three header cells -> (layout, the role of each of the three columns).
_HEADERS = {
    ("borough", "majorcategory", "minorcategory"): ("borough_major_minor", ("area", "major", "minor")),
    ("majortext", "minortext", "boroughname"): ("majortext_boroughname", ("major", "minor", "area")),
    ("majortext", "minortext", "lookupboroughname"): ("majortext_lookup_boroughname", ("major", "minor", "area")),
    ("group", "subgroup", "bocu"): ("group_subgroup_bocu", ("major", "minor", "area")),
}
UPPER_LAYOUT = "majortext_upper_2024"
LAYOUT_FAMILY = {
    "borough_major_minor": "pre_2024",
    "majortext_boroughname": "pre_2024",
    "majortext_lookup_boroughname": "pre_2024",
    UPPER_LAYOUT: "upper_2024",
    "group_subgroup_bocu": "group_2026",
}
EXPECTED_LAYOUTS = (
    "Borough,Major Category,Minor Category (to 2018); MajorText,MinorText,BoroughName; "
    "MajorText,MinorText,LookUp_BoroughName (also the 2024 UPPERCASE re-coding); Group,SubGroup,BOCU (2026); "
    "each followed by one YYYYMM column per month"
)

HEATHROW = "London Heathrow and London City Airports"
AVIATION_SECURITY = "Aviation Security (SO18)"
# Areas the MPS publishes that are not boroughs; kept, counted, never in a borough figure.
NON_BOROUGH_AREAS = (HEATHROW, AVIATION_SECURITY, "Unknown", "Heathrow", "London Heathrow", "Non Met Police Force")
_NON_BOROUGH_KEYS = {normalise_name(name) for name in NON_BOROUGH_AREAS}

# Boroughs the MPS does not police, with the reason: their figures are "not covered", never 0.
COVERAGE = {
    "E09000001": "not covered: the City of London has its own police force (City of London Police)",
}

CELL_COLUMNS = [
    "source_file",
    "layout",
    "source_row",
    "area_name",
    "gss_code",
    "area_kind",
    "major_category",
    "minor_category",
    "category_key",
    "month",
    "count",
    "duplicates_area",
    "duplicate_of_row",
]
_MONTH = re.compile(r"(\d{4})(\d{2})")
_COUNT = re.compile(r"\d+")


def category_key(text: object) -> str:
    """A category's matching key: upper case, accents and punctuation dropped, '&' read as 'and'."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Z0-9]+", " ", text.upper().replace("&", " AND "))
    return text.strip()


@dataclass
class _Row:
    source_row: int
    area: str
    major: str
    minor: str
    counts: tuple[int, ...]
    duplicate_of_row: int | None = None
    duplicates_area: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return normalise_name(self.area), category_key(self.major), category_key(self.minor)


@dataclass
class CrimeFile:
    """One MPS borough-level crime file: its published cells in long form, and how it was read."""

    path: Path
    sha256: str
    layout: str
    header: list[str]  # the first three header cells as published
    encoding: str
    line_ending: str
    months: list[dt.date]
    rows_read: int  # data records after the header, blank ones included
    rows_blank: int  # excluded by rule: records with no text in any cell
    cells: pd.DataFrame  # CELL_COLUMNS, one row per published count cell
    notes: list[str] = field(default_factory=list)

    @property
    def source_file(self) -> str:
        return self.path.name

    @property
    def family(self) -> str:
        return LAYOUT_FAMILY[self.layout]


# --- reading -------------------------------------------------------------------------------


def read_crime_file(path: str | Path, reference: Reference | None = None) -> CrimeFile:
    """Read one MPS "Borough Level Crime" CSV into its long frame; InputError naming file, row, column."""
    path = Path(path)
    data = files.read_csv_bytes(path, "an MPS Borough Level Crime CSV", "download the CSV")
    encoding = detect_encoding(path, data)
    text = data.decode(encoding)
    records = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=False))
    if not records or not any(cell.strip() for cell in records[0]):
        raise InputError(path, f"no header on the first line: expected one of {EXPECTED_LAYOUTS}", row=1)
    header = [cell.strip() for cell in records[0]]
    layout, roles = _detect_layout(path, header)
    width, months = _month_columns(path, header)
    rows, blank = _parse_rows(path, records[1:], header, width, roles)
    if layout.startswith("majortext") and _all_upper(rows):
        layout = UPPER_LAYOUT
    reference = reference or load_reference()
    areas = _classify_areas(path, rows, header[roles.index("area")], reference)
    # Repeats are found after the aliases are resolved: two spellings of one borough are one area.
    _flag_duplicate_rows(path, rows, header, areas)
    _flag_aviation_security(rows)
    cells = _long_frame(path.name, layout, rows, months, areas)
    notes = [] if encoding.startswith("utf") else [f"not UTF-8: read as Windows-1252 ({encoding})"]
    notes += _missing_boroughs(areas, reference)
    return CrimeFile(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        layout=layout,
        header=header[:3],
        encoding=encoding,
        line_ending=_line_ending(text),
        months=months,
        rows_read=len(records) - 1,
        rows_blank=blank,
        cells=cells,
        notes=notes,
    )


def _line_ending(text: str) -> str:
    crlf = text.count("\r\n")
    lf, cr = text.count("\n") - crlf, text.count("\r") - crlf
    kinds = [name for name, n in (("CRLF", crlf), ("LF", lf), ("CR", cr)) if n]
    return kinds[0] if len(kinds) == 1 else ("mixed" if kinds else "none")


def _detect_layout(path: Path, header: list[str]) -> tuple[str, tuple[str, ...]]:
    key = tuple(re.sub(r"[^a-z0-9]", "", cell.casefold()) for cell in header[:3])
    if key not in _HEADERS:
        shown = ",".join(header[:3])
        raise InputError(path, f"unknown header layout {shown!r}: expected one of {EXPECTED_LAYOUTS}", row=1)
    return _HEADERS[key]


def _month_columns(path: Path, header: list[str]) -> tuple[int, list[dt.date]]:
    """(number of columns in use, the month of each column after the first three)."""
    width = len(header)
    while width > 3 and not header[width - 1]:
        width -= 1  # trailing empty columns (a spreadsheet's trailing commas); checked empty per row
    months: list[dt.date] = []
    for column in header[3:width]:
        match = _MONTH.fullmatch(column)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise InputError(path, f"column heading {column!r} is not a month written YYYYMM", row=1, column=column)
        month = dt.date(int(match.group(1)), int(match.group(2)), 1)
        if month in months:
            raise InputError(path, f"month {column} has two columns", row=1, column=column)
        months.append(month)
    if not months:
        raise InputError(path, "no month columns (YYYYMM) after the area and category columns", row=1)
    return width, months


def _parse_rows(path, records, header, width, roles) -> tuple[list[_Row], int]:
    rows, blank = [], 0
    for row_number, fields in enumerate(records, start=2):
        if not any(cell.strip() for cell in fields):
            blank += 1  # excluded by rule: a blank line carries no cell
            continue
        if len(fields) < width or any(cell.strip() for cell in fields[width:]):
            raise InputError(path, f"{len(fields)} cells where the header has {width}", row=row_number)
        named = {}
        for position, role in enumerate(roles):
            named[role] = fields[position].strip()
            if not named[role]:
                raise InputError(path, f"no {role} name", row=row_number, column=header[position])
        counts = tuple(_count(path, row_number, header[j], fields[j]) for j in range(3, width))
        rows.append(_Row(row_number, named["area"], named["major"], named["minor"], counts))
    return rows, blank


def _count(path: Path, row: int, column: str, text: str) -> int:
    text = text.strip()
    if _COUNT.fullmatch(text):
        return int(text)
    problem = "blank" if not text else f"{text[:40]!r}"
    raise InputError(path, f"count {problem} is not a whole number of 0 or more", row=row, column=column)


def _all_upper(rows: list[_Row]) -> bool:
    texts = [t for row in rows for t in (row.major, row.minor) if any(c.isalpha() for c in t)]
    return bool(texts) and all(t == t.upper() for t in texts)


def _flag_duplicate_rows(path: Path, rows: list[_Row], header: list[str], areas: dict[str, str | None]) -> None:
    first: dict[tuple[str, str, str], _Row] = {}
    for row in rows:
        # A borough is keyed by its GSS code (any alias), any other area by its normalised name.
        area = areas[row.area] or row.key[0]
        earlier = first.setdefault((area, *row.key[1:]), row)
        if earlier is row:
            continue
        if earlier.counts != row.counts:
            j = next(j for j, (a, b) in enumerate(zip(earlier.counts, row.counts)) if a != b)
            raise InputError(
                path,
                f"repeats the {row.area} / {row.major} / {row.minor} row of row {earlier.source_row} with a "
                f"different count ({earlier.counts[j]} there, {row.counts[j]} here)",
                row=row.source_row,
                column=header[3 + j],
            )
        row.duplicate_of_row = earlier.source_row


def _flag_aviation_security(rows: list[_Row]) -> None:
    # Some releases repeat the Heathrow rows under "Aviation Security (SO18)": flag, don't drop.
    heathrow = {row.key[1:]: row for row in rows if row.key[0] == normalise_name(HEATHROW)}
    for row in rows:
        if row.key[0] == normalise_name(AVIATION_SECURITY):
            match = heathrow.get(row.key[1:])
            if match is not None and match.counts == row.counts:
                row.duplicates_area = match.area


def _classify_areas(path: Path, rows: list[_Row], column: str, reference: Reference) -> dict[str, str | None]:
    """Area name as published -> GSS code of a covered borough, or None for a non-borough area."""
    resolver = AliasResolver(reference)
    names = dict(zip(reference.boroughs["gss_code"], reference.boroughs["name"]))
    areas: dict[str, str | None] = {}
    for row in rows:
        if row.area not in areas:
            areas[row.area] = _area_code(path, row, column, resolver, names)
    return areas


def _area_code(path: Path, row: _Row, column: str, resolver: AliasResolver, names: dict) -> str | None:
    if normalise_name(row.area) in _NON_BOROUGH_KEYS:
        return None
    code = resolver.resolve("borough", row.area)
    if code is not None:
        return None if code in COVERAGE else code
    hint = resolver.suggest("borough", row.area, n=1)
    if hint:
        suggested = names.get(resolver.resolve("borough", hint[0]), hint[0])
        raise InputError(
            path,
            f"area {row.area!r} is not a London borough the reference knows; did you mean {suggested!r}? "
            "Correct the name, or add the spelling to tipipeline/reference/aliases.csv",
            row=row.source_row,
            column=column,
        )
    return None


def _missing_boroughs(areas: dict[str, str | None], reference: Reference) -> list[str]:
    # Every borough records some crime every month, so a borough with no row at all is a file that
    # left it out, not a borough with no crime: its months are missing, never 0 (see map_outcomes).
    present = {code for code in areas.values() if code is not None}
    boroughs = _covered_boroughs(reference)
    missing = boroughs.loc[~boroughs["gss_code"].isin(present), "borough_name"].tolist()
    if not missing:
        return []
    return [
        f"no rows for {len(missing)} covered borough(s), so their months are missing from every measure "
        f"(not 0): {', '.join(missing)}"
    ]


def _long_frame(source_file: str, layout: str, rows: list[_Row], months, areas) -> pd.DataFrame:
    records = [
        (
            source_file,
            layout,
            row.source_row,
            row.area,
            areas[row.area],
            "non_borough" if areas[row.area] is None else "borough",
            row.major,
            row.minor,
            category_key(row.minor),
            month,
            count,
            row.duplicates_area,
            row.duplicate_of_row,
        )
        for row in rows
        for month, count in zip(months, row.counts)
    ]
    frame = pd.DataFrame.from_records(records, columns=CELL_COLUMNS)
    frame["source_row"] = frame["source_row"].astype("int64")
    frame["count"] = frame["count"].astype("int64")
    frame["duplicate_of_row"] = frame["duplicate_of_row"].astype("Int64")
    return frame


# --- coverage and the sparse grid ------------------------------------------------------------


def coverage(months, reference: Reference | None = None) -> pd.DataFrame:
    """Per borough x month: whether the MPS files cover it (gss_code, borough_name, month, covered, reason)."""
    reference = reference or load_reference()
    boroughs = reference.boroughs[["gss_code", "name"]].rename(columns={"name": "borough_name"})
    frame = boroughs.merge(pd.DataFrame({"month": sorted(set(months))}), how="cross")
    frame["reason"] = frame["gss_code"].map(COVERAGE)
    frame["covered"] = frame["reason"].isna()
    return frame[["gss_code", "borough_name", "month", "covered", "reason"]].reset_index(drop=True)


def _covered_boroughs(reference: Reference | None) -> pd.DataFrame:
    reference = reference or load_reference()
    boroughs = reference.boroughs[["gss_code", "name"]].rename(columns={"name": "borough_name"})
    return boroughs[~boroughs["gss_code"].isin(COVERAGE)].reset_index(drop=True)


def _borough_cells(cells: pd.DataFrame) -> pd.DataFrame:
    return cells[(cells["area_kind"] == "borough") & cells["duplicate_of_row"].isna()]


def complete_grid(cells: pd.DataFrame, reference: Reference | None = None) -> pd.DataFrame:
    """Every covered borough x published category x month of each file, missing rows as 0.

    Works per source file on a file's cells or on `combine_releases`' monthly frame: a category
    is in a file's grid when the file publishes it for at least one borough; the months are those
    the frame holds for that file. `published` is False for a filled-in 0. Non-borough areas and
    repeated rows are not in the grid; the City of London is not covered, so not in it either.
    """
    boroughs = _covered_boroughs(reference)
    published = _borough_cells(cells)
    keys = ["source_file", "layout", "major_category", "minor_category", "category_key"]
    parts = []
    for source_file, group in cells.groupby("source_file", sort=True):
        categories = published.loc[published["source_file"] == source_file, keys].drop_duplicates()
        months = pd.DataFrame({"month": sorted(group["month"].unique())})
        parts.append(boroughs.merge(categories, how="cross").merge(months, how="cross"))
    columns = [*keys, "gss_code", "area_name", "month", "count", "published", "source_row"]
    if not parts:
        return pd.DataFrame(columns=columns)
    grid = pd.concat(parts, ignore_index=True)
    found = published[[*keys, "gss_code", "month", "count", "source_row", "area_name"]]
    grid = grid.merge(found, on=[*keys, "gss_code", "month"], how="left", validate="one_to_one")
    grid["published"] = grid["count"].notna()
    grid["count"] = grid["count"].fillna(0).astype("int64")
    grid["area_name"] = grid["area_name"].fillna(grid["borough_name"])
    grid["source_row"] = grid["source_row"].astype("Int64")
    return grid[columns]


# --- releases ----------------------------------------------------------------------------


def _release_key(file: CrimeFile) -> tuple[dt.date, str]:
    return max(file.months), file.source_file


def combine_releases(files: list[CrimeFile]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One monthly series from overlapping releases: (monthly, supply).

    For each month the NEWEST release that publishes it wins. The newest release is the file
    whose last month is latest; between files ending in the same month, the one whose file name
    sorts last (so "... (most recent 24 months).csv" beats "... (Historical).csv"), but only when
    they publish the same counts for the months both hold: two files ending in the same month that
    disagree are an error, since neither can be called the newer release. Every cell of
    the winning file for that month is taken, and none of any other file's: counts revised
    between releases are never mixed within a month.

    `monthly` has the cells' columns (CELL_COLUMNS). `supply` has one row per month: month,
    source_file (the file that supplied it), layout, superseded_files (the older files that also
    publish it, newest first, '; '-separated; '' if none). Pass `supply` to `accounting` to count
    each file's superseded months and cells.
    """
    names = [file.source_file for file in files]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputError(repeated[0], "two outcome files have this name: keep one, or rename a release")
    _check_same_release_months(files)
    holders: dict[dt.date, list[CrimeFile]] = {}
    for file in sorted(files, key=_release_key, reverse=True):
        for month in file.months:
            holders.setdefault(month, []).append(file)
    supply = pd.DataFrame(
        [
            (month, found[0].source_file, found[0].layout, "; ".join(f.source_file for f in found[1:]))
            for month, found in sorted(holders.items())
        ],
        columns=registry.table("outcome_supply").names,
    )
    winner = dict(zip(supply["month"], supply["source_file"]))
    parts = [file.cells[file.cells["month"].map(winner) == file.source_file] for file in files]
    monthly = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CELL_COLUMNS)
    monthly = monthly.sort_values(["month", "source_file", "source_row"], kind="stable").reset_index(drop=True)
    return monthly, supply


def _published_counts(file: CrimeFile, months: set[dt.date]) -> pd.DataFrame:
    """A file's borough and non-borough counts in `months`, keyed by area and category, sorted."""
    cells = file.cells[file.cells["month"].isin(months) & file.cells["duplicate_of_row"].isna()]
    area = cells["gss_code"].fillna(cells["area_name"].map(normalise_name))
    keyed = pd.DataFrame(
        {"area": area, "category": cells["category_key"], "month": cells["month"], "count": cells["count"]}
    )
    return keyed.groupby(["area", "category", "month"], as_index=False)["count"].sum()


def _check_same_release_months(files: list[CrimeFile]) -> None:
    """Files whose last month is the same must agree on the months they share (InputError if not)."""
    by_last: dict[dt.date, list[CrimeFile]] = {}
    for file in sorted(files, key=lambda f: f.source_file):
        by_last.setdefault(max(file.months), []).append(file)
    for same in by_last.values():
        for index, first in enumerate(same):
            for second in same[index + 1 :]:
                shared = set(first.months) & set(second.months)
                a, b = _published_counts(first, shared), _published_counts(second, shared)
                merged = a.merge(b, on=["area", "category", "month"], how="outer", suffixes=("_a", "_b"))
                # A missing row is 0 only for an area and a category the file publishes at all (the
                # sparse rule); an area or category only one file has is a disagreement.
                sparse_a = merged["area"].isin(set(a["area"])) & merged["category"].isin(set(a["category"]))
                sparse_b = merged["area"].isin(set(b["area"])) & merged["category"].isin(set(b["category"]))
                differ = merged[
                    (merged["count_a"].fillna(0) != merged["count_b"].fillna(0))
                    | (merged["count_a"].isna() & ~sparse_a)
                    | (merged["count_b"].isna() & ~sparse_b)
                ]
                if differ.empty:
                    continue
                cell = differ.sort_values(["month", "area", "category"]).iloc[0]
                raise InputError(
                    second.path,
                    f"ends in the same month ({max(second.months):%Y-%m}) as {first.source_file} but publishes "
                    f"different counts for {cell['month']:%Y-%m} ({cell['area']} / {cell['category']}: "
                    f"{_shown(cell['count_a'])} there, {_shown(cell['count_b'])} here), so neither is the newer "
                    "release: keep the file you trust and move the other out of the outcomes folder",
                    column=f"{cell['month']:%Y%m}",
                )


def _shown(count) -> str:
    return "no row" if pd.isna(count) else str(int(count))


# --- the outcome mapping (outcomes.yaml) -------------------------------------------------------

Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Family = Literal["pre_2024", "upper_2024", "group_2026"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MeasureSpec(_Strict):
    """One outcome measure: the categories of each layout family that make it."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    name: Text
    definition: Text
    categories: dict[Family, list[Text]]


class _MappingFile(_Strict):
    description: Text
    assumptions: list[Text]
    measures: list[MeasureSpec]
    not_measured: dict[Family, list[Text]]


@dataclass
class OutcomeMapping:
    """outcomes.yaml, validated: measures and their categories per layout family."""

    measures: list[MeasureSpec]
    links: pd.DataFrame  # family, category_key, measure_id: one row per category feeding a measure
    not_measured: set[tuple[str, str]]  # (family, category_key) known and deliberately in no measure
    assumptions: list[str]
    sha256: str


def load_outcome_mapping(path: str | Path = MAPPING_PATH) -> OutcomeMapping:
    """Read and validate outcomes.yaml; ConfigError naming the field of a malformed entry."""
    raw, raw_bytes = read_yaml_mapping(path, "outcome mapping")
    try:
        spec = _MappingFile.model_validate(raw)
    except ValidationError as exc:
        raise format_pydantic_error(path, exc) from exc
    links = []
    for index, measure in enumerate(spec.measures):
        if any(measure.id == other.id for other in spec.measures[:index]):
            raise ConfigError(path, f"measures[{index}].id", f"measure {measure.id!r} is defined twice")
        for family, categories in measure.categories.items():
            where = f"measures[{index}].categories.{family}"
            links += [(family, key, measure.id) for key in _unique_keys(path, where, categories)]
    not_measured = set()
    for family, categories in spec.not_measured.items():
        not_measured |= {(family, key) for key in _unique_keys(path, f"not_measured.{family}", categories)}
    for family, key, measure_id in links:
        if (family, key) in not_measured:
            raise ConfigError(path, f"not_measured.{family}", f"{key!r} is also in the measure {measure_id!r}")
    return OutcomeMapping(
        measures=list(spec.measures),
        links=pd.DataFrame(links, columns=["family", "category_key", "measure_id"]),
        not_measured=not_measured,
        assumptions=list(spec.assumptions),
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
    )


def _unique_keys(path, where: str, categories: list[str]) -> list[str]:
    keys = [category_key(category) for category in categories]
    for index, key in enumerate(keys):
        if key in keys[:index]:
            raise ConfigError(path, f"{where}[{index}]", f"{categories[index]!r} is listed twice (as {key!r})")
    return keys


def _with_family(cells: pd.DataFrame) -> pd.DataFrame:
    return cells.assign(family=cells["layout"].map(LAYOUT_FAMILY))


def _known_mask(cells: pd.DataFrame, pairs: set[tuple[str, str]]) -> pd.Series:
    """True where the cell's (layout family, category_key) is in `pairs`."""
    families = cells["layout"].map(LAYOUT_FAMILY)
    found = [pair in pairs for pair in zip(families, cells["category_key"])]
    return pd.Series(found, index=cells.index, dtype=bool)


def _mapped_mask(cells: pd.DataFrame, mapping: OutcomeMapping) -> pd.Series:
    return _known_mask(cells, set(zip(mapping.links["family"], mapping.links["category_key"])))


def map_outcomes(
    monthly: pd.DataFrame, mapping: OutcomeMapping | None = None, reference: Reference | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Outcome measures per borough x month, and the borough categories no measure takes.

    `monthly` is one file's cells or `combine_releases`' monthly frame (one file per month).

    `measures`: measure_id, measure_name, gss_code, borough_name, month, count, source_file,
    layout. A covered borough has a row for every month of `monthly` whose file publishes at least
    one of the measure's categories (for any borough) and at least one row for the borough: 0 where
    nothing was published for it (the sparse rule). A measure none of whose categories a file
    publishes, and a borough a file has no row for, have no rows for that file's months: missing,
    never 0 (`outcome_coverage` names the months; `accounting` the measures and boroughs). A
    category feeding two measures counts in both.

    `unmapped`: source_file, layout, family, major_category, minor_category, category_key,
    known (True when outcomes.yaml lists it under not_measured; False: a category the mapping
    does not know), cells, count. Non-borough areas and repeated rows are in neither frame (they
    are counted in `accounting`).
    """
    mapping = mapping or load_outcome_mapping()
    sources = monthly.groupby("month")["source_file"].nunique()
    if (sources > 1).any():
        # Two releases' counts for one month would be added together: combine_releases first.
        raise ValueError(
            f"{sources[sources > 1].index[0]} comes from several files: pass combine_releases' monthly frame"
        )
    published = _with_family(_borough_cells(monthly))
    joined = published.merge(mapping.links, on=["family", "category_key"], how="inner")
    sums = joined.groupby(["measure_id", "gss_code", "month"], as_index=False)["count"].sum()
    periods = _with_family(monthly[["month", "source_file", "layout"]].drop_duplicates())
    # Per file: the measures it publishes a category of, and the boroughs it has rows for.
    in_file = joined[["source_file", "measure_id"]].drop_duplicates()
    boroughs = _covered_boroughs(reference)
    present = published[["source_file", "gss_code"]].drop_duplicates().merge(boroughs, on="gss_code")
    grid = periods.merge(in_file, on="source_file").merge(present, on="source_file")
    measures = grid.merge(sums, on=["measure_id", "gss_code", "month"], how="left")
    measures["count"] = measures["count"].fillna(0).astype("int64")
    measures["measure_name"] = measures["measure_id"].map({m.id: m.name for m in mapping.measures})
    columns = registry.table("outcome_measures").names
    measures = measures[columns].sort_values(["measure_id", "gss_code", "month"]).reset_index(drop=True)
    return measures, _unmapped(published[~_mapped_mask(published, mapping)], mapping)


def _unmapped(cells: pd.DataFrame, mapping: OutcomeMapping) -> pd.DataFrame:
    keys = ["source_file", "layout", "family", "major_category", "minor_category", "category_key"]
    out = cells.groupby(keys, as_index=False).agg(cells=("count", "size"), count=("count", "sum"))
    out.insert(6, "known", _known_mask(out, mapping.not_measured))
    out["count"] = out["count"].astype("int64")
    return out.reset_index(drop=True)


# --- accounting -----------------------------------------------------------------------------

STATUSES = ("mapped", "unmapped", "non_borough", "duplicate_row")


def cell_status(cells: pd.DataFrame, mapping: OutcomeMapping | None = None) -> pd.Series:
    """Each cell's place in the accounting: mapped, unmapped, non_borough or duplicate_row.

    mapped: a borough cell whose category feeds at least one measure (once, however many);
    unmapped: a borough cell whose category feeds none; non_borough: any other area;
    duplicate_row: a cell of a row that repeats an earlier row exactly (left out of every figure).
    """
    mapping = mapping or load_outcome_mapping()
    status = pd.Series("unmapped", index=cells.index, dtype=object)
    status[_mapped_mask(cells, mapping)] = "mapped"
    status[cells["area_kind"] == "non_borough"] = "non_borough"
    status[cells["duplicate_of_row"].notna()] = "duplicate_row"
    return status


def accounting(
    file: CrimeFile,
    mapping: OutcomeMapping | None = None,
    supply: pd.DataFrame | None = None,
    reference: Reference | None = None,
) -> dict:
    """One file's accounting: cells read and where every count went.

    count_total = count_mapped + count_unmapped + count_non_borough + count_duplicate_row (the same
    for cells_*), over all the file's months, superseded or not. count_unmapped_unknown is the part
    of count_unmapped in categories outcomes.yaml does not know; count_non_borough_duplicating the
    part of count_non_borough in Aviation Security rows repeating Heathrow. measures_absent and
    boroughs_absent name what the file leaves out (missing, not 0). With `supply` (from
    `combine_releases`): the months and cells of this file that a newer release superseded, and
    count_mapped_supplied, the mapped offences of the months it supplied (summing count_mapped over
    overlapping releases would count a month twice; summing count_mapped_supplied does not).
    """
    mapping = mapping or load_outcome_mapping()
    cells = file.cells
    status = cell_status(cells, mapping)
    out = {
        "source_file": file.source_file,
        "sha256": file.sha256,
        "layout": file.layout,
        "family": file.family,
        "encoding": file.encoding,
        "line_ending": file.line_ending,
        "notes": "; ".join(file.notes),
        "first_month": min(file.months),
        "last_month": max(file.months),
        "months": len(file.months),
        "rows_read": file.rows_read,
        "rows_blank": file.rows_blank,
        "cells_read": len(cells),
        "count_total": int(cells["count"].sum()),
    }
    for name in STATUSES:
        out[f"cells_{name}"] = int((status == name).sum())
        out[f"count_{name}"] = int(cells.loc[status == name, "count"].sum())
    unknown = (status == "unmapped") & ~_known_mask(cells, mapping.not_measured)
    out["count_unmapped_unknown"] = int(cells.loc[unknown, "count"].sum())
    out["count_non_borough_duplicating"] = int(cells.loc[cells["duplicates_area"].notna(), "count"].sum())
    out.update(_absent(file, cells[status == "mapped"], mapping, reference))
    if supply is not None:
        out.update(_superseded(file, supply, status))
    return out


def _absent(file: CrimeFile, mapped: pd.DataFrame, mapping: OutcomeMapping, reference: Reference | None) -> dict:
    """The measures of the file's family none of whose categories it publishes, and the covered
    boroughs it has no row for: missing from the outcome measures for its months, never 0."""
    links = mapping.links[mapping.links["family"] == file.family]
    found = set(links.loc[links["category_key"].isin(set(mapped["category_key"])), "measure_id"])
    boroughs = _covered_boroughs(reference)
    present = set(file.cells.loc[file.cells["area_kind"] == "borough", "gss_code"])
    return {
        "measures_absent": sorted(set(links["measure_id"]) - found),
        "boroughs_absent": sorted(boroughs.loc[~boroughs["gss_code"].isin(present), "borough_name"]),
    }


def _superseded(file: CrimeFile, supply: pd.DataFrame, status: pd.Series) -> dict:
    winner = dict(zip(supply["month"], supply["source_file"]))
    lost = [month for month in file.months if winner.get(month, file.source_file) != file.source_file]
    mask = file.cells["month"].isin(lost)
    return {
        # The mapped offences of the months this file supplied: summed over files, no month twice.
        "count_mapped_supplied": int(file.cells.loc[~mask & (status == "mapped"), "count"].sum()),
        "months_supplied": len(file.months) - len(lost),
        "months_superseded": len(lost),
        "superseded_months": ", ".join(month.strftime("%Y-%m") for month in lost),
        "superseded_by": "; ".join(sorted({winner[month] for month in lost})),
        "cells_superseded": int(mask.sum()),
        "count_superseded": int(file.cells.loc[mask, "count"].sum()),
    }
