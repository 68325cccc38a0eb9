"""MPS "Borough Level Crime" reader: the real release, and a small constructed file per quirk."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pytest
from conftest import SHARED

from tipipeline.errors import ConfigError, InputError
from tipipeline.outcomes.crime import (
    AVIATION_SECURITY,
    COVERAGE,
    HEATHROW,
    STATUSES,
    accounting,
    category_key,
    combine_releases,
    complete_grid,
    coverage,
    load_outcome_mapping,
    map_outcomes,
    read_crime_file,
)
from tipipeline.reference import load_reference

REAL = SHARED / "fixtures" / "outcomes" / "MPS Borough Level Crime (most recent 24 months).csv"
needs_real = pytest.mark.skipif(not REAL.exists(), reason=f"real MPS release not present at {REAL}")

HEADERS = {
    "borough_major_minor": ["Borough", "Major Category", "Minor Category"],
    "majortext_boroughname": ["MajorText", "MinorText", "BoroughName"],
    "majortext_lookup_boroughname": ["MajorText", "MinorText", "LookUp_BoroughName"],
    "majortext_upper_2024": ["MajorText", "MinorText", "BoroughName"],
    "group_subgroup_bocu": ["Group", "SubGroup", "BOCU"],
}
VAP, VWI = "Violence Against the Person", "Violence with Injury"


@pytest.fixture(scope="module")
def reference():
    return load_reference()


@pytest.fixture(scope="module")
def mapping():
    return load_outcome_mapping()


def row(layout: str, area: str, major: str, minor: str, *counts) -> list:
    """One data row in the column order of `layout` (the 2018 layout puts the borough first)."""
    if layout == "borough_major_minor":
        return [area, major, minor, *counts]
    return [major, minor, area, *counts]


def write(
    path: Path,
    header: list[str],
    rows: list[list],
    months=("202301", "202302"),
    newline="\r\n",
    encoding="utf-8",
    bom=False,
) -> Path:
    """Write a constructed MPS file with the csv module (quoting as the MPS does)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow([*header, *months])
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def balanced(file, mapping, supply=None) -> dict:
    """The accounting invariant: every cell and every count lands in exactly one place."""
    account = accounting(file, mapping, supply)
    assert account["cells_read"] == len(file.cells) == sum(account[f"cells_{s}"] for s in STATUSES)
    assert account["count_total"] == int(file.cells["count"].sum())
    assert account["count_total"] == sum(account[f"count_{s}"] for s in STATUSES)
    assert account["count_unmapped_unknown"] <= account["count_unmapped"]
    return account


