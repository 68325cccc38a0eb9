"""Workforce figures: how many staff each partner has, by staff group (issue 30).

Two kinds of file are read from `data/raw/workforce/` (optional; without it nothing is known):

- **the template** (CSV or XLSX): one row per organisation x staff group, with columns
  `organisation` (any spelling the alias resolver accepts), `staff_group` (an id of the sector's
  groups in reference/staff_groups.yaml), `headcount`, `fte` (optional), `as_at` (a date) and
  `source`. A row that cannot be used is quarantined with its row, column and reason.
- **the Home Office's "Police workforce, England and Wales" data tables** as published (ODS). The
  tables are found by their titles, not their numbers (which move between releases); the header
  row is the one whose cells are dates (the as-at dates); the unit (full-time equivalents or
  headcount) is the one the table states. The Metropolitan Police's row of each table gives one
  figure per as-at date, in the table's unit. Every other row (regions, other forces, totals) is
  excluded by the documented rule `not_a_london_partner`.

Each figure keeps its unit: a response rate is computed against a headcount only when the file
gives one, and says which unit it used.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd

from tipipeline import registry
from tipipeline.errors import ConfigError, InputError, read_yaml_mapping
from tipipeline.files import file_sha256
from tipipeline.reference import AliasResolver

STAFF_GROUPS_PATH = Path(__file__).parents[1] / "reference" / "staff_groups.yaml"
TEMPLATE = "template"
HOME_OFFICE = "home_office_police"
MPS = "E23000001"
MPS_ROW = "Metropolitan Police"
HEADCOUNT, FTE = "headcount", "fte"
NOT_AVAILABLE = ".."  # the Home Office's marker for "data not available"
SUFFIXES = {".csv", ".xlsx", ".ods"}
TEMPLATE_REQUIRED = ["organisation", "staff_group", "headcount", "as_at", "source"]
TEMPLATE_OPTIONAL = ["fte"]
EXCLUDED_RULE = "not_a_london_partner"


@dataclass(frozen=True)
class StaffGroup:
    id: str
    name: str
    roles: tuple[str, ...]
    home_office_title: str | None = None


@cache
def staff_groups(path: Path = STAFF_GROUPS_PATH) -> dict[str, tuple[StaffGroup, ...]]:
    """Sector -> its staff groups, in order (reference/staff_groups.yaml)."""
    raw, _ = read_yaml_mapping(path, "staff groups")
    sectors = raw.get("sectors")
    if not isinstance(sectors, dict) or not sectors:
        raise ConfigError(path, "sectors", "a mapping of sector to its groups")
    found = {}
    for sector, spec in sectors.items():
        groups = []
        for i, group in enumerate((spec or {}).get("groups") or []):
            where = f"sectors.{sector}.groups[{i}]"
            if not isinstance(group, dict) or not group.get("id") or not group.get("name"):
                raise ConfigError(path, where, "each group needs an id and a name")
            groups.append(
                StaffGroup(
                    str(group["id"]),
                    str(group["name"]),
                    tuple(group.get("roles") or []),
                    group.get("home_office_title"),
                )
            )
        ids = [g.id for g in groups]
        if not groups or len(set(ids)) != len(ids):
            raise ConfigError(path, f"sectors.{sector}.groups", "a non-empty list of groups with distinct ids")
        roles = [r for g in groups for r in g.roles]
        repeated = sorted({r for r in roles if roles.count(r) > 1})
        if repeated:
            raise ConfigError(path, f"sectors.{sector}", f"role answer(s) in two groups: {repeated}")
        found[sector] = tuple(groups)
    return found


@dataclass
class WorkforceFile:
    """One workforce file read: its figures, the rows it could not use, and where every row went."""

    path: Path
    kind: str
    figures: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: int = 0
    rows_accepted: int = 0  # counted as rows are accepted, so that the accounting can fail
    excluded: dict[str, int] = field(default_factory=dict)
    layout: str = ""  # how the file was read, in words (which tables, in which unit)

    def quality(self) -> dict:
        rows_excluded = sum(self.excluded.values())
        return {
            "source_file": self.path.name,
            "sha256": file_sha256(self.path),
            "file_format": self.kind,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_quarantined": len(self.quarantine),
            "rows_excluded": rows_excluded,
            "excluded_by_rule": json.dumps(dict(sorted(self.excluded.items()))),
        }


def workforce_files(folder: Path) -> list[Path]:
    """The workforce files in `folder` (none when it does not exist), in name order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)


