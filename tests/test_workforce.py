"""Workforce figures as an input (issue 30): the Home Office police workforce tables as published,
the documented template, and where every row goes.

Oracles: a separate small reader of the real ODS at the cell positions SOURCES.md gives (pandas'
odf engine, no package code), the figures SOURCES.md quotes from the publication, constructed
files whose every figure is known, and the sample manifest's list of planted mistakes.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import SAMPLE_RAW, SHARED

from tipipeline.check import check_files, format_report
from tipipeline.errors import ConfigError, InputError
from tipipeline.ingest.workforce import (
    HOME_OFFICE,
    read_home_office,
    read_template,
    read_workforce,
    staff_groups,
)
from tipipeline.reference import AliasResolver, load_reference

REAL_ODS = SHARED / "fixtures" / "workforce" / "police-workforce-sep18-tables.ods"
needs_real_ods = pytest.mark.skipif(not REAL_ODS.is_file(), reason="../shared/fixtures/workforce/ is absent")
# The sheets read, with the group and unit each gives (SOURCES.md, "Sheets").
SHEETS = {
    "Table_1": ("police_officers", "fte"),
    "Table_2": ("police_staff", "fte"),
    "Table_3": ("designated_officers", "fte"),
    "Table_5": ("pcsos", "fte"),
    "Table_6": ("special_constables", "headcount"),
}


def _reference_and_sectors():
    reference = load_reference()
    return reference, dict(zip(reference.organisations["org_id"], reference.organisations["sector"]))


def _oracle_met_figures() -> dict[tuple[str, dt.date], float]:
    """The Met's row (spreadsheet row 42) and the as-at dates (row 6, columns B-D) of each table."""
    found = {}
    for sheet, (group, _) in SHEETS.items():
        table = pd.read_excel(REAL_ODS, engine="odf", header=None, sheet_name=sheet)
        assert table.iat[41, 0] == "Metropolitan Police"
        for column in (1, 2, 3):
            found[(group, pd.Timestamp(table.iat[5, column]).date())] = float(table.iat[41, column])
    return found


@needs_real_ods
def test_the_mets_figures_equal_a_separate_reader_of_the_real_file():
    read = read_home_office(REAL_ODS)
    got = {(r.staff_group, r.as_at): r.value for r in read.figures.itertuples()}
    assert got == _oracle_met_figures()
    units = dict(zip(read.figures["staff_group"], read.figures["unit"]))
    assert units == {group: unit for group, unit in SHEETS.values()}
    assert set(read.figures["org_id"]) == {"E23000001"}
    # The publication's own figures at 30 September 2018 (SOURCES.md, rounded as it prints them).
    at = {g: v for (g, d), v in got.items() if d == dt.date(2018, 9, 30)}
    assert round(at["police_officers"], 2) == 30136.17 and round(at["police_staff"], 2) == 8152.63
    assert round(at["designated_officers"], 2) == 663.87 and round(at["pcsos"], 2) == 1263.24
    assert at["special_constables"] == 2062


@needs_real_ods
def test_every_row_of_the_real_tables_is_accounted_for():
    read = read_home_office(REAL_ODS)
    quality = read.quality()
    assert quality["file_format"] == HOME_OFFICE
    assert quality["rows_accepted"] == len(SHEETS)  # the Met's row of each table read
    assert quality["rows_read"] == quality["rows_accepted"] + quality["rows_quarantined"] + quality["rows_excluded"]
    # Every other force, region and total row of the five tables is excluded by the documented rule.
    oracle_rows = 0
    for sheet in SHEETS:
        # The figures run from spreadsheet row 7 to the first blank row (Table_5 ends at its Total).
        names = pd.read_excel(REAL_ODS, engine="odf", header=None, sheet_name=sheet).iloc[6:, 0]
        block = names.tolist()[
            : next((i for i, n in enumerate(names.tolist()) if not isinstance(n, str) or not n.strip()), len(names))
        ]
        oracle_rows += len(block)
    assert quality["rows_read"] == oracle_rows
    assert json.loads(quality["excluded_by_rule"]) == {"not_a_london_partner": oracle_rows - len(SHEETS)}


