"""`tipipeline check` recognises outcome files by their content and reports each one."""

import csv
import subprocess
import sys

import pytest
from conftest import SHARED

from tipipeline.check import check_files
from tipipeline.outcomes.check import CRIME, FINGERTIPS, POPULATION, outcome_kind

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