def _quarantine_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=registry.table("workforce_quarantine").names)


def _figures_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=registry.table("stg_workforce").names)
    return frame.astype({"value": "float64", "source_row": "int64"})


def _title(text: object) -> str:
    """A Home Office table title without its 'Table N: ' prefix."""
    return re.sub(r"^\s*Table\s+\d+[a-z]?\s*:\s*", "", str(text or "")).strip()


def _is_date_cell(value) -> bool:
    """A spreadsheet cell holding a date (the as-at dates of a header row)."""
    return isinstance(value, (dt.date, pd.Timestamp)) and not pd.isna(value)


def read_home_office(path: Path, sheets: dict[str, pd.DataFrame] | None = None) -> WorkforceFile:
    """The Metropolitan Police's figures by worker type from a Home Office workforce ODS."""
    if sheets is None:
        try:
            sheets = pd.read_excel(path, engine="odf", header=None, sheet_name=None)
        except Exception as exc:  # noqa: BLE001  (odfpy raises many kinds for a damaged file)
            raise InputError(path, f"cannot be read as an OpenDocument spreadsheet ({type(exc).__name__})") from None
    groups = [g for g in staff_groups()["police"] if g.home_office_title]
    figures, quarantine, excluded, rows_read, accepted = [], [], 0, 0, 0
    found, layout = set(), []
    for sheet, table in sheets.items():
        if table.empty:
            continue
        title = _title(table.iat[0, 0])
        group = next((g for g in groups if title.startswith(g.home_office_title)), None)
        if group is None:
            continue
        found.add(group.id)
        unit = _unit(table, path, sheet)
        layout.append(f"{sheet}: {group.name.lower()} ({unit})")
        header = next((i for i in range(min(len(table), 15)) if any(_is_date_cell(v) for v in table.iloc[i])), None)
        if header is None:
            raise InputError(path, f"sheet {sheet!r} ({title[:60]}): no row of as-at dates in its header")
        dates = {j: pd.Timestamp(v).date() for j, v in enumerate(table.iloc[header]) if _is_date_cell(v)}
        for i in range(header + 1, len(table)):
            name = table.iat[i, 0]
            if not isinstance(name, str) or not name.strip():
                break  # a blank row ends the block of figures; the notes follow it
            rows_read += 1
            # Names are compared as written (a region's name ends in a space: 'West Midlands '
            # is the region, 'West Midlands' the force), so only the exact force name is taken.
            if name != MPS_ROW:
                excluded += 1
                continue
            values = {as_at: table.iat[i, j] for j, as_at in dates.items()}
            available = {d: v for d, v in values.items() if not (isinstance(v, str) and v.strip() == NOT_AVAILABLE)}
            bad = [(d, v) for d, v in available.items() if not isinstance(v, (int, float)) or pd.isna(v) or v < 0]
            if not available or bad:
                as_at, value = bad[0] if bad else next(iter(values.items()))
                quarantine.append(
                    {
                        "source_file": path.name,
                        "source_row": i + 1,
                        "column": sheet,
                        "value": str(value),
                        "reason": f"{group.name} at {as_at}: "
                        + ("not a number of staff" if bad else "data not available ('..') at every date"),
                    }
                )
                continue
            # A date whose figure is '..' has no figure; the others are kept, each in its unit.
            accepted += 1
            figures += [
                {
                    "org_id": MPS,
                    "staff_group": group.id,
                    "unit": unit,
                    "value": float(value),
                    "as_at": as_at,
                    "source": f"Home Office police workforce tables: {title}",
                    "source_file": path.name,
                    "source_sheet": sheet,
                    "source_row": i + 1,
                }
                for as_at, value in available.items()
            ]
    if not found:
        raise InputError(
            path,
            "no Home Office police workforce table found by its title (e.g. 'Police officers by police force area')",
        )
    return WorkforceFile(
        path,
        HOME_OFFICE,
        _figures_frame(figures),
        _quarantine_frame(quarantine),
        rows_read=rows_read,
        rows_accepted=accepted,
        excluded={EXCLUDED_RULE: excluded} if excluded else {},
        layout="; ".join(layout),
    )