def _write_vintage(path: Path, tables: dict[str, list[list]]) -> None:
    with pd.ExcelWriter(path, engine="odf") as writer:
        for sheet, rows in tables.items():
            pd.DataFrame(rows).to_excel(writer, sheet_name=sheet, header=False, index=False)


def _table(title: str, unit: str, met: list, dates=(dt.datetime(2023, 3, 31), dt.datetime(2024, 3, 31))) -> list[list]:
    return [
        [title, None, None],
        [None, None, None],
        ["England and Wales", None, unit],
        [None, "As at:", None],
        [None, *dates],
        ["London ", 9999.0, 9999.0],
        ["London, City of", 700.0, 710.0],
        ["Metropolitan Police", *met],
        ["West Midlands ", 1.0, 1.0],
        ["West Midlands", 2.0, 2.0],
        [None, None, None],
        ["Notes", None, None],
        ["1. Figures are full-time equivalents.", None, None],
    ]


def test_tables_are_found_by_their_titles_whatever_their_numbers(tmp_path):
    """Constructed vintage: other table numbers and sheet names, another order, a table that is not
    read, the unit in another cell; only the titles say what each table is."""
    path = tmp_path / "police-workforce-mar24-tables.ods"
    _write_vintage(
        path,
        {
            "Contents": [["Police workforce, England and Wales, 31 March 2024"]],
            "T9": _table(
                "Table 9: Special constables by police force area, England and Wales", "Headcount", [1500, 1400]
            ),
            "T2": _table(
                "Table 2: Police officers by police force area, England and Wales3",
                "Full-time equivalents",
                [33500.5, 34100.25],
            ),
            "T4": _table(
                "Table 4: Police staff and designated officers combined by police force area",
                "Full-time equivalents",
                [1, 1],
            ),
        },
    )
    read = read_home_office(path)
    got = {(r.staff_group, r.unit, r.as_at): r.value for r in read.figures.itertuples()}
    assert got == {
        ("police_officers", "fte", dt.date(2023, 3, 31)): 33500.5,
        ("police_officers", "fte", dt.date(2024, 3, 31)): 34100.25,
        ("special_constables", "headcount", dt.date(2023, 3, 31)): 1500.0,
        ("special_constables", "headcount", dt.date(2024, 3, 31)): 1400.0,
    }
    assert read.quality()["rows_read"] == 10 and read.quality()["rows_excluded"] == 8


def test_a_met_row_with_no_figure_is_quarantined_and_a_missing_date_left_out(tmp_path):
    path = tmp_path / "tables.ods"
    _write_vintage(
        path,
        {
            "A": _table("Police officers by police force area", "Full-time equivalents", ["..", ".."]),
            "B": _table("Police staff by police force area", "Full-time equivalents", ["..", 8000.0]),
        },
    )
    read = read_home_office(path)
    assert [(r.staff_group, r.as_at, r.value) for r in read.figures.itertuples()] == [
        ("police_staff", dt.date(2024, 3, 31), 8000.0)
    ]
    (row,) = read.quarantine.itertuples()
    assert row.source_row == 8 and row.column == "A" and "not available" in row.reason
    quality = read.quality()
    assert (quality["rows_accepted"], quality["rows_quarantined"]) == (1, 1)


def test_an_ods_without_a_workforce_table_is_named(tmp_path):
    path = tmp_path / "other.ods"
    _write_vintage(path, {"Sheet1": [["Something else entirely"], [1]]})
    with pytest.raises(InputError, match=r"other.ods: no Home Office police workforce table found by its title"):
        read_home_office(path)