def raw_total(path: Path) -> int:
    """Independent oracle: the sum of every count cell, read with the csv module alone."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        records = list(csv.reader(handle))
    return sum(int(cell) for record in records[1:] for cell in record[3:] if cell.strip())


def measure(measures, measure_id: str, gss_code: str, month: dt.date) -> int:
    hit = measures[
        (measures["measure_id"] == measure_id) & (measures["gss_code"] == gss_code) & (measures["month"] == month)
    ]
    assert len(hit) == 1
    return int(hit["count"].iloc[0])


# --- the real release -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(reference):
    return read_crime_file(REAL, reference)


@pytest.fixture(scope="module")
def oracle():
    """The raw file as the csv module reads it: header and records, nothing interpreted."""
    with REAL.open(newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))
    return records[0], records[1:]


@needs_real
def test_real_release_layout_months_and_rows(real, oracle):
    header, records = oracle
    assert real.layout == "majortext_lookup_boroughname"
    assert real.family == "pre_2024"
    assert real.line_ending == "CRLF" and real.encoding == "utf-8"
    assert real.rows_read == len(records) == 1574 and real.rows_blank == 0
    assert real.months[0] == dt.date(2022, 2, 1) and real.months[-1] == dt.date(2024, 1, 1)
    assert len(real.months) == 24 and [m.strftime("%Y%m") for m in real.months] == header[3:]
    assert len(real.cells) == 1574 * 24


@needs_real
def test_real_release_areas(real, oracle):
    cells = real.cells
    boroughs = cells.loc[cells["area_kind"] == "borough", "gss_code"].unique()
    assert len(boroughs) == 32 and COVERAGE.keys().isdisjoint(boroughs)
    assert set(cells.loc[cells["area_kind"] == "non_borough", "area_name"]) == {HEATHROW}
    assert "City of London" not in set(cells["area_name"])  # its own police force: never published
    assert {record[2] for record in oracle[1]} == set(cells["area_name"])
    # Minor names cut at 50 characters and quoted (they hold commas) come through as published.
    assert "Racially or Religiously Aggravated Public Fear, Al" in set(cells["minor_category"])


@needs_real
def test_real_release_accounting_balances_against_the_raw_file(real, mapping):
    account = balanced(real, mapping)
    assert account["count_total"] == raw_total(REAL) == 1_804_498
    assert account["count_unmapped_unknown"] == 0  # every category of the release is in outcomes.yaml
    assert account["count_non_borough"] > 0 and account["count_duplicate_row"] == 0


@needs_real
def test_real_release_cells_match_an_independent_reader(real, oracle):
    header, records = oracle
    column = header.index("202305")
    for record in records[:: len(records) // 25]:
        cell = real.cells[
            (real.cells["area_name"] == record[2])
            & (real.cells["minor_category"] == record[1])
            & (real.cells["month"] == dt.date(2023, 5, 1))
        ]
        assert int(cell["count"].iloc[0]) == int(record[column])


@needs_real
def test_real_release_measures_match_an_independent_sum(real, oracle, mapping):
    header, records = oracle
    monthly, supply = combine_releases([real])
    assert set(supply["source_file"]) == {REAL.name}
    measures, unmapped = map_outcomes(monthly, mapping)
    column = header.index("202312")
    robbery = sum(int(r[column]) for r in records if r[2] == "Westminster" and r[0] == "Robbery")
    assert measure(measures, "robbery", "E09000033", dt.date(2023, 12, 1)) == robbery > 0
    vap = sum(int(r[column]) for r in records if r[2] == "Croydon" and r[0] == VAP)
    assert measure(measures, "violence_against_the_person", "E09000008", dt.date(2023, 12, 1)) == vap > 0
    weapons = sum(int(r[column]) for r in records if r[2] == "Lambeth" and r[0] == "Possession of Weapons")
    assert measure(measures, "possession_of_weapons", "E09000022", dt.date(2023, 12, 1)) == weapons
    assert unmapped["known"].all() and len(measures) == 5 * 32 * 24
    # Heathrow's violence is in no borough's figure: London's total equals the boroughs' rows only.
    london = sum(int(r[column]) for r in records if r[0] == VAP and r[2] != HEATHROW)
    month_vap = measures[
        (measures["measure_id"] == "violence_against_the_person") & (measures["month"] == dt.date(2023, 12, 1))
    ]
    assert int(month_vap["count"].sum()) == london


# --- layouts, line endings, encodings ---------------------------------------------------------

LAYOUT_CASES = [
    ("borough_major_minor", VAP, "Wounding/GBH", "Robbery", "Personal Property"),
    ("majortext_boroughname", VAP, VWI, "Robbery", "Robbery of Personal Property"),
    ("majortext_lookup_boroughname", VAP, VWI, "Robbery", "Robbery of Personal Property"),
    ("majortext_upper_2024", VAP.upper(), VWI.upper(), "ROBBERY", "ROBBERY OF PERSONAL PROPERTY"),
    ("group_subgroup_bocu", VAP.upper(), VWI.upper(), "ROBBERY", "ROBBERY OF PERSONAL PROPERTY"),
]


@pytest.mark.parametrize(("layout", "vap", "vwi", "rob", "personal"), LAYOUT_CASES)
def test_each_layout_is_detected_and_maps(tmp_path, reference, mapping, layout, vap, vwi, rob, personal):
    rows = [
        row(layout, "Croydon", vap, vwi, 7, 9),
        row(layout, "Croydon", rob, personal, 3, 0),
        row(layout, "Barking and Dagenham", vap, vwi, 1, 2),
    ]
    path = write(tmp_path / f"{layout}.csv", HEADERS[layout], rows)
    file = read_crime_file(path, reference)
    assert file.layout == layout and file.header == HEADERS[layout]
    assert balanced(file, mapping)["count_total"] == raw_total(path) == 22
    measures, unmapped = map_outcomes(combine_releases([file])[0], mapping)
    january = dt.date(2023, 1, 1)
    assert measure(measures, "violence_with_injury", "E09000008", january) == 7
    assert measure(measures, "violence_against_the_person", "E09000008", january) == 7
    assert measure(measures, "robbery", "E09000008", january) == 3
    assert measure(measures, "violence_with_injury", "E09000002", dt.date(2023, 2, 1)) == 2
    assert unmapped.empty


def test_upper_case_lookup_header_is_the_2024_recoding(tmp_path, reference):
    path = write(
        tmp_path / "upper.csv", HEADERS["majortext_lookup_boroughname"], [[VAP.upper(), VWI.upper(), "Brent", 1, 2]]
    )
    assert read_crime_file(path, reference).layout == "majortext_upper_2024"


def test_one_mixed_case_category_keeps_the_pre_2024_layout(tmp_path, reference):
    rows = [[VAP.upper(), VWI.upper(), "Brent", 1, 2], ["Robbery", "Robbery of Personal Property", "Brent", 0, 1]]
    path = write(tmp_path / "mixed.csv", HEADERS["majortext_boroughname"], rows)
    assert read_crime_file(path, reference).layout == "majortext_boroughname"


@pytest.mark.parametrize(("newline", "expected"), [("\r\n", "CRLF"), ("\n", "LF")])
def test_crlf_and_lf_read_alike(tmp_path, reference, mapping, newline, expected):
    rows = [[VAP, VWI, "Brent", 4, 5], ["Robbery", "Robbery of Personal Property", "Brent", 6, 7]]
    file = read_crime_file(
        write(tmp_path / "f.csv", HEADERS["majortext_boroughname"], rows, newline=newline), reference
    )
    assert file.line_ending == expected
    assert file.cells["count"].tolist() == [4, 5, 6, 7]
    assert file.cells["source_row"].tolist() == [2, 2, 3, 3]
    balanced(file, mapping)


@pytest.mark.parametrize(
    ("encoding", "bom", "expected"),
    [("utf-8", True, "utf-8-sig"), ("utf-8", False, "utf-8"), ("utf-16", False, "utf-16")],
)
def test_utf8_with_and_without_bom(tmp_path, reference, encoding, bom, expected):
    path = write(
        tmp_path / "f.csv",
        HEADERS["group_subgroup_bocu"],
        [["ROBBERY", "ROBBERY OF PERSONAL PROPERTY", "Brent", 1, 2]],
        encoding=encoding,
        bom=bom,
    )
    file = read_crime_file(path, reference)
    assert file.encoding == expected and file.layout == "group_subgroup_bocu"
    assert not any("Windows-1252" in note for note in file.notes)


def test_cp1252_is_read_and_reported(tmp_path, reference, mapping):
    rows = [["Theft", "Théft from Café", "Brent", 2, 3], [VAP, VWI, "Brent", 1, 1]]
    path = write(tmp_path / "excel.csv", HEADERS["majortext_boroughname"], rows, encoding="cp1252")
    file = read_crime_file(path, reference)
    assert file.encoding == "cp1252" and any("Windows-1252" in note for note in file.notes)
    assert "Théft from Café" in set(file.cells["minor_category"])
    account = balanced(file, mapping)
    assert account["count_unmapped_unknown"] == 5 and "Windows-1252" in account["notes"]


def test_blank_lines_and_trailing_empty_columns_are_excluded_by_rule(tmp_path, reference, mapping):
    path = tmp_path / "blank.csv"
    path.write_text(
        "MajorText,MinorText,BoroughName,202301,202302,\r\n"
        + f"{VAP},{VWI},Brent,1,2,\r\n\r\n"
        + f"{VAP},{VWI},Barnet,3,4,\r\n"
    )
    file = read_crime_file(path, reference)
    assert (file.rows_read, file.rows_blank) == (3, 1)
    assert file.cells["source_row"].unique().tolist() == [2, 4]  # spreadsheet rows: the blank line is row 3
    assert balanced(file, mapping)["count_total"] == 10


# --- areas, coverage, sparse files -------------------------------------------------------------


def test_non_borough_areas_are_kept_counted_and_never_in_borough_figures(tmp_path, reference, mapping):
    rows = [
        [VAP, VWI, "Croydon", 5, 5],
        [VAP, VWI, HEATHROW, 7, 8],
        [VAP, VWI, "Unknown", 2, 1],
        [VAP, VWI, "Heathrow", 1, 0],
    ]
    file = read_crime_file(write(tmp_path / "areas.csv", HEADERS["majortext_boroughname"], rows), reference)
    kinds = file.cells.groupby("area_name")["area_kind"].first().to_dict()
    assert kinds == {"Croydon": "borough", HEATHROW: "non_borough", "Unknown": "non_borough", "Heathrow": "non_borough"}
    assert file.cells.loc[file.cells["area_kind"] == "non_borough", "gss_code"].isna().all()
    account = balanced(file, mapping)
    assert account["count_non_borough"] == 19 and account["count_mapped"] == 10
    measures, _ = map_outcomes(file.cells, mapping)
    assert int(measures.loc[measures["measure_id"] == "violence_with_injury", "count"].sum()) == 10


def test_aviation_security_rows_repeating_heathrow_are_flagged(tmp_path, reference, mapping):
    rows = [
        [VAP, VWI, HEATHROW, 7, 8],
        ["Robbery", "Robbery of Personal Property", HEATHROW, 1, 2],
        [VAP, VWI, AVIATION_SECURITY, 7, 8],  # repeats Heathrow exactly
        ["Robbery", "Robbery of Personal Property", AVIATION_SECURITY, 1, 3],  # differs in one month
        [VAP, VWI, "Hillingdon", 4, 4],
    ]
    file = read_crime_file(write(tmp_path / "aviation.csv", HEADERS["majortext_lookup_boroughname"], rows), reference)
    aviation = file.cells[file.cells["area_name"] == AVIATION_SECURITY]
    assert (aviation["area_kind"] == "non_borough").all()
    flagged = aviation.groupby("minor_category")["duplicates_area"].first()
    assert flagged[VWI] == HEATHROW and flagged["Robbery of Personal Property"] is None
    account = balanced(file, mapping)
    assert account["count_non_borough"] == 15 + 3 + 15 + 4  # still counted, once per published cell
    assert account["count_non_borough_duplicating"] == 15
    measures, _ = map_outcomes(file.cells, mapping)
    assert int(measures.loc[measures["measure_id"] == "violence_with_injury", "count"].sum()) == 8


def test_city_of_london_is_not_covered_never_zero(tmp_path, reference, mapping):
    table = coverage([dt.date(2023, 1, 1), dt.date(2023, 2, 1)], reference)
    assert len(table) == 33 * 2
    city = table[table["gss_code"] == "E09000001"]
    assert not city["covered"].any() and city["reason"].str.contains("City of London Police").all()
    assert table.loc[table["gss_code"] != "E09000001", "covered"].all()
    file = read_crime_file(
        write(tmp_path / "f.csv", HEADERS["majortext_boroughname"], [[VAP, VWI, "Brent", 1, 1]]), reference
    )
    measures, _ = map_outcomes(file.cells, mapping)
    assert "E09000001" not in set(measures["gss_code"])
    assert "E09000001" not in set(complete_grid(file.cells, reference)["gss_code"])
    everyone = [[VAP, VWI, name, 1, 1] for name in reference.boroughs["name"] if name != "City of London"]
    full = read_crime_file(write(tmp_path / "all.csv", HEADERS["majortext_boroughname"], everyone), reference)
    measures, _ = map_outcomes(full.cells, mapping)
    assert "E09000001" not in set(measures["gss_code"]) and measures["gss_code"].nunique() == 32


def test_city_of_london_rows_if_ever_published_stay_out_of_borough_figures(tmp_path, reference, mapping):
    rows = [[VAP, VWI, "City of London", 3, 3], [VAP, VWI, "Brent", 1, 1]]
    file = read_crime_file(write(tmp_path / "city.csv", HEADERS["majortext_boroughname"], rows), reference)
    city = file.cells[file.cells["area_name"] == "City of London"]
    assert (city["area_kind"] == "non_borough").all() and city["gss_code"].isna().all()
    assert balanced(file, mapping)["count_non_borough"] == 6


def test_sparse_rows_mean_zero(tmp_path, reference, mapping):
    rows = [
        [VAP, VWI, "Croydon", 5, 6],
        ["Robbery", "Robbery of Personal Property", "Croydon", 2, 0],
        [VAP, VWI, "Barnet", 1, 1],  # Barnet has no robbery row: 0 robberies in both months
    ]
    file = read_crime_file(write(tmp_path / "sparse.csv", HEADERS["majortext_boroughname"], rows), reference)
    assert len(file.cells) == 6  # only published cells in the long frame
    grid = complete_grid(file.cells, reference)
    assert len(grid) == 32 * 2 * 2 and grid["published"].sum() == 6
    barnet = grid[(grid["gss_code"] == "E09000003") & (grid["minor_category"] == "Robbery of Personal Property")]
    assert barnet["count"].tolist() == [0, 0] and not barnet["published"].any()
    measures, _ = map_outcomes(file.cells, mapping)
    assert measure(measures, "robbery", "E09000003", dt.date(2023, 1, 1)) == 0
    assert measure(measures, "robbery", "E09000008", dt.date(2023, 1, 1)) == 2


def test_a_borough_absent_from_a_file_is_missing_not_zero(tmp_path, reference, mapping):
    # Every borough records crime every month: a borough with no row at all was left out of the file.
    rows = [[VAP, VWI, "Croydon", 5, 6], [VAP, VWI, "Barnet", 1, 1]]
    file = read_crime_file(write(tmp_path / "two.csv", HEADERS["majortext_boroughname"], rows), reference)
    measures, _ = map_outcomes(file.cells, mapping)
    assert set(measures["gss_code"]) == {"E09000008", "E09000003"}  # Brent and the other 29: no rows, not 0
    assert any("missing from every measure (not 0)" in note and "Brent" in note for note in file.notes)
    account = balanced(file, mapping)
    assert len(account["boroughs_absent"]) == 30 and "Brent" in account["boroughs_absent"]
    assert "City of London" not in account["boroughs_absent"]  # not covered, so never expected


def test_a_measure_with_none_of_its_categories_in_a_file_is_missing_not_zero(tmp_path, reference, mapping):
    # A file with no robbery category at all (say an unverified new spelling): robbery is not 0 there.
    rows = [[VAP, VWI, "Croydon", 5, 6], ["Robbery", "Robbery of Personal Propperty", "Croydon", 2, 3]]
    file = read_crime_file(write(tmp_path / "typo.csv", HEADERS["majortext_boroughname"], rows), reference)
    measures, unmapped = map_outcomes(file.cells, mapping)
    assert "robbery" not in set(measures["measure_id"])
    assert measure(measures, "violence_with_injury", "E09000008", dt.date(2023, 2, 1)) == 6
    assert unmapped.loc[~unmapped["known"], "count"].sum() == 5  # the unknown spelling is reported
    assert "robbery" in balanced(file, mapping)["measures_absent"]


def test_a_row_repeated_under_another_name_of_the_borough_is_counted_once(tmp_path, reference, mapping):
    # Two names normalise_name keeps apart and only the alias list joins.
    rows = [[VAP, VWI, "Westminster", 4, 5], [VAP, VWI, "City of Westminster", 4, 5]]
    file = read_crime_file(write(tmp_path / "alias.csv", HEADERS["majortext_boroughname"], rows), reference)
    assert file.cells["duplicate_of_row"].tolist() == [pd.NA, pd.NA, 2, 2]
    measures, _ = map_outcomes(file.cells, mapping)
    assert measure(measures, "violence_with_injury", "E09000033", dt.date(2023, 2, 1)) == 5
    rows[1][4] = 6
    with pytest.raises(InputError, match=r"alias2.csv, row 3, column '202302': repeats .* row of row 2"):
        read_crime_file(write(tmp_path / "alias2.csv", HEADERS["majortext_boroughname"], rows), reference)


def test_exact_repeated_row_is_flagged_and_counted_once_in_figures(tmp_path, reference, mapping):
    rows = [[VAP, VWI, "Brent", 4, 5], [VAP, VWI, "Brent", 4, 5]]
    file = read_crime_file(write(tmp_path / "twice.csv", HEADERS["majortext_boroughname"], rows), reference)
    assert file.cells["duplicate_of_row"].tolist() == [pd.NA, pd.NA, 2, 2]
    account = balanced(file, mapping)
    assert (account["count_mapped"], account["count_duplicate_row"]) == (9, 9)
    measures, _ = map_outcomes(file.cells, mapping)
    assert measure(measures, "violence_with_injury", "E09000005", dt.date(2023, 2, 1)) == 5


# --- categories, the mapping and unmapped categories --------------------------------------------


def test_category_key_matches_renamed_categories():
    assert category_key("PUBLIC FEAR ALARM OR DISTRESS") == category_key("Public Fear, Alarm or Distress")
    assert category_key("Burglary - Business and Community") == category_key("Burglary Business and Community")
    assert category_key("Other Fraud & Forgery") == category_key("OTHER FRAUD AND FORGERY")
    assert category_key("  Wounding/GBH ") == "WOUNDING GBH"


def test_renamed_category_across_releases_maps_to_the_same_measure(tmp_path, reference, mapping):
    old = write(
        tmp_path / "MPS Borough Level Crime 2023-01.csv",
        HEADERS["majortext_lookup_boroughname"],
        [
            [VAP, "Violence with Injury", "Ealing", 10, 11],
            ["Public Order Offences", "Public Fear Alarm or Distress", "Ealing", 4, 4],
        ],
        months=("202301", "202302"),
    )
    new = write(
        tmp_path / "MPS Borough Level Crime 2023-04.csv",
        HEADERS["majortext_boroughname"],
        [
            [VAP.upper(), "VIOLENCE WITH INJURY", "Ealing", 12, 13],
            ["PUBLIC ORDER OFFENCES", "PUBLIC FEAR, ALARM OR DISTRESS", "Ealing", 5, 5],
        ],
        months=("202303", "202304"),
    )
    files = [read_crime_file(old, reference), read_crime_file(new, reference)]
    assert [f.layout for f in files] == ["majortext_lookup_boroughname", "majortext_upper_2024"]
    measures, unmapped = map_outcomes(combine_releases(files)[0], mapping)
    ealing = measures[(measures["measure_id"] == "violence_with_injury") & (measures["gss_code"] == "E09000009")]
    assert ealing["count"].tolist() == [10, 11, 12, 13]
    assert unmapped["category_key"].unique().tolist() == ["PUBLIC FEAR ALARM OR DISTRESS"]
    assert unmapped["known"].all() and unmapped["count"].sum() == 18
    for file in files:
        balanced(file, mapping)


def test_unmapped_category_is_reported_never_dropped(tmp_path, reference, mapping):
    rows = [
        [VAP, VWI, "Brent", 4, 5],
        ["Anti-social Behaviour", "Noise Nuisance", "Brent", 30, 31],
        ["Theft", "Shoplifting", "Brent", 2, 2],
    ]
    file = read_crime_file(write(tmp_path / "new-category.csv", HEADERS["majortext_boroughname"], rows), reference)
    _, unmapped = map_outcomes(file.cells, mapping)
    unknown = unmapped[~unmapped["known"]]
    assert unknown[["source_file", "minor_category", "cells", "count"]].values.tolist() == [
        ["new-category.csv", "Noise Nuisance", 2, 61]
    ]
    assert unmapped.loc[unmapped["known"], "minor_category"].tolist() == ["Shoplifting"]
    account = balanced(file, mapping)
    assert (account["count_mapped"], account["count_unmapped"], account["count_unmapped_unknown"]) == (9, 65, 61)


def test_mapping_defines_the_five_measures_for_every_family(mapping):
    ids = {m.id for m in mapping.measures}
    assert ids >= {
        "violence_against_the_person",
        "violence_with_injury",
        "robbery",
        "possession_of_weapons",
        "sexual_offences",
    }
    for m in mapping.measures:
        assert set(m.categories) == {"pre_2024", "upper_2024", "group_2026"} and m.name and m.definition
    links = mapping.links
    vwi = links[(links["family"] == "pre_2024") & (links["category_key"] == "VIOLENCE WITH INJURY")]
    assert set(vwi["measure_id"]) == {"violence_against_the_person", "violence_with_injury"}


def test_a_category_in_a_measure_and_not_measured_is_a_config_error(tmp_path):
    bad = tmp_path / "outcomes.yaml"
    bad.write_text(
        "description: d\nassumptions: [a]\nmeasures:\n"
        "  - {id: robbery, name: Robbery, definition: d, categories: {pre_2024: [Robbery of Personal Property]}}\n"
        "not_measured:\n  pre_2024: ['ROBBERY OF PERSONAL PROPERTY']\n"
    )
    with pytest.raises(ConfigError, match="also in the measure 'robbery'"):
        load_outcome_mapping(bad)
    bad.write_text(
        "description: d\nassumptions: [a]\nmeasures:\n  - {id: r, name: R, definition: d, categories: {pre_2025: [X]}}\nnot_measured: {}\n"
    )
    with pytest.raises(ConfigError, match="categories"):
        load_outcome_mapping(bad)


# --- releases ---------------------------------------------------------------------------------


def test_overlapping_releases_newest_wins_per_month(tmp_path, reference, mapping):
    months_a = tuple(f"2023{m:02d}" for m in range(1, 7))
    months_b = tuple(f"2023{m:02d}" for m in range(4, 10))
    a = write(
        tmp_path / "release-a.csv",
        HEADERS["majortext_boroughname"],
        [[VAP, VWI, "Croydon", *[10] * 6]],
        months=months_a,
    )
    b = write(
        tmp_path / "release-b.csv",
        HEADERS["majortext_boroughname"],
        [[VAP, VWI, "Croydon", *[20] * 6]],
        months=months_b,
    )
    files = [read_crime_file(b, reference), read_crime_file(a, reference)]  # order given does not matter
    monthly, supply = combine_releases(files)
    assert supply["source_file"].tolist() == ["release-a.csv"] * 3 + ["release-b.csv"] * 6
    april = supply[supply["month"] == dt.date(2023, 4, 1)].iloc[0]
    assert (april["source_file"], april["superseded_files"]) == ("release-b.csv", "release-a.csv")
    assert monthly["count"].tolist() == [10, 10, 10, 20, 20, 20, 20, 20, 20]
    measures, _ = map_outcomes(monthly, mapping)
    assert measure(measures, "violence_with_injury", "E09000008", dt.date(2023, 5, 1)) == 20
    older = balanced(files[1], mapping, supply)
    assert (older["months_superseded"], older["cells_superseded"], older["count_superseded"]) == (3, 3, 30)
    assert older["superseded_months"] == "2023-04, 2023-05, 2023-06" and older["superseded_by"] == "release-b.csv"
    assert older["count_total"] == 60  # superseded cells are still counted in the file's accounting
    newer = balanced(files[0], mapping, supply)
    assert newer["months_superseded"] == 0
    # Summed over the releases, the supplied offences count every month once: 3 x 10 + 6 x 20.
    assert (older["count_mapped_supplied"], newer["count_mapped_supplied"]) == (30, 120)
    assert older["count_mapped"] + newer["count_mapped"] == 180  # what summing count_mapped would claim


def test_release_tie_is_broken_by_file_name_when_the_files_agree(tmp_path, reference):
    header = HEADERS["majortext_boroughname"]
    historical = write(tmp_path / "MPS Borough Level Crime (Historical).csv", header, [[VAP, VWI, "Brent", 1, 2]])
    recent = write(
        tmp_path / "MPS Borough Level Crime (most recent 24 months).csv",
        header,
        [[VAP, VWI, "Brent", 2, 9]],
        months=("202302", "202303"),
    )
    # A third file ending in the same month as the recent one, agreeing with it on 2023-02 and 2023-03.
    copy = write(tmp_path / "MPS Borough Level Crime (copy).csv", header, [[VAP, VWI, "Brent", 9]], months=("202303",))
    files = [read_crime_file(path, reference) for path in (recent, historical, copy)]
    monthly, supply = combine_releases(files)
    assert supply["source_file"].tolist() == [historical.name, recent.name, recent.name]
    assert monthly["count"].tolist() == [1, 2, 9]


def test_a_borough_only_one_same_month_release_publishes_is_a_disagreement(tmp_path, reference):
    header = HEADERS["majortext_boroughname"]
    both = [[VAP, VWI, "Brent", 1, 1], [VAP, VWI, "Barnet", 0, 0]]
    a = write(tmp_path / "release-a.csv", header, both)
    b = write(tmp_path / "release-b.csv", header, both[:1])  # Barnet absent: missing there, 0 in release-a
    with pytest.raises(InputError, match=r"release-b.csv, column '202301': .*E09000003 / VIOLENCE WITH INJURY: 0"):
        combine_releases([read_crime_file(a, reference), read_crime_file(b, reference)])


def test_two_releases_ending_in_one_month_that_disagree_are_an_error(tmp_path, reference):
    header = HEADERS["majortext_boroughname"]
    historical = write(tmp_path / "MPS Borough Level Crime (Historical).csv", header, [[VAP, VWI, "Brent", 1, 1]])
    recent = write(
        tmp_path / "MPS Borough Level Crime (most recent 24 months).csv", header, [[VAP, VWI, "Brent", 1, 2]]
    )
    with pytest.raises(InputError, match=r"most recent 24 months\).csv, column '202302': ends in the same month"):
        combine_releases([read_crime_file(recent, reference), read_crime_file(historical, reference)])


def test_two_files_with_one_name_are_an_error(tmp_path, reference):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    header = HEADERS["majortext_boroughname"]
    files = [
        read_crime_file(write(tmp_path / d / "same.csv", header, [[VAP, VWI, "Brent", 1, 1]]), reference) for d in "ab"
    ]
    with pytest.raises(InputError, match="same.csv: two outcome files have this name"):
        combine_releases(files)


# --- errors name the file, row and column --------------------------------------------------------

LOOKUP = ",".join(HEADERS["majortext_lookup_boroughname"])


@pytest.mark.parametrize(
    ("text", "where", "why"),
    [
        (
            "Area,Crime,Count,202301\r\nBrent,Robbery,x,1\r\n",
            "bad.csv, row 1:",
            "unknown header layout 'Area,Crime,Count'",
        ),
        (
            f"{LOOKUP},2023-01,202302\r\n{VAP},{VWI},Brent,1,2\r\n",
            "bad.csv, row 1, column '2023-01':",
            "not a month written YYYYMM",
        ),
        (f"{LOOKUP},202313\r\n{VAP},{VWI},Brent,1\r\n", "bad.csv, row 1, column '202313':", "not a month"),
        (
            f"{LOOKUP},202301,202302\r\n{VAP},{VWI},Brent,1,2\r\n{VAP},{VWI},Barnet,1,x\r\n",
            "bad.csv, row 3, column '202302':",
            "count 'x' is not a whole number",
        ),
        (f"{LOOKUP},202301,202302\r\n{VAP},{VWI},Brent,-1,2\r\n", "bad.csv, row 2, column '202301':", "count '-1'"),
        (f"{LOOKUP},202301,202302\r\n{VAP},{VWI},Brent,1.5,2\r\n", "bad.csv, row 2, column '202301':", "count '1.5'"),
        (f"{LOOKUP},202301,202302\r\n{VAP},{VWI},Brent,,2\r\n", "bad.csv, row 2, column '202301':", "count blank"),
        (
            f"{LOOKUP},202301,202302\r\n{VAP},{VWI},Brent,1,2\r\n{VAP},{VWI},Brent,1,3\r\n",
            "bad.csv, row 3, column '202302':",
            "repeats the Brent / Violence Against the Person / Violence with Injury row of row 2 with a different count (2 there, 3 here)",
        ),
        (
            f"{LOOKUP},202301,202302\r\n{VAP},{VWI},Croydn,1,2\r\n",
            "bad.csv, row 2, column 'LookUp_BoroughName':",
            "did you mean 'Croydon'?",
        ),
        (f"{LOOKUP},202301,202302\r\n{VAP},{VWI},Brent,1\r\n", "bad.csv, row 2:", "4 cells where the header has 5"),
        (f"{LOOKUP},202301,202302\r\n{VAP},,Brent,1,2\r\n", "bad.csv, row 2, column 'MinorText':", "no minor name"),
        (f"{LOOKUP}\r\n{VAP},{VWI},Brent\r\n", "bad.csv, row 1:", "no month columns"),
        ("", "bad.csv:", "the file is empty"),
    ],
)
def test_errors_name_the_file_row_and_column(tmp_path, reference, text, where, why):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_crime_file(path, reference)
    message = str(caught.value)
    assert message.startswith(where) and why in message


def test_unknown_header_lists_the_expected_layouts(tmp_path, reference):
    path = tmp_path / "bad.csv"
    path.write_text("Area,Crime,Count,202301\r\nBrent,Robbery,x,1\r\n")
    with pytest.raises(InputError) as caught:
        read_crime_file(path, reference)
    for layout in (
        "Borough,Major Category,Minor Category",
        "MajorText,MinorText,BoroughName",
        "LookUp_BoroughName",
        "Group,SubGroup,BOCU",
    ):
        assert layout in str(caught.value)


def test_map_outcomes_refuses_two_files_for_one_month(tmp_path, reference, mapping):
    header = HEADERS["majortext_boroughname"]
    files = [
        read_crime_file(write(tmp_path / f"{n}.csv", header, [[VAP, VWI, "Brent", n, n]]), reference) for n in (1, 2)
    ]
    with pytest.raises(ValueError, match="combine_releases"):
        map_outcomes(pd.concat([f.cells for f in files]), mapping)


def test_a_workbook_is_not_a_csv(tmp_path, reference):
    path = tmp_path / "crime.csv"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match="crime.csv: an Excel workbook"):
        read_crime_file(path, reference)