def _unit(table: pd.DataFrame, path: Path, sheet: str) -> str:
    for i in range(min(len(table), 8)):
        for value in table.iloc[i]:
            text = str(value).strip().lower() if isinstance(value, str) else ""
            if text.startswith("full-time equivalent"):
                return FTE
            if text == "headcount":
                return HEADCOUNT
    raise InputError(path, f"sheet {sheet!r}: the table does not say its unit (full-time equivalents or headcount)")


def _read_table(path: Path) -> pd.DataFrame:
    """The template's cells as text (blank as ''), header in the first row; a file that cannot be
    read at all is an InputError naming it."""
    try:
        return _read_cells(path)
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (byte {exc.start}): save the template as CSV UTF-8") from None
    except (ValueError, OSError, KeyError, zipfile.BadZipFile) as exc:  # a damaged or mislabelled workbook
        raise InputError(
            path, f"cannot be read as a {path.suffix.lower()} file ({type(exc).__name__}: {exc})"
        ) from None


def _read_cells(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".csv":
        # Blank lines are kept (as empty rows), so every row keeps its spreadsheet row number.
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=False)
        return frame.fillna("")  # a blank line's cells are missing, not empty text
    frame = pd.read_excel(path, dtype=object, engine="openpyxl")
    return frame.map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else v)