TEMPLATE_ROWS = [
    ["organisation", "staff_group", "headcount", "fte", "as_at", "source"],
    ["Camden", "frontline", "2,100", "1900.5", "2024-03-31", "HR system"],  # row 2: 'Camden' is an alias
    ["London Borough of Camden", "managers", "400", "", "2024-03-31", "HR system"],  # row 3: no FTE
    ["Borough of Atlantis", "frontline", "10", "", "2024-03-31", "HR"],  # row 4: unknown organisation
    ["London Borough of Camden", "police_officers", "10", "", "2024-03-31", "HR"],  # row 5: not a council group
    ["London Borough of Camden", "support", "12.5", "", "2024-03-31", "HR"],  # row 6: not a whole number
    ["London Borough of Camden", "support", "300", "-1", "2024-03-31", "HR"],  # row 7: a negative FTE
    ["London Borough of Camden", "support", "300", "", "31/03/2024", "HR"],  # row 8: not an ISO date
    ["London Borough of Camden", "support", "300", "", "2024-03-31", ""],  # row 9: no source
    ["", "", "", "", "", ""],  # row 10: blank
    ["Camden", "managers", "401", "", "2024-03-31", "HR system"],  # row 11: repeats row 3
    ["Metropolitan Police Service", "police_officers", "34000", "33500", "2024-03-31", "HR"],  # row 12
]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_template_accepts_quarantines_and_excludes_every_row(tmp_path, suffix):
    path = tmp_path / f"workforce{suffix}"
    frame = pd.DataFrame(TEMPLATE_ROWS[1:], columns=TEMPLATE_ROWS[0])
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_excel(path, index=False)
    reference, sectors = _reference_and_sectors()
    read = read_template(path, AliasResolver(reference), sectors)
    got = {(r.org_id, r.staff_group, r.unit): r.value for r in read.figures.itertuples()}
    assert got == {
        ("E09000007", "frontline", "headcount"): 2100.0,
        ("E09000007", "frontline", "fte"): 1900.5,
        ("E09000007", "managers", "headcount"): 400.0,
        ("E23000001", "police_officers", "headcount"): 34000.0,
        ("E23000001", "police_officers", "fte"): 33500.0,
    }
    problems = {(r.source_row, r.column): r.reason for r in read.quarantine.itertuples()}
    assert set(problems) == {
        (4, "organisation"),
        (5, "staff_group"),
        (6, "headcount"),
        (7, "fte"),
        (8, "as_at"),
        (9, "source"),
        (11, "staff_group"),
    }
    assert "unknown organisation" in problems[(4, "organisation")]
    assert "repeats row 3" in problems[(11, "staff_group")]
    quality = read.quality()
    assert (quality["rows_read"], quality["rows_accepted"], quality["rows_quarantined"]) == (11, 3, 7)
    assert json.loads(quality["excluded_by_rule"]) == {"blank_row": 1}


def test_blank_lines_keep_row_numbers_and_nan_or_infinity_is_no_headcount(tmp_path):
    path = tmp_path / "workforce.csv"
    path.write_text(
        "organisation,staff_group,headcount,fte,as_at,source\n"
        "\n"  # row 2: a blank line
        "Camden,frontline,nan,,2024-03-31,HR\n"  # row 3
        "Camden,managers,inf,,2024-03-31,HR\n"  # row 4
        "Camden,support,300,inf,2024-03-31,HR\n"  # row 5
        "Camden,supervisors,200,,2024-03-31,HR\n",  # row 6
        encoding="utf-8",
    )
    reference, sectors = _reference_and_sectors()
    read = read_template(path, AliasResolver(reference), sectors)
    assert {(r.source_row, r.column) for r in read.quarantine.itertuples()} == {
        (3, "headcount"),
        (4, "headcount"),
        (5, "fte"),
    }
    assert read.figures["source_row"].tolist() == [6]
    quality = read.quality()
    assert (quality["rows_read"], quality["rows_accepted"], quality["rows_excluded"]) == (5, 1, 1)


