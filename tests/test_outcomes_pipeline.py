"""The evidence base end to end on the sample: published outcome indicators checked against a
separate small reader of the raw MPS and ONS files, and the rate's interval by Byar's formula."""

import csv
import datetime as dt
import json
import math

import duckdb
import openpyxl
import pandas as pd
import pytest
from conftest import REPO

RAW = REPO / "data" / "raw" / "outcomes"
BOROUGH_AREAS = "LookUp_BoroughName"


@pytest.fixture(scope="module")
def published(built_sample):
    with duckdb.connect(str(built_sample.baseline_path), read_only=True) as conn:
        return {
            name: conn.execute(f"SELECT * FROM {name}").df()
            for name in (
                "outcome_indicators",
                "outcome_coverage",
                "partnership_outcomes",
                "partnership_outcome_correlations",
                "outcome_data_quality",
                "fingertips_values",
                "indicator_catalogue",
            )
        }


def _raw_monthly_violence_with_injury() -> dict[tuple[str, dt.date], int]:
    """(borough name, month) -> offences of Violence with Injury, the newest release per month."""
    files = sorted(RAW.glob("MPS Borough Level Crime*.csv"))
    by_file = {}
    for path in files:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
        header = rows[0]
        months = [dt.date(int(h[:4]), int(h[4:]), 1) for h in header[3:]]
        counts = {}
        for row in rows[1:]:
            if row and row[1].strip().casefold() == "violence with injury":
                for month, cell in zip(months, row[3:]):
                    counts[(row[2], month)] = counts.get((row[2], month), 0) + int(cell)
        by_file[path.name] = (max(months), months, counts)
    # For each month the newest release wins: the file whose last month is latest (then by name).
    newest = {}
    for name in sorted(by_file, key=lambda n: (by_file[n][0], n)):
        for month in by_file[name][1]:
            newest[month] = name  # a newer file overwrites
    return {
        (area, month): n
        for name, (_, _, counts) in by_file.items()
        for (area, month), n in counts.items()
        if newest[month] == name
    }


def _raw_population() -> dict[str, int]:
    """Area code -> all ages, from the sample workbook's MYE2 sheet, read cell by cell."""
    workbook = openpyxl.load_workbook(RAW / "mye_sample.xlsx", read_only=True)
    sheet = next(workbook[name] for name in workbook.sheetnames if name.strip().startswith("MYE2"))
    rows = list(sheet.iter_rows(values_only=True))
    header_row = next(i for i, row in enumerate(rows) if row and "All ages" in [str(c).strip() for c in row if c])
    header = [str(c).strip() if c is not None else "" for c in rows[header_row]]
    code, total = header.index("Code"), header.index("All ages")
    return {row[code]: int(row[total]) for row in rows[header_row + 1 :] if row and row[code] and row[total]}


def test_london_violence_with_injury_equals_a_separate_reading_of_the_raw_files(published):
    cells = published["outcome_indicators"]
    london = cells[
        (cells["indicator_id"] == "outcome_rate_violence_with_injury")
        & (cells["geography_level"] == "london")
        & (cells["period"] == "before")
    ]
    assert len(london) >= 1
    monthly = _raw_monthly_violence_with_injury()
    population = _raw_population()
    boroughs = {area for area, _ in monthly} - {"London Heathrow and London City Airports", "Aviation Security (SO18)"}
    assert len(boroughs) == 32 and "City of London" not in boroughs
    for row in london.itertuples():
        start, end = pd.Timestamp(row.period_start).date(), pd.Timestamp(row.period_end).date()
        expected = sum(n for (area, month), n in monthly.items() if area in boroughs and start <= month <= end)
        assert row.count == expected
        residents = sum(v for k, v in population.items() if k.startswith("E09") and k != "E09000001")
        assert row.population == residents
        assert row.value == pytest.approx(expected / residents * 1000, rel=1e-12)
        z = 1.959963984540054  # Byar's limits by hand (the count is far above 10)
        low = expected * (1 - 1 / (9 * expected) - z / (3 * math.sqrt(expected))) ** 3
        high = (expected + 1) * (1 - 1 / (9 * (expected + 1)) + z / (3 * math.sqrt(expected + 1))) ** 3
        assert (row.lower_ci, row.upper_ci) == pytest.approx((low / residents * 1000, high / residents * 1000))


def test_city_of_london_is_not_covered_never_zero(published):
    cells = published["outcome_indicators"]
    city = cells[cells["geography_code"] == "E09000001"]
    assert len(city) and (city["coverage"] == "not covered").all()
    assert city["value"].isna().all() and city["count"].isna().all()


def test_every_offence_in_the_crime_files_is_accounted_for(published):
    quality = published["outcome_data_quality"]
    crime = quality[quality["source"] == "crime"]
    assert len(crime) == 2
    for row in crime.itertuples():
        with (RAW / row.source_file).open(newline="", encoding="utf-8-sig") as handle:
            total = sum(int(c) for record in list(csv.reader(handle))[1:] for c in record[3:] if record)
        accounting = json.loads(row.accounting)
        assert accounting["count_total"] == total
        parts = ("count_mapped", "count_unmapped", "count_non_borough", "count_duplicate_row")
        assert sum(accounting[p] for p in parts) == total


def test_the_link_is_labelled_descriptive_and_keeps_withheld_indices_missing(published):
    correlations = published["partnership_outcome_correlations"]
    caveats = correlations["caveat"]
    assert len(correlations) and caveats.str.startswith("Ecological and descriptive").all()
    assert caveats.str.contains("never evidence that practice causes").all()
    practice = published["partnership_outcomes"]
    assert not (practice["council_index_suppressed"] & practice["council_index"].notna()).any()
    catalogue = published["indicator_catalogue"]
    assert catalogue["indicator_id"].str.startswith("outcome_rate_").sum() >= 5
    assert published["fingertips_values"]["suppressed"].any()
