"""Reading a whole outcomes folder: files of one kind that repeat or contradict each other, files
of no kind, the configuration in provenance, and periods straddling the MPS's 2024 re-coding."""

import datetime as dt
import json

import duckdb
import pandas as pd
import pytest
from test_outcomes_fingertips import record
from test_outcomes_fingertips import write as write_fingertips

from tipipeline.errors import InputError
from tipipeline.files import file_sha256
from tipipeline.outcomes.build import combine_populations, read_outcome_folder
from tipipeline.outcomes.files import MAPPING_PATH, OUTCOME_CATALOGUE_PATH
from tipipeline.outcomes.indicators import classification_note
from tipipeline.publish.baseline import input_files
from tipipeline.reference import load_reference


@pytest.fixture(scope="module")
def reference():
    return load_reference()


def people(source_file: str, all_ages: int, row: int = 5) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area_code": ["E09000012"],
            "area_name": ["Hackney"],
            "geography": ["London Borough"],
            "mid_year": [2022],
            "all_ages": [all_ages],
            "aged_10_24": [45_000],
            "source_file": [source_file],
            "source_sheet": ["MYE2 - Persons"],
            "source_row": [row],
        }
    )


def test_two_population_files_agreeing_are_kept_once():
    combined = combine_populations([people("mye22.xlsx", 259_956), people("mye22 copy.xlsx", 259_956, row=9)])
    assert len(combined) == 1 and combined["source_file"].iloc[0] == "mye22.xlsx"


def test_one_population_file_disagreeing_with_itself_says_so():
    with pytest.raises(InputError, match=r"mye22.xlsx, row 9, column 'all_ages': .* in row 5 of this file: correct"):
        combine_populations([pd.concat([people("mye22.xlsx", 259_956), people("mye22.xlsx", 261_000, row=9)])])


def test_two_population_files_disagreeing_name_both():
    with pytest.raises(InputError) as caught:
        combine_populations([people("mye22.xlsx", 259_956), people("mye22 revised.xlsx", 261_000, row=9)])
    message = str(caught.value)
    assert message.startswith("mye22 revised.xlsx, row 9, column 'all_ages'")
    assert "259956 in mye22.xlsx (row 5)" in message and "keep one population file" in message


def test_a_file_of_no_outcome_kind_is_listed_with_its_hash(tmp_path, reference):
    stray = tmp_path / "notes.csv"
    stray.write_text("borough,comment\nHackney,check the March figures\n", encoding="utf-8")
    inputs = read_outcome_folder(tmp_path, reference)
    assert inputs.unrecognised == ["notes.csv"]
    row = inputs.data_quality.set_index("source_file").loc["notes.csv"]
    assert row["source"] == "unrecognised" and row["sha256"] == file_sha256(stray)
    assert json.loads(row["excluded_by_rule"]) == {} and row["rows_read"] == 0
    assert "not an outcome file" in json.loads(row["accounting"])["reason"]


def test_excel_lock_files_are_not_outcome_files(tmp_path, reference):
    (tmp_path / "~$mye22.xlsx").write_bytes(b"\x00owner")  # what Excel leaves beside an open workbook
    inputs = read_outcome_folder(tmp_path, reference)
    assert inputs.unrecognised == [] and inputs.data_quality.empty


def test_fingertips_rows_repeated_across_exports_are_kept_once_or_must_agree(tmp_path, reference):
    write_fingertips(tmp_path / "export-a.csv", [record(), record(area="E09000007", name="Camden")])
    write_fingertips(tmp_path / "export-b.csv", [record()])
    write_fingertips(tmp_path / "export-c.csv", [record(area="E07000240", name="St Albans", value="9.1")])
    inputs = read_outcome_folder(tmp_path, reference)
    assert sorted(inputs.fingertips["area_code"]) == ["E09000007", "E09000012"]
    assert inputs.fingertips.set_index("area_code").loc["E09000012", "source_file"] == "export-a.csv"
    # Every row a reader gave is in the table, outside London, or a repeat kept once from another file.
    accounts = {r.source_file: json.loads(r.accounting) for r in inputs.data_quality.itertuples()}
    assert accounts["export-a.csv"] == {
        "table_rows_given": 2,
        "table_rows_kept": 2,
        "outside_london": 0,
        "repeats_of_an_earlier_row": 0,
    }
    assert (
        accounts["export-b.csv"]["repeats_of_an_earlier_row"] == 1 and accounts["export-b.csv"]["table_rows_kept"] == 0
    )
    assert accounts["export-c.csv"]["outside_london"] == 1
    write_fingertips(tmp_path / "export-b.csv", [record(value="22.5")])
    with pytest.raises(InputError, match=r"export-b.csv, row 2.*published twice with different values"):
        read_outcome_folder(tmp_path, reference)


def test_provenance_records_the_outcome_configuration():
    conn = duckdb.connect()
    conn.execute("CREATE TABLE survey_data_quality (wave VARCHAR, source_file VARCHAR, sha256 VARCHAR)")
    conn.execute("CREATE TABLE audit_data_quality (source_file VARCHAR, sha256 VARCHAR)")
    recorded = {item["file"]: item["sha256"] for item in json.loads(input_files(conn))}
    assert recorded["config/outcomes.yaml"] == file_sha256(MAPPING_PATH)
    assert recorded["config/outcome_indicators.yaml"] == file_sha256(OUTCOME_CATALOGUE_PATH)


def test_a_period_straddling_the_2024_recoding_says_so():
    months = [dt.date(2023, m, 1) for m in range(3, 13)] + [dt.date(2024, 1, 1), dt.date(2024, 2, 1)]
    layouts = ["majortext_lookup_boroughname"] * 10 + ["majortext_upper_2024"] * 2
    note = classification_note(pd.DataFrame({"month": months, "layout": layouts}))
    assert note.startswith("months from 2 MPS classifications (pre_2024 2023-03 to 2023-12, upper_2024 2024-01 to")
    same = pd.DataFrame({"month": months, "layout": ["majortext_boroughname"] * 12})
    assert classification_note(same) is None