@pytest.mark.parametrize(
    "name, content, message",
    [
        (
            "latin1.csv",
            "organisation,staff_group,headcount,as_at,source\nBromley,frontline,5,2024-03-31,Caf\xe9\n".encode(
                "latin-1"
            ),
            "not UTF-8 text",
        ),
        ("broken.xlsx", b"PK\x03\x04 not really a workbook", "cannot be read as a .xlsx file"),
        ("broken.ods", b"PK\x03\x04 not really a spreadsheet", "cannot be read as an OpenDocument spreadsheet"),
    ],
)
def test_a_file_that_cannot_be_read_is_an_error_naming_it(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    reference, sectors = _reference_and_sectors()
    from tipipeline.ingest.workforce import read_workforce_file

    with pytest.raises(InputError, match=rf"^{name}: {message}"):
        read_workforce_file(path, AliasResolver(reference), sectors)


def test_a_template_without_its_columns_is_named(tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text("organisation,headcount\nCamden,10\n", encoding="utf-8")
    reference, sectors = _reference_and_sectors()
    with pytest.raises(
        InputError, match=r"staff.csv: not a workforce template: no column\(s\) \['staff_group', 'as_at', 'source'\]"
    ):
        read_template(path, AliasResolver(reference), sectors)


def test_one_figure_given_by_two_files_is_an_error_naming_both(tmp_path):
    rows = "organisation,staff_group,headcount,as_at,source\nCamden,frontline,2100,2024-03-31,HR\n"
    (tmp_path / "a.csv").write_text(rows, encoding="utf-8")
    (tmp_path / "b.csv").write_text(rows, encoding="utf-8")
    with pytest.raises(
        InputError,
        match=r"a.csv, row 2: E09000007 frontline at 2024-03-31 is given twice \(a.csv row 2 and b.csv row 2\)",
    ):
        read_workforce(tmp_path, load_reference())


def test_no_folder_means_empty_tables(tmp_path):
    read = read_workforce(tmp_path / "workforce", load_reference())
    assert read.figures.empty and read.quarantine.empty and read.quality.empty


def test_a_role_answer_in_two_groups_is_a_config_error(tmp_path):
    path = tmp_path / "staff_groups.yaml"
    path.write_text(
        "sectors:\n  council:\n    groups:\n      - {id: a, name: A, roles: [Manager]}\n"
        "      - {id: b, name: B, roles: [Manager]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"sectors.council: role answer\(s\) in two groups: \['Manager'\]"):
        staff_groups(path)


def test_the_sample_workforce_covers_every_partner_and_quarantines_the_planted_rows(built_sample):
    manifest = json.loads((SAMPLE_RAW / "sample_manifest.json").read_text(encoding="utf-8"))
    planted = [e for e in manifest["dirty_rows"] if e["file"].startswith("workforce/")]
    quarantined = {(e["row"], e["column"]) for e in planted if e["expected"] == "quarantined"}
    with duckdb.connect(str(built_sample.warehouse_path), read_only=True) as conn:
        organisations = {r[0] for r in conn.execute("SELECT DISTINCT org_id FROM stg_workforce").fetchall()}
        rows = set(conn.execute('SELECT source_row, "column" FROM workforce_quarantine').fetchall())
        stale = conn.execute("SELECT DISTINCT org_id FROM stg_workforce WHERE as_at < DATE '2020-01-01'").fetchall()
    assert organisations == set(load_reference().organisations["org_id"])
    assert rows == quarantined and len(quarantined) == 2
    assert len(stale) == 1 and any(e["kind"] == "stale_as_at" for e in planted)


@needs_real_ods
def test_check_reports_a_workforce_file_anywhere(tmp_path):
    (report,) = check_files([REAL_ODS])
    assert report["kind"] == "workforce" and report["usable"] and report["organisations"] == ["E23000001"]
    text = format_report(report)
    assert "Table_1: police officers (fte)" in text and "special constables (headcount)" in text
    assert "total fte at 2018-09-30: 40,215.91" in text  # 30,136.17 + 8,152.63 + 663.87 + 1,263.24
    folder = tmp_path / "data" / "raw" / "workforce"
    folder.mkdir(parents=True)
    (folder / "staff.csv").write_text(
        "organisation,staff_group,headcount,as_at,source\nAtlantis,frontline,1,2024-03-31,HR\nCamden,frontline,9,2024-03-31,HR\n",
        encoding="utf-8",
    )
    (report,) = check_files([folder / "staff.csv"])
    assert report["rows_quarantined"] == 1
    assert "row 2, column 'organisation': unknown organisation" in format_report(report)
