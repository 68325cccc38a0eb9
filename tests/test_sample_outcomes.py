"""The synthetic outcome files of the bundled sample: real layouts, the quirks present, read by the readers."""

from __future__ import annotations

import csv
import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_RAW, SHARED
from openpyxl import load_workbook

from tipipeline.outcomes.check import CRIME, FINGERTIPS, POPULATION, outcome_kind
from tipipeline.outcomes.crime import (
    AVIATION_SECURITY,
    HEATHROW,
    STATUSES,
    accounting,
    category_key,
    cell_status,
    combine_releases,
    complete_grid,
    load_outcome_mapping,
    map_outcomes,
    read_crime_file,
)
from tipipeline.outcomes.fingertips import london_boroughs, read_fingertips
from tipipeline.outcomes.population import read_population
from tipipeline.reference import load_reference
from tipipeline.sample.outcomes import (
    FINGERTIPS_FILE,
    HISTORICAL_FILE,
    OUTCOMES_STREAM,
    OVERLAP_MONTHS,
    POPULATION_FILE,
    RECENT_FILE,
    RENAMED,
    UNKNOWN_CATEGORY,
    sample_timing,
    write_outcome_sample,
)

OUTCOMES = SAMPLE_RAW / "outcomes"
MANIFEST = json.loads((SAMPLE_RAW / "sample_manifest.json").read_text())
REAL = SHARED / "fixtures" / "outcomes"
CITY, HACKNEY = "E09000001", "E09000012"


@pytest.fixture(scope="module")
def reference():
    return load_reference()


@pytest.fixture(scope="module")
def mapping():
    return load_outcome_mapping()


@pytest.fixture(scope="module")
def releases(reference):
    return [read_crime_file(OUTCOMES / name, reference) for name in (HISTORICAL_FILE, RECENT_FILE)]