def _as_date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _number(value) -> float | None:
    """A finite number, or None (text, nan and infinity are not numbers of staff)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        try:
            number = float(str(value).strip().replace(",", ""))
        except ValueError:
            return None
    return number if math.isfinite(number) else None


def read_template(path: Path, resolver: AliasResolver, sectors: dict[str, str]) -> WorkforceFile:
    """A workforce template: one figure per organisation x staff group (and one more for its FTE).
    `sectors`: org_id -> sector, for the staff groups an organisation may have."""
    table = _read_table(path)
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in TEMPLATE_REQUIRED if c not in table.columns]
    if missing:
        raise InputError(path, f"not a workforce template: no column(s) {missing} (it needs {TEMPLATE_REQUIRED})")
    groups = {sector: {g.id for g in gs} for sector, gs in staff_groups().items()}
    figures, quarantine, excluded, seen, accepted = [], [], {}, {}, 0

    def bad(row: int, column: str, value, reason: str) -> None:
        quarantine.append(
            {"source_file": path.name, "source_row": row, "column": column, "value": str(value), "reason": reason}
        )

    for index, record in enumerate(table.to_dict("records")):
        row = index + 2  # the header is row 1, as a spreadsheet shows it
        if all(str(v).strip() == "" for v in record.values()):
            excluded["blank_row"] = excluded.get("blank_row", 0) + 1
            continue
        org_id = resolver.resolve("organisation", record["organisation"])
        if org_id is None:
            hint = resolver.suggest("organisation", record["organisation"])
            bad(
                row,
                "organisation",
                record["organisation"],
                "unknown organisation" + (f" (did you mean {hint[0]!r}?)" if hint else ""),
            )
            continue
        group = str(record["staff_group"]).strip()
        allowed = groups.get(sectors.get(org_id, ""), set())
        if group not in allowed:
            bad(
                row,
                "staff_group",
                group,
                f"not a staff group of a {sectors.get(org_id)} partner: use one of {sorted(allowed)}",
            )
            continue
        headcount = _number(record["headcount"])
        if headcount is None or headcount < 0 or headcount != int(headcount):
            bad(row, "headcount", record["headcount"], "not a whole number of staff")
            continue
        fte = _number(record.get("fte", "")) if str(record.get("fte", "")).strip() else None
        if str(record.get("fte", "")).strip() and (fte is None or fte < 0):
            bad(row, "fte", record["fte"], "not a number of full-time equivalents")
            continue
        as_at = _as_date(record["as_at"])
        if as_at is None:
            bad(row, "as_at", record["as_at"], "not a date (YYYY-MM-DD)")
            continue
        source = str(record["source"]).strip()
        if not source:
            bad(row, "source", "", "no source: say where the figure comes from")
            continue
        key = (org_id, group, as_at)
        if key in seen:
            bad(row, "staff_group", group, f"repeats row {seen[key]} (the same organisation, group and date)")
            continue
        seen[key] = row
        accepted += 1
        for unit, value in ((HEADCOUNT, headcount), (FTE, fte)):
            if value is not None:
                figures.append(
                    {
                        "org_id": org_id,
                        "staff_group": group,
                        "unit": unit,
                        "value": value,
                        "as_at": as_at,
                        "source": source,
                        "source_file": path.name,
                        "source_sheet": None,
                        "source_row": row,
                    }
                )
    return WorkforceFile(
        path,
        TEMPLATE,
        _figures_frame(figures),
        _quarantine_frame(quarantine),
        rows_read=len(table),
        rows_accepted=accepted,
        excluded=excluded,
        layout=f"template ({path.suffix.lower().lstrip('.')}): columns {', '.join(map(str, table.columns))}",
    )


def is_home_office_workbook(path: Path) -> bool:
    """Whether an ODS holds a Home Office police workforce table (by a sheet's title)."""
    try:
        sheets = pd.read_excel(path, engine="odf", header=None, sheet_name=None, nrows=1)
    except Exception:  # noqa: BLE001  (any unreadable file is simply not one)
        return False
    titles = [g.home_office_title for g in staff_groups()["police"] if g.home_office_title]
    return any(
        not table.empty and any(_title(table.iat[0, 0]).startswith(t) for t in titles) for table in sheets.values()
    )


def read_workforce_file(path: Path, resolver: AliasResolver, sectors: dict[str, str]) -> WorkforceFile:
    """A workforce file of either kind: the Home Office tables (ODS) or the template (CSV, XLSX)."""
    if path.suffix.lower() == ".ods":
        return read_home_office(path)
    return read_template(path, resolver, sectors)


@dataclass
class Workforce:
    """Every workforce file of a folder read: their figures, quarantined rows and accounting."""

    figures: pd.DataFrame
    quarantine: pd.DataFrame
    quality: pd.DataFrame


def read_workforce(folder: Path, reference) -> Workforce:
    """Read every workforce file in `folder` (none, or no folder: empty tables, nothing known)."""
    resolver = AliasResolver(reference)
    sectors = dict(zip(reference.organisations["org_id"], reference.organisations["sector"]))
    files = [read_workforce_file(path, resolver, sectors) for path in workforce_files(folder)]
    figures = pd.concat([f.figures for f in files], ignore_index=True) if files else _figures_frame([])
    # One figure per organisation x group x unit x date: two files giving it is a mistake to fix.
    duplicated = figures[figures.duplicated(["org_id", "staff_group", "unit", "as_at"], keep=False)]
    if len(duplicated):
        first = duplicated.iloc[0]
        others = duplicated[
            (duplicated["org_id"] == first["org_id"]) & (duplicated["staff_group"] == first["staff_group"])
        ]
        where = " and ".join(f"{r.source_file} row {r.source_row}" for r in others.itertuples())
        raise InputError(
            first["source_file"],
            f"{first['org_id']} {first['staff_group']} at {first['as_at']} is given twice ({where}): keep one",
            row=int(first["source_row"]),
        )
    quarantine = pd.concat([f.quarantine for f in files], ignore_index=True) if files else _quarantine_frame([])
    quality = pd.DataFrame([f.quality() for f in files], columns=registry.table("workforce_data_quality").names)
    return Workforce(
        figures.sort_values(["org_id", "staff_group", "unit", "as_at"]).reset_index(drop=True), quarantine, quality
    )
