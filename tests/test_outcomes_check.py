"""`tipipeline check` recognises outcome files by their content and reports each one."""

import csv
import subprocess
import sys

import pytest
from conftest import SHARED
from test_outcomes_population import CITY, HACKNEY, PREAMBLE, mye2_rows, workbook
from xls_writer import password_protected_xls

from tipipeline.check import check_files
from tipipeline.outcomes.check import (
    CRIME,
    FINGERTIPS,
    POPULATION,
    check_outcome_file,
    format_outcome_report,
    outcome_kind,
)

OUTCOMES = SHARED / "fixtures" / "outcomes"
CRIME_FILE = OUTCOMES / "MPS Borough Level Crime (most recent 24 months).csv"
FINGERTIPS_FILE = OUTCOMES / "indicators-CountyUA.data.csv"
POPULATION_FILE = OUTCOMES / "mye22final.xlsx"


@pytest.fixture(scope="module")
def real_files():
    files = [CRIME_FILE, FINGERTIPS_FILE, POPULATION_FILE]
    if not all(f.exists() for f in files):
        pytest.skip("the shared outcome fixtures are not present")
    return files


def test_each_real_file_is_recognised_and_reported(real_files):
    assert [outcome_kind(f) for f in real_files] == [CRIME, FINGERTIPS, POPULATION]
    reports = check_files(real_files)
    assert all(r["usable"] for r in reports), [r["reason"] for r in reports]
    crime, fingertips, population = reports
    with CRIME_FILE.open(newline="", encoding="utf-8-sig") as handle:
        records = list(csv.reader(handle))[1:]  # an independent count of the data records
    assert crime["rows_read"] == len(records) == 1574
    total = sum(int(cell) for record in records for cell in record[3:])
    assert f"offences counted {total:,} =" in " ".join(crime["details"])
    assert fingertips["rows_read"] == fingertips["rows_accepted"] + fingertips["rows_excluded"]["category_row"]
    assert "London boroughs 33 of 33" in population["details"][0]


def test_other_files_are_not_taken_for_outcome_files(tmp_path):
    survey = tmp_path / "survey.csv"
    survey.write_text("ResponseId,Q1\nR_1,Agree\n", encoding="utf-8")
    audit = tmp_path / "audit.xlsx"
    audit.write_bytes(b"not a zip")
    assert outcome_kind(survey) is None and outcome_kind(audit) is None
    crime = tmp_path / "crime.csv"
    crime.write_text("Group,SubGroup,BOCU,202601\r\nA,B,Barnet,x\r\n", encoding="utf-8")
    assert outcome_kind(crime) == CRIME
    (report,) = check_files([crime])
    assert not report["usable"] and "crime.csv" in report["reason"]  # the reader's error, named


def test_cli_check_prints_the_outcome_report(real_files):
    result = subprocess.run(
        [sys.executable, "-m", "tipipeline.cli", "check", str(CRIME_FILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "kind: crime; format: majortext_lookup_boroughname" in result.stdout
    assert "boroughs 32; other areas" in result.stdout


# --- .xls population workbooks are checked like .xlsx ones -------------------------------------


def test_xls_population_file_is_reported_like_the_xlsx(tmp_path):
    rows = [*PREAMBLE, *mye2_rows([HACKNEY, CITY]), [None], ["Source: Office for National Statistics"]]
    sheets = {"Contents": [["Contents"]], "MYE2 - Persons ": rows}
    xlsx, xls = workbook(tmp_path / "mye21.xlsx", sheets), workbook(tmp_path / "mye21.xls", sheets)
    assert outcome_kind(xls) == outcome_kind(xlsx) == POPULATION
    reports = check_files([xlsx, xls])
    assert all(r["usable"] for r in reports), [r["reason"] for r in reports]
    for report, path in zip(reports, (xlsx, xls)):
        assert report.pop("file") == str(path)
    assert reports[0] == reports[1]
    assert reports[1]["format"] == "ONS mid-year estimates (mye2_wide, sheet 'MYE2 - Persons ')"
    assert (reports[1]["rows_read"], reports[1]["rows_excluded"]) == (4, {"note_row": 1, "blank_row": 1})
    assert format_outcome_report(reports[0]) == format_outcome_report(reports[1])


def test_unreadable_xls_is_reported_with_the_readers_reason(tmp_path):
    """Only population estimates come as .xls: one that cannot be read, or has no MYE2 sheet, is
    reported as a population file with the reader's reason (not as a survey export)."""
    corrupt = tmp_path / "mye19.xls"
    corrupt.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    locked = password_protected_xls(tmp_path / "locked.xls")
    other = workbook(tmp_path / "other.xls", {"MYE4": [["Code"]]})
    reports = check_files([corrupt, locked, other])
    assert [(r["kind"], r["usable"]) for r in reports] == [(POPULATION, False)] * 3
    assert reports[0]["reason"].startswith(
        "mye19.xls: not a readable Excel 97-2003 workbook (.xls): truncated or corrupt"
    )
    assert reports[1]["reason"].startswith("locked.xls: the workbook is password-protected")
    assert (
        reports[2]["reason"]
        == "other.xls: no 'MYE2 - Persons' (or 'MYE2 - All', 'MYEB1') sheet; the workbook has 'MYE4'"
    )
    # An .xlsx without an MYE2 sheet is not taken for population estimates (a survey export may be one).
    assert outcome_kind(workbook(tmp_path / "other.xlsx", {"MYE4": [["Code"]]})) is None
    # An .xlsx is recognised by its sheets, also when it is an .xls under an .xlsx name.
    renamed = tmp_path / "renamed.xlsx"
    renamed.write_bytes(workbook(tmp_path / "m.xls", {"MYE2 - Persons": [["Code"]]}).read_bytes())
    assert outcome_kind(renamed) == POPULATION
    renamed.write_bytes(other.read_bytes())
    assert outcome_kind(renamed) is None


def test_cli_check_prints_the_xls_population_report(tmp_path):
    path = workbook(tmp_path / "mye21.xls", {"MYE2 - Persons": [*PREAMBLE, *mye2_rows([CITY])]})
    result = subprocess.run(
        [sys.executable, "-m", "tipipeline.cli", "check", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "kind: population; format: ONS mid-year estimates (mye2_wide, sheet 'MYE2 - Persons')" in result.stdout
    assert "rows read 1 = accepted 1 + excluded 0" in result.stdout
    assert "mid-years 2021; areas 1; London boroughs 1 of 33" in result.stdout


def test_a_crime_file_missing_a_measure_says_so(tmp_path):
    path = tmp_path / "no-robbery.csv"
    path.write_text(
        "MajorText,MinorText,BoroughName,202301\r\n"
        "Violence Against the Person,Violence with Injury,Brent,4\r\n"
        "Robbery,Robbery of Personal Propperty,Brent,2\r\n",
        encoding="utf-8",
    )
    report = check_outcome_file(path)
    assert report["usable"]
    missing = [d for d in report["details"] if d.startswith("measures none of whose categories")]
    assert len(missing) == 1 and "robbery" in missing[0] and "violence_with_injury" not in missing[0]