def raw_rows(path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


# --- every file is there and read -----------------------------------------------------------


def test_the_manifest_lists_the_outcome_files():
    names = {f"outcomes/{n}" for n in (HISTORICAL_FILE, RECENT_FILE, FINGERTIPS_FILE, POPULATION_FILE)}
    assert names <= set(MANIFEST["files"])
    assert sorted(p.name for p in OUTCOMES.iterdir()) == sorted(n.split("/")[1] for n in names)
    assert MANIFEST["outcomes"]["synthetic"] is True


def test_every_file_is_recognised_and_read(releases):
    kinds = {name: outcome_kind(OUTCOMES / name) for name in (HISTORICAL_FILE, RECENT_FILE, FINGERTIPS_FILE)}
    assert kinds == {HISTORICAL_FILE: CRIME, RECENT_FILE: CRIME, FINGERTIPS_FILE: FINGERTIPS}
    assert outcome_kind(OUTCOMES / POPULATION_FILE) == POPULATION
    for file in releases:
        assert (file.layout, file.line_ending, file.encoding, file.notes) == (
            "majortext_lookup_boroughname",
            "CRLF",
            "utf-8",
            [],
        )
    assert read_fingertips(OUTCOMES / FINGERTIPS_FILE).header_style == "spaced"
    assert read_population(OUTCOMES / POPULATION_FILE).layout == "mye2_wide"


# --- MPS releases -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [HISTORICAL_FILE, RECENT_FILE])
def test_accounting_closes_for_each_release(name, reference, mapping):
    file = read_crime_file(OUTCOMES / name, reference)
    account = accounting(file, mapping)
    assert account["count_total"] == sum(account[f"count_{status}"] for status in STATUSES)
    assert account["cells_read"] == sum(account[f"cells_{status}"] for status in STATUSES)
    # Against the raw file, read with the csv module alone.
    rows = raw_rows(OUTCOMES / name)[1:]
    assert account["count_total"] == sum(int(v) for row in rows for v in row[3:])
    assert account["rows_read"] == len(rows) and account["count_duplicate_row"] == 0
    assert min(account[f"count_{status}"] for status in ("mapped", "unmapped", "non_borough")) > 0


def test_areas_boroughs_by_name_airports_and_aviation_security(releases, reference, mapping):
    historical, recent = releases
    covered = set(reference.boroughs["gss_code"]) - {CITY}
    for file in releases:
        boroughs = file.cells[file.cells["area_kind"] == "borough"]
        assert set(boroughs["gss_code"]) == covered  # 32 boroughs, never the City of London
        assert not boroughs["area_name"].str.match(r"E\d{8}").any()  # names, not codes
        assert HEATHROW in set(file.cells["area_name"])
    assert AVIATION_SECURITY in set(historical.cells["area_name"])
    assert AVIATION_SECURITY not in set(recent.cells["area_name"])
    # Every Aviation Security row repeats a Heathrow row exactly, and is flagged as doing so.
    cells = historical.cells
    aviation = cells[cells["area_name"] == AVIATION_SECURITY]
    heathrow = cells[cells["area_name"] == HEATHROW]
    assert (aviation["duplicates_area"] == HEATHROW).all()
    key = ["category_key", "month"]
    assert aviation.set_index(key)["count"].sort_index().equals(heathrow.set_index(key)["count"].sort_index())
    account = accounting(historical, mapping)
    assert account["count_non_borough_duplicating"] == heathrow["count"].sum() > 0
    assert account["count_non_borough"] == 2 * heathrow["count"].sum()


def test_releases_are_sparse(releases, reference):
    for file in releases:
        grid = complete_grid(file.cells, reference)
        assert 0 < (~grid["published"]).sum() < len(grid) / 10
        assert (grid.loc[~grid["published"], "count"] == 0).all()
        # A published row has at least one offence: a row of zeros is not written.
        published = file.cells[file.cells["area_kind"] == "borough"]
        assert (published.groupby("source_row")["count"].sum() > 0).all()


def test_overlap_months_differ_and_the_newer_release_wins(releases, mapping):
    historical, recent = releases
    overlap = sorted(set(historical.months) & set(recent.months))
    assert len(overlap) == OVERLAP_MONTHS and overlap[0] == min(recent.months)
    key = ["area_name", "category_key", "month"]
    old = historical.cells[historical.cells["month"].isin(overlap)].set_index(key)["count"]
    new = recent.cells[recent.cells["month"].isin(overlap)].set_index(key)["count"]
    both = pd.concat([old.rename("old"), new.rename("new")], axis=1).fillna(0)
    revised = both[both["old"] != both["new"]]
    assert len(revised) > 100
    assert set(revised.index.get_level_values("month")) == set(overlap)  # every overlap month revised
    assert (both["old"] == both["new"]).mean() > 0.5  # revisions, not a different series
    monthly, supply = combine_releases(releases)
    winners = dict(zip(supply["month"], supply["source_file"]))
    assert all(winners[m] == RECENT_FILE for m in overlap)
    assert all(winners[m] == HISTORICAL_FILE for m in historical.months if m < overlap[0])
    taken = monthly[monthly["month"].isin(overlap)]
    assert set(taken["source_file"]) == {RECENT_FILE}
    assert taken["count"].sum() == recent.cells.loc[recent.cells["month"].isin(overlap), "count"].sum()
    account = accounting(historical, mapping, supply)
    assert account["months_superseded"] == OVERLAP_MONTHS and account["superseded_by"] == RECENT_FILE


def test_renamed_categories_keep_their_place_in_the_mapping(releases, mapping):
    historical, recent = releases
    for old, new in RENAMED.items():
        assert old in set(historical.cells["minor_category"]) and new not in set(historical.cells["minor_category"])
        assert new in set(recent.cells["minor_category"]) and old not in set(recent.cells["minor_category"])
        assert category_key(old) == category_key(new)
    # The knife category feeds possession of weapons under both spellings.
    knife = category_key("Possession of Article with Blade or Point")
    assert set(mapping.links.loc[mapping.links["category_key"] == knife, "measure_id"]) == {"possession_of_weapons"}
    for file in releases:
        cells = file.cells[(file.cells["category_key"] == knife) & (file.cells["area_kind"] == "borough")]
        assert len(cells) and (cell_status(cells, mapping) == "mapped").all()
    monthly, _ = combine_releases(releases)
    measures, unmapped = map_outcomes(monthly, mapping)
    weapons = measures[measures["measure_id"] == "possession_of_weapons"].groupby("month")["count"].sum()
    assert list(weapons.index) == sorted({m for file in releases for m in file.months}) and (weapons > 0).all()
    # Public Fear is known and in no measure under both spellings: one unmapped category, known.
    fear = unmapped[unmapped["category_key"] == category_key("Public Fear Alarm or Distress")]
    assert set(fear["minor_category"]) == {"Public Fear Alarm or Distress", "Public Fear, Alarm or Distress"}
    assert fear["known"].all()


def test_unknown_category_is_reported_as_unmapped(releases, mapping):
    historical, recent = releases
    monthly, _ = combine_releases(releases)
    _, unmapped = map_outcomes(monthly, mapping)
    unknown = unmapped[~unmapped["known"]]
    assert unknown[["source_file", "major_category", "minor_category"]].values.tolist() == [
        [RECENT_FILE, *UNKNOWN_CATEGORY]
    ]
    assert unknown["count"].iloc[0] > 0
    assert accounting(recent, mapping)["count_unmapped_unknown"] > 0
    assert accounting(historical, mapping)["count_unmapped_unknown"] == 0


def test_violence_rates_vary_between_boroughs(releases, mapping, reference):
    monthly, _ = combine_releases(releases)
    measures, _ = map_outcomes(monthly, mapping)
    year = measures[
        (measures["measure_id"] == "violence_against_the_person")
        & (measures["month"] >= dt.date(2023, 3, 1))
        & (measures["month"] <= dt.date(2024, 2, 1))
    ]
    counts = year.groupby("gss_code")["count"].sum()
    population = read_population(OUTCOMES / POPULATION_FILE).data.set_index("area_code")["all_ages"]
    rates = counts / population.reindex(counts.index) * 1000
    assert len(rates) == 32 and rates.notna().all()
    assert 10 < rates.min() and rates.max() < 80  # per 1,000 residents a year: plausible for London
    assert rates.max() / rates.min() > 1.5


# --- Fingertips export ------------------------------------------------------------------------


def test_fingertips_layout_imitates_the_real_export():
    data = (OUTCOMES / FINGERTIPS_FILE).read_bytes()
    header = data.split(b"\r\n", 1)[0]
    real = REAL / "indicators-CountyUA.data.csv"
    if real.exists():
        assert header == real.read_bytes().split(b"\r\n", 1)[0]
    rows = raw_rows(OUTCOMES / FINGERTIPS_FILE)
    assert len(rows[0]) == 26 and {len(row) for row in rows[1:]} == {25}  # records stop before `Compared to goal`
    assert all(row[1].endswith("\n") for row in rows[1:])  # the quoted name holds a line break
    assert b'"Hospital admissions for violence (including sexual violence)\n"' in data
    assert data.count(b"\r\n") == len(rows)


def test_fingertips_suppressed_row_and_category_rows(reference):
    read = read_fingertips(OUTCOMES / FINGERTIPS_FILE)
    periods = MANIFEST["outcomes"]["fingertips"]["periods"]
    assert read.excluded == {"category_row": 10 * len(periods), "blank_row": 0}
    assert read.rows_read == read.rows_kept + 10 * len(periods)
    data = read.data
    assert set(data["area_code"]) == {*reference.boroughs["gss_code"], "E12000007", "E92000001"}
    assert len(london_boroughs(data, reference)) == 35 * len(periods)
    city = data[data["area_code"] == CITY]
    assert city["suppressed"].all() and city["value"].isna().all() and city["count"].isna().all()
    assert (city["value_note"] == "Value for Hackney and City of London combined").all()
    assert data.loc[data["suppressed"], "area_code"].unique().tolist() == [CITY]
    hackney = data[data["area_code"] == HACKNEY]
    assert (hackney["value_note"] == "Value for Hackney and City of London combined").all()
    assert (hackney["value"] > 0).all()
    assert sorted(data["time_period"].unique()) == periods
    first = data[data["time_period"] == periods[-1]].iloc[0]
    assert (first["period_start_year"], first["period_end_year"]) == (int(periods[-1][:4]), int(periods[-1][:4]) + 3)
    kept = data[~data["suppressed"]]
    assert ((kept["lower_ci95"] < kept["value"]) & (kept["value"] < kept["upper_ci95"])).all()
    assert ((kept["lower_ci998"] < kept["lower_ci95"]) & (kept["upper_ci95"] < kept["upper_ci998"])).all()
    # London's count is its boroughs' (the City's inside Hackney's).
    for period, group in data.groupby("time_period"):
        boroughs = group[group["area_code"].str.startswith("E09")]
        london = group[group["area_code"] == "E12000007"]
        assert london["count"].iloc[0] == boroughs["count"].sum(), period


# --- ONS mid-year estimates ---------------------------------------------------------------------


def test_population_workbook_layout_and_totals(reference):
    book = load_workbook(OUTCOMES / POPULATION_FILE, read_only=True)
    assert book.sheetnames == ["Cover sheet", "MYE2 - Persons"]
    rows = list(book["MYE2 - Persons"].iter_rows(values_only=True))
    book.close()
    mid_year = MANIFEST["outcomes"]["population"]["mid_year"]
    assert f"mid-{mid_year}" in rows[0][0] and "SYNTHETIC" in rows[0][0]
    header = rows[7]  # row 8
    assert header[:4] == ("Code", "Name", "Geography", "All ages")
    assert list(header[4:]) == [str(a) for a in range(90)] + ["90+"]  # ages as text
    areas = {row[0]: row for row in rows[8:] if row[0] and str(row[0]).startswith("E")}
    assert len(areas) == 35
    for code, row in areas.items():
        assert row[3] == sum(row[4:]), code  # all ages = the sum of the single years
    boroughs = [areas[code] for code in reference.boroughs["gss_code"]]
    assert all(areas["E12000007"][i] == sum(row[i] for row in boroughs) for i in range(3, len(header)))
    assert areas["E92000001"][3] > 5 * areas["E12000007"][3]
    assert rows[-1][0].startswith("Source: SYNTHETIC") and all(v is None for v in rows[-2])
    read = read_population(OUTCOMES / POPULATION_FILE)
    assert read.excluded == {"note_row": 1, "blank_row": 1}
    assert (read.data["mid_year"] == mid_year).all()
    assert read.data.set_index("area_code")["all_ages"].to_dict() == {c: r[3] for c, r in areas.items()}
    assert 1_000 < read.data.set_index("area_code").loc[CITY, "all_ages"] < 20_000


# --- reproducibility ----------------------------------------------------------------------------


def _write(path, seed, reference):
    months, mid_year = sample_timing([pd.Timestamp("2024-03-04"), pd.Timestamp("2025-03-04")])
    practice = {code: 0.1 * (i % 5 - 2) for i, code in enumerate(reference.boroughs["gss_code"])}
    rng = np.random.default_rng([seed, OUTCOMES_STREAM])
    summary = write_outcome_sample(path, rng, reference, months, mid_year, practice)
    return summary, {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def test_same_seed_same_bytes_other_seed_other_data(tmp_path, reference):
    first, files = _write(tmp_path / "a", 5, reference)
    second, again = _write(tmp_path / "b", 5, reference)
    assert first == second and files == again
    _, other = _write(tmp_path / "c", 6, reference)
    assert sorted(other) == sorted(files)
    assert all(other[name] != files[name] for name in files)


def test_timing_covers_the_waves():
    (first, last), mid_year = sample_timing([pd.Timestamp("2024-03-04"), pd.Timestamp("2025-03-04")])
    assert (first, last, mid_year) == (dt.date(2021, 1, 1), dt.date(2025, 4, 1), 2023)
    committed = MANIFEST["outcomes"]["crime"]["files"]
    assert (committed[0]["first_month"], committed[-1]["last_month"]) == ("2021-01", "2025-04")
