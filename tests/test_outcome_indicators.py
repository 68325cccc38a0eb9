"""Outcome indicators (issue 13, parts 2 and 3) against independent oracles: windows worked out by
hand, sums of constructed boroughs with the geography of DESIGN.md typed in, PHEindicatormethods'
phe_rate reference values, scipy's Spearman, and the real MPS and ONS files."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest
from conftest import SHARED
from scipy import stats

from tipipeline.errors import ConfigError
from tipipeline.outcomes.crime import load_outcome_mapping, map_outcomes, read_crime_file
from tipipeline.outcomes.indicators import (
    CATALOGUE_COLUMNS,
    CATALOGUE_PATH,
    CORRELATION_CAVEAT,
    OUTCOME_CELL_COLUMNS,
    funnel_curve,
    funnel_points,
    outcome_catalogue,
    outcome_cells,
    outcome_coverage,
    partnership_outcome_correlations,
    partnership_outcomes,
    population_mid_year,
    wave_periods,
)
from tipipeline.outcomes.population import read_population
from tipipeline.reference import load_reference
from tipipeline.stats.rates import funnel_limits

D = dt.date
CITY, CAMDEN, WESTMINSTER, BARNET = "E09000001", "E09000007", "E09000033", "E09000003"
HACKNEY, TOWER_HAMLETS, BRENT, HARROW = "E09000012", "E09000030", "E09000005", "E09000015"
# From DESIGN.md's geography table, typed in rather than read from the reference files.
BOROUGHS = [f"E090000{n:02d}" for n in range(1, 34)]
COVERED = [code for code in BOROUGHS if code != CITY]
NEL = ["E09000002", HACKNEY, "E09000016", "E09000025", "E09000026", TOWER_HAMLETS, "E09000031"]  # + City
NCL = [BARNET, CAMDEN, "E09000010", "E09000014", "E09000019"]
NWL = [BRENT, "E09000009", HARROW, "E09000017", "E09000018", "E09000020", WESTMINSTER, "E09000013"]
CENTRAL_EAST = [HACKNEY, TOWER_HAMLETS]
NORTH_WEST_BCU = [BARNET, BRENT, HARROW]
LONDON = "E12000007"
NCL_CODE, NEL_CODE, NWL_CODE = "E54000028", "E54000029", "E54000027"
VWI = "violence_with_injury"
RATE, RATE_10_24 = "outcome_rate_violence_with_injury", "outcome_rate_10_24_violence_with_injury"

# One wave whose fieldwork is 2024-03-04 .. 2024-04-20 (dates given out of order, with a gap).
SUBMITTED = {"2024-w1": [D(2024, 4, 20), None, D(2024, 3, 4), pd.Timestamp("2024-03-18 10:15")]}
BEFORE = [D(2023, m, 1) for m in range(3, 13)] + [D(2024, 1, 1), D(2024, 2, 1)]
AFTER = [D(2024, m, 1) for m in range(5, 13)] + [D(2025, m, 1) for m in range(1, 5)]
ALL_MONTHS = [D(2023, m, 1) for m in range(1, 13)] + [D(2024, m, 1) for m in range(1, 13)]
ALL_MONTHS += [D(2025, m, 1) for m in range(1, 7)]


def monthly_count(code: str, month: dt.date) -> int:
    """The constructed counts. Camden: 289 in the before window (11 x 24 + 25); Westminster: 7 in
    the before window and none after; every other borough 30 + its number a month, and a tenth of
    that again in the after window so that the change is not zero."""
    if code == CAMDEN:
        return 25 if month == D(2023, 3, 1) else 24
    if code == WESTMINSTER:
        return 1 if D(2023, 3, 1) <= month <= D(2023, 9, 1) else 0
    base = 30 + int(code[-2:])
    return base + base // 10 if month in AFTER else base


def all_ages(code: str, year: int = 2023) -> int:
    own = {CAMDEN: 271_523, WESTMINSTER: 10_847, CITY: 8_600}.get(code, 100_000 + 1_000 * int(code[-2:]))
    return own if year == 2023 else own - 5_000


def aged_10_24(code: str, year: int = 2023) -> int:
    return (20_000 + 100 * int(code[-2:])) if year == 2023 else 15_000


def hand_count(codes, months) -> int:
    return sum(monthly_count(code, month) for code in codes for month in months)


def hand_population(codes, column=all_ages) -> int:
    return sum(column(code) for code in codes)


@pytest.fixture(scope="module")
def reference():
    return load_reference()


@pytest.fixture(scope="module")
def catalogue():
    return outcome_catalogue()


def make_measures(months=ALL_MONTHS, drop: tuple = ()) -> pd.DataFrame:
    rows = [
        (VWI, "Violence with injury", code, code, month, monthly_count(code, month), "release.csv", "x")
        for code in COVERED
        for month in months
        if month not in drop
    ]
    columns = ["measure_id", "measure_name", "gss_code", "borough_name", "month", "count", "source_file", "layout"]
    return pd.DataFrame(rows, columns=columns)


def make_population() -> pd.DataFrame:
    rows = []
    for year in (2022, 2023):
        rows += [
            (code, code, "London Borough", year, all_ages(code, year), aged_10_24(code, year)) for code in BOROUGHS
        ]
        # Rows a London figure must never be taken from: the region's own total and England.
        rows += [(LONDON, "LONDON", "Region", year, 9_999_999, 1), ("E92000001", "ENGLAND", "Country", year, 5, 1)]
    return pd.DataFrame(rows, columns=["area_code", "area_name", "geography", "mid_year", "all_ages", "aged_10_24"])


@pytest.fixture(scope="module")
def periods():
    return wave_periods(SUBMITTED)


@pytest.fixture(scope="module")
def cells(periods, reference, catalogue):
    return outcome_cells(make_measures(), make_population(), periods, reference, catalogue)


def cell(cells, indicator=RATE, period="before", level="borough", code=CAMDEN):
    found = cells[
        (cells["indicator_id"] == indicator)
        & (cells["period"] == period)
        & (cells["geography_level"] == level)
        & (cells["geography_code"] == code)
    ]
    assert len(found) == 1, (indicator, period, level, code)
    return found.iloc[0]


# --- periods ---------------------------------------------------------------------------------


def test_periods_are_the_twelve_whole_months_either_side_of_the_fieldwork(periods):
    assert list(periods.columns[:4]) == ["wave", "period", "start_month", "end_month"]
    before = periods[periods["period"] == "before"].iloc[0]
    after = periods[periods["period"] == "after"].iloc[0]
    # Fieldwork 2024-03-04 .. 2024-04-20: before 2023-03 .. 2024-02, after 2024-05 .. 2025-04.
    assert (before["start_month"], before["end_month"]) == (D(2023, 3, 1), D(2024, 2, 1))
    assert (after["start_month"], after["end_month"]) == (D(2024, 5, 1), D(2025, 4, 1))
    assert (before["fieldwork_start"], before["fieldwork_end"]) == (D(2024, 3, 4), D(2024, 4, 20))


def test_periods_across_a_year_end_and_a_one_day_fieldwork():
    frame = wave_periods({"b": [dt.datetime(2024, 1, 31, 23, 59)], "a": ["2023-12-01", "2024-12-31"]})
    got = {(r.wave, r.period): (r.start_month, r.end_month) for r in frame.itertuples()}
    assert got == {
        ("a", "before"): (D(2022, 12, 1), D(2023, 11, 1)),
        ("a", "after"): (D(2025, 1, 1), D(2025, 12, 1)),
        ("b", "before"): (D(2023, 1, 1), D(2023, 12, 1)),
        ("b", "after"): (D(2024, 2, 1), D(2025, 1, 1)),
    }
    with pytest.raises(ValueError, match="no submission dates"):
        wave_periods({"empty": [None, pd.NaT]})


def test_population_mid_year_is_the_june_inside_the_period_else_the_nearest():
    assert population_mid_year(D(2023, 3, 1), [2022, 2023, 2024]) == 2023
    assert population_mid_year(D(2023, 7, 1), [2022, 2023, 2024]) == 2024
    assert population_mid_year(D(2024, 5, 1), [2022, 2023]) == 2023
    assert population_mid_year(D(2023, 3, 1), [2022, 2024]) == 2022  # a tie: the earlier


# --- cells -------------------------------------------------------------------------------------


def test_cells_have_the_published_columns_and_every_area(cells):
    published = ["indicator_id", "wave", "geography_level", "geography_code", "geography_name", "sector"]
    published += ["value", "lower_ci", "upper_ci", "n", "numerator", "comparison", "suppressed", "suppression_reason"]
    assert set(published) <= set(cells.columns) and list(cells.columns) == OUTCOME_CELL_COLUMNS
    one = cells[(cells["indicator_id"] == RATE) & (cells["period"] == "before")]
    assert one["geography_level"].value_counts().to_dict() == {"borough": 33, "bcu": 12, "icb": 5, "london": 1}
    assert not cells["suppressed"].any()
    # Only the measure in the data has cells: the other measures' periods are absent.
    assert set(cells["indicator_id"]) == {RATE, RATE_10_24}


def test_rate_and_interval_are_phe_rate_reference_values(cells):
    camden = cell(cells, code=CAMDEN)
    assert (camden["count"], camden["population"], camden["numerator"], camden["n"]) == (289, 271_523, 289, 271_523)
    assert (camden["value"], camden["lower_ci"], camden["upper_ci"]) == pytest.approx(
        (1.064367, 0.945174, 1.194428), abs=5e-7
    )
    assert camden["ci_method"] == "Byar's"
    westminster = cell(cells, code=WESTMINSTER)
    assert (westminster["count"], westminster["population"]) == (7, 10_847)
    assert (westminster["value"], westminster["lower_ci"], westminster["upper_ci"]) == pytest.approx(
        (0.645340, 0.259460, 1.329646), abs=5e-7
    )
    assert westminster["ci_method"] == "exact Poisson"
    assert cell(cells, period="after", code=WESTMINSTER)["count"] == 0  # a real 0, not a missing value


def test_bcu_and_icb_are_the_sums_of_their_boroughs(cells):
    for period, months in (("before", BEFORE), ("after", AFTER)):
        for level, code, members in (
            ("bcu", "CE", CENTRAL_EAST),
            ("bcu", "NW", NORTH_WEST_BCU),
            ("icb", NCL_CODE, NCL),
            ("icb", NEL_CODE, NEL),
            ("icb", NWL_CODE, NWL),
        ):
            got = cell(cells, period=period, level=level, code=code)
            assert got["count"] == hand_count(members, months), (period, code)
            assert got["population"] == hand_population(members), (period, code)
            assert got["boroughs"] == len(members)
            assert got["value"] == pytest.approx(1000 * got["count"] / got["population"], rel=1e-12)
        young = cell(cells, indicator=RATE_10_24, period=period, level="bcu", code="CE")
        assert young["population"] == hand_population(CENTRAL_EAST, aged_10_24)
        assert young["count"] == hand_count(CENTRAL_EAST, months)
    assert "City of London" in cell(cells, level="icb", code=NEL_CODE)["coverage_note"]


def test_london_is_the_32_policed_boroughs_and_the_city_is_not_covered(cells):
    london = cell(cells, level="london", code=LONDON)
    assert london["count"] == hand_count(COVERED, BEFORE)
    assert london["population"] == hand_population(COVERED)  # not the region row, not the City
    assert london["population"] == hand_population(BOROUGHS) - all_ages(CITY)
    assert london["comparison"] == "London" and "City of London" in london["coverage_note"]
    assert cell(cells, indicator=RATE_10_24, level="london", code=LONDON)["population"] == hand_population(
        COVERED, aged_10_24
    )
    for indicator in (RATE, RATE_10_24):
        for period in ("before", "after"):
            city = cell(cells, indicator=indicator, period=period, code=CITY)
            assert city["coverage"] == "not covered" and "own police force" in city["coverage_note"]
            assert math.isnan(city["value"]) and pd.isna(city["count"]) and pd.isna(city["n"])  # never 0
            assert city["comparison"] == "not compared"
    borough_rows = cells[(cells["indicator_id"] == RATE) & (cells["geography_level"] == "borough")]
    assert set(borough_rows.loc[borough_rows["coverage"] == "covered", "geography_code"]) == set(COVERED)


def test_comparison_with_london_lower_is_better(cells):
    london = cell(cells, level="london", code=LONDON)["value"]
    camden = cell(cells, code=CAMDEN)
    assert camden["upper_ci"] < london and camden["comparison"] == "better"
    for row in cells[(cells["indicator_id"] == RATE) & (cells["geography_level"] == "borough")].itertuples():
        if row.coverage != "covered":
            continue
        expected = "similar" if row.lower_ci <= london <= row.upper_ci else None
        expected = expected or ("worse" if row.lower_ci > london else "better")
        if row.period == "before":
            assert row.comparison == expected, row.geography_code


def test_population_is_the_mid_year_whose_june_is_in_the_period(cells):
    # before 2023-03..2024-02 holds June 2023; after 2024-05..2025-04 holds June 2024, not in the
    # data: the nearest, mid-2023, is used (mid-2022 figures differ, so a wrong choice shows).
    for period in ("before", "after"):
        camden = cell(cells, period=period, code=CAMDEN)
        assert camden["population_mid_year"] == 2023 and camden["population"] == 271_523


def test_a_missing_month_makes_the_period_absent_and_coverage_names_it(periods, reference, catalogue):
    measures = make_measures(drop=(D(2023, 7, 1),))
    coverage = outcome_coverage(measures, periods, reference, catalogue)
    before = coverage[(coverage["measure_id"] == VWI) & (coverage["period"] == "before")].iloc[0]
    assert not before["complete"] and before["missing_months"] == "2023-07" and before["months_present"] == 11
    after = coverage[(coverage["measure_id"] == VWI) & (coverage["period"] == "after")].iloc[0]
    assert after["complete"] and after["missing_months"] == "" and after["source_files"] == "release.csv"
    robbery = coverage[(coverage["measure_id"] == "robbery") & (coverage["period"] == "before")].iloc[0]
    assert robbery["months_present"] == 0 and robbery["missing_months"].split("; ")[0] == "2023-03"
    got = outcome_cells(measures, make_population(), periods, reference, catalogue)
    assert set(got["period"]) == {"after"}
    # One borough short in a month: the month is missing too, and the coverage says so.
    partial = make_measures()
    partial = partial[~((partial["gss_code"] == CAMDEN) & (partial["month"] == D(2024, 6, 1)))]
    coverage = outcome_coverage(partial, periods, reference, catalogue)
    after = coverage[(coverage["measure_id"] == VWI) & (coverage["period"] == "after")].iloc[0]
    assert after["missing_months"] == "2024-06 (1 boroughs missing)"
    # The fieldwork span the periods hang on is published beside them, so a stray date shows.
    # SUBMITTED's first and last dates, by hand.
    assert (after["fieldwork_start"], after["fieldwork_end"]) == (D(2024, 3, 4), D(2024, 4, 20))


def test_icb_membership_is_the_one_valid_at_the_end_of_the_period(periods, catalogue):
    """Barnet moves from North Central to North West London ICB on 2024-06-01 (constructed)."""
    base = load_reference()
    lookup = base.borough_icb.copy()
    lookup.loc[lookup["gss_code"] == BARNET, "valid_to"] = pd.Timestamp("2024-06-01")
    moved = {"gss_code": BARNET, "icb_code": NWL_CODE, "valid_from": pd.Timestamp("2024-06-01"), "valid_to": pd.NaT}
    lookup = pd.concat([lookup, pd.DataFrame([moved])], ignore_index=True)
    reference = dataclasses.replace(base, borough_icb=lookup)
    got = outcome_cells(make_measures(), make_population(), periods, reference, catalogue)
    # before (2023-03..2024-02): Barnet is in NCL; after (2024-05..2025-04, ends 2025-04-30): NWL.
    assert cell(got, period="before", level="icb", code=NCL_CODE)["count"] == hand_count(NCL, BEFORE)
    assert cell(got, period="before", level="icb", code=NWL_CODE)["count"] == hand_count(NWL, BEFORE)
    after_ncl = cell(got, period="after", level="icb", code=NCL_CODE)
    after_nwl = cell(got, period="after", level="icb", code=NWL_CODE)
    assert after_ncl["count"] == hand_count([c for c in NCL if c != BARNET], AFTER)
    assert after_nwl["count"] == hand_count([*NWL, BARNET], AFTER)
    assert after_nwl["population"] == hand_population([*NWL, BARNET])
    assert "membership changed" in after_nwl["coverage_note"]
    # The fieldwork began 2024-03-04, before the move: partnership_outcomes puts Barnet in NCL.
    practice = partnership_outcomes(survey_indicators(), got, reference, periods=periods, catalogue=catalogue)
    assert set(practice.loc[practice["gss_code"] == BARNET, "icb_code"]) == {NCL_CODE}


# --- the catalogue ---------------------------------------------------------------------------------


def test_catalogue_has_the_fingertips_fields_for_every_measure(catalogue):
    assert list(catalogue.columns) == CATALOGUE_COLUMNS
    assert catalogue[CATALOGUE_COLUMNS].notna().all().all()
    measures = {m.id for m in load_outcome_mapping().measures}
    assert set(catalogue["subject_id"]) == measures
    all_ages_rows = catalogue[catalogue["population_group"] == "all_ages"]
    assert set(all_ages_rows["indicator_id"]) == {f"outcome_rate_{m}" for m in measures}
    assert set(all_ages_rows["unit"]) == {"per 1,000 residents"}
    young = catalogue[catalogue["population_group"] == "aged_10_24"]
    assert set(young["subject_id"]) == {"violence_with_injury", "robbery", "possession_of_weapons"}
    assert set(young["indicator_id"]) == {f"outcome_rate_10_24_{m}" for m in young["subject_id"]}
    assert set(catalogue["data_source"]) == {
        "Metropolitan Police Service, Recorded crime: geographic breakdown (London Datastore); "
        "ONS mid-year population estimates"
    }
    assert set(catalogue["polarity"]) == {"lower_is_better"}
    for row in catalogue.itertuples():
        assert "{" not in "".join(str(getattr(row, f)) for f in CATALOGUE_COLUMNS)  # templates filled
        assert row.disclosure_control.startswith("None applied") and "not of people" in row.disclosure_control
        assert all(word in row.caveats.lower() for word in ("reporting", "where they happened", "ecological"))


def test_catalogue_refuses_a_measure_without_an_entry(tmp_path: Path):
    text = CATALOGUE_PATH.read_text(encoding="utf-8")
    start = text.index("  - measure: sexual_offences")
    broken = tmp_path / "outcome_indicators.yaml"
    broken.write_text(text[:start], encoding="utf-8")
    with pytest.raises(ConfigError, match="sexual_offences"):
        outcome_catalogue(broken)
    broken.write_text(text.replace("[all_ages, aged_10_24]", "[all_ages, aged_5_9]", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="aged_5_9"):
        outcome_catalogue(broken)
    broken.write_text(text.replace("{measure_name}: {name_suffix}", "{measure_title}", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="name: a placeholder"):
        outcome_catalogue(broken)


def test_a_measure_without_an_indicator_is_an_error_not_dropped(periods, reference, catalogue):
    measures = make_measures().assign(measure_id="knife_crime")
    with pytest.raises(ValueError, match="knife_crime"):
        outcome_coverage(measures, periods, reference, catalogue)


# --- practice and outcomes ---------------------------------------------------------------------


def council_index(code: str) -> float:
    return 2.0 + (int(code[-2:]) * 7 % 33) / 20  # varied, and unrelated to the constructed counts


SUPPRESSED_COUNCIL, SUPPRESSED_BCU = "E09000010", "NW"


def survey_indicators() -> pd.DataFrame:
    rows = []
    for code in BOROUGHS:
        hidden = code == SUPPRESSED_COUNCIL
        # The suppressed cell still holds numbers here: they must never come out.
        rows.append(("ti_index_mean", "survey", "2024-w1", "borough", code, council_index(code), 25, hidden))
        rows.append(("ti_index_agree", "survey", "2024-w1", "borough", code, 55.0, 25, False))
    for code in ("CE", "CN", "CS", "CW", "EA", "NA", "NE", "NW", "SE", "SN", "SW", "WA"):
        rows.append(("ti_index_mean", "survey", "2024-w1", "bcu", code, 3.25, 40, code == SUPPRESSED_BCU))
    for code in (NWL_CODE, NCL_CODE, NEL_CODE, "E54000030", "E54000031"):
        rows.append(("ti_index_mean", "survey", "2024-w1", "icb", code, 3.5, 60, False))
    # Rows of other sources, keyed like survey cells, must never be taken for the index.
    rows.append(("ti_index_mean", "policy_audit", None, "borough", CAMDEN, 1.0, 3, False))
    rows.append(("ti_index_mean", "outcome", "2024-w1", "borough", CAMDEN, 9.0, 3, False))
    rows.append(("ti_index_mean", "outcome", "2023-w0", "borough", CAMDEN, 9.0, 3, False))
    columns = ["indicator_id", "source", "wave", "geography_level", "geography_code", "value", "n", "suppressed"]
    return pd.DataFrame(rows, columns=columns)


@pytest.fixture(scope="module")
def practice(cells, reference, catalogue, periods):
    return partnership_outcomes(survey_indicators(), cells, reference, periods=periods, catalogue=catalogue)


def test_partnership_outcomes_sets_each_borough_beside_its_bcu_and_icb(practice, cells):
    # Only survey rows give the index: the policy and outcome rows add no wave and change no value.
    assert len(practice) == 33 * 8 and set(practice["wave"]) == {"2024-w1"}
    assert (practice.loc[practice["gss_code"] == CAMDEN, "council_index"] == council_index(CAMDEN)).all()
    row = practice[(practice["gss_code"] == HACKNEY) & (practice["indicator_id"] == RATE)].iloc[0]
    assert row["council_index"] == council_index(HACKNEY) and row["council_index_n"] == 25
    assert (row["bcu_code"], row["bcu_index"], row["bcu_name"]) == ("CE", 3.25, "Central East")
    assert (row["icb_code"], row["icb_index"]) == (NEL_CODE, 3.5)
    before = hand_count([HACKNEY], BEFORE) / all_ages(HACKNEY) * 1000
    after = hand_count([HACKNEY], AFTER) / all_ages(HACKNEY) * 1000
    assert (row["rate_before"], row["rate_after"]) == pytest.approx((before, after), rel=1e-12)
    assert row["rate_change"] == pytest.approx(after - before, rel=1e-9)
    assert row["count_before"] == hand_count([HACKNEY], BEFORE)
    assert (row["before_start"], row["before_end"]) == (D(2023, 3, 1), D(2024, 2, 29))
    assert (row["after_start"], row["after_end"]) == (D(2024, 5, 1), D(2025, 4, 30))
    city = practice[(practice["gss_code"] == CITY) & (practice["indicator_id"] == RATE)].iloc[0]
    assert city["coverage"] == "not covered" and math.isnan(city["rate_before"]) and math.isnan(city["rate_change"])
    assert city["council_index"] == council_index(CITY) and city["bcu_code"] is None and math.isnan(city["bcu_index"])


def test_a_suppressed_index_stays_missing(practice):
    hidden = practice[practice["gss_code"] == SUPPRESSED_COUNCIL]
    assert hidden["council_index_suppressed"].all() and hidden["council_index"].isna().all()
    assert hidden["council_index_n"].isna().all()
    barnet = practice[practice["gss_code"] == BARNET]  # in the North West BCU, whose index is withheld
    assert barnet["bcu_index_suppressed"].all() and barnet["bcu_index"].isna().all()
    shown = practice[practice["gss_code"] == HACKNEY]
    assert not shown["council_index_suppressed"].any() and not shown["bcu_index_suppressed"].any()
    with pytest.raises(ValueError, match="suppressed"):
        partnership_outcomes(survey_indicators().drop(columns="suppressed"), practice.iloc[:0])
    with pytest.raises(ValueError, match="source"):
        partnership_outcomes(survey_indicators().drop(columns="source"), practice.iloc[:0])


def test_spearman_matches_scipy_on_the_same_pairs(practice):
    correlations = partnership_outcome_correlations(practice)
    assert len(correlations) == 8 * 3 and set(correlations["period"]) == {"before", "after", "change"}
    assert set(correlations["caveat"]) == {CORRELATION_CAVEAT}
    assert "never evidence" in CORRELATION_CAVEAT and "ecological" in CORRELATION_CAVEAT.lower()
    rows = practice[practice["indicator_id"] == RATE]
    for period, column in (("before", "rate_before"), ("after", "rate_after"), ("change", "rate_change")):
        got = correlations[(correlations["indicator_id"] == RATE) & (correlations["period"] == period)].iloc[0]
        pairs = [(x, y) for x, y in zip(rows["council_index"], rows[column]) if not (pd.isna(x) or pd.isna(y))]
        # 33 boroughs less the City (not covered) and the suppressed council.
        assert got["n"] == len(pairs) == 31
        expected = stats.spearmanr([x for x, _ in pairs], [y for _, y in pairs]).statistic
        assert got["rho"] == pytest.approx(expected, abs=1e-12)
        half = 1.959963984540054 * math.sqrt((1 + expected**2 / 2) / (31 - 3))
        bounds = (math.tanh(math.atanh(expected) - half), math.tanh(math.atanh(expected) + half))
        assert (got["lower_ci"], got["upper_ci"]) == pytest.approx(bounds, abs=1e-12)


def test_no_correlation_without_rates_or_with_too_few_boroughs(practice):
    empty = practice.assign(rate_after=float("nan"), rate_change=float("nan"))
    got = partnership_outcome_correlations(empty)
    after = got[got["period"] == "after"]
    assert (
        after["rho"].isna().all() and (after["n"] == 0).all() and after["note"].str.contains("outcome_coverage").all()
    )
    few = practice[practice["gss_code"].isin([HACKNEY, CAMDEN, BARNET]) & (practice["indicator_id"] == RATE)]
    got = partnership_outcome_correlations(few)
    assert got["rho"].isna().all() and got["note"].str.contains("fewer than 4").all()


# --- funnel -----------------------------------------------------------------------------------


def test_funnel_flags_agree_with_the_limits(cells):
    points = funnel_points(cells, VWI, "2024-w1", "before")
    assert set(points["geography_code"]) == set(COVERED) and set(points["indicator_id"]) == {RATE}
    london = hand_count(COVERED, BEFORE) / hand_population(COVERED)
    assert points["london_value"].iloc[0] == pytest.approx(london * 1000, rel=1e-12)
    for row in points.itertuples():
        for label, probability in (("95", 0.95), ("998", 0.998)):
            lower, upper = getattr(row, f"lower_{label}"), getattr(row, f"upper_{label}")
            expected = funnel_limits(london, row.population, probability)
            assert (lower, upper) == pytest.approx((expected[0] * 1000, expected[1] * 1000), rel=1e-12)
            inside = lower <= row.value <= upper
            assert getattr(row, f"inside_{label}") == inside
            position = getattr(row, f"position_{label}")
            assert position == ("inside" if inside else "above" if row.value > upper else "below")
        assert row.lower_998 <= row.lower_95 <= row.upper_95 <= row.upper_998
        assert row.inside_998 or not row.inside_95  # inside the 95% funnel means inside the 99.8% one
    camden = points[points["geography_code"] == CAMDEN].iloc[0]
    assert camden["position_95"] == camden["position_998"] == "below"
    young = funnel_points(cells, RATE_10_24, "2024-w1", "after")
    assert set(young["indicator_id"]) == {RATE_10_24}
    curve = funnel_curve(cells, VWI, "2024-w1", "before", points=50)
    assert len(curve) == 50 and (curve["lower_998"] <= curve["lower_95"]).all()
    assert (
        curve["population"].min() < points["population"].min() < points["population"].max() < curve["population"].max()
    )
    with pytest.raises(ValueError, match="outcome_coverage"):
        funnel_points(cells, "robbery", "2024-w1", "before")


# --- the real files --------------------------------------------------------------------------

REAL_MPS = SHARED / "fixtures" / "outcomes" / "MPS Borough Level Crime (most recent 24 months).csv"
REAL_ONS = SHARED / "fixtures" / "outcomes" / "mye22final.xlsx"


@pytest.mark.skipif(not (REAL_MPS.exists() and REAL_ONS.exists()), reason="real MPS and ONS files not present")
def test_real_files_london_is_the_ons_region_less_the_city(reference, catalogue):
    crime = read_crime_file(REAL_MPS, reference)
    measures, _ = map_outcomes(crime.cells, reference=reference)
    ons = read_population(REAL_ONS).data
    # Fieldwork in March-April 2023: before = 2022-03 .. 2023-02, inside the release (2022-02 .. 2024-01).
    periods = wave_periods({"2023-w1": [D(2023, 3, 6), D(2023, 4, 28)]})
    got = outcome_cells(measures, ons, periods, reference, catalogue)
    london = cell(got, level="london", code=LONDON)
    region = int(ons.loc[ons["area_code"] == LONDON, "all_ages"].iloc[0])
    city = int(ons.loc[ons["area_code"] == CITY, "all_ages"].iloc[0])
    assert london["population"] == region - city and london["population_mid_year"] == 2022
    window = crime.cells[
        (crime.cells["area_kind"] == "borough")
        & (crime.cells["category_key"] == "VIOLENCE WITH INJURY")
        & (crime.cells["month"] >= D(2022, 3, 1))
        & (crime.cells["month"] <= D(2023, 2, 1))
    ]
    assert london["count"] == int(window["count"].sum())
    assert london["value"] == pytest.approx(1000 * london["count"] / london["population"], rel=1e-12)
    assert set(got["period"]) == {"before"}  # after = 2023-05 .. 2024-04: 2024-02 .. 04 not yet published
    coverage = outcome_coverage(measures, periods, reference, catalogue)
    after = coverage[(coverage["measure_id"] == VWI) & (coverage["period"] == "after")].iloc[0]
    assert after["missing_months"] == "2024-02; 2024-03; 2024-04"


def test_a_change_across_the_2024_recoding_is_noted_wherever_it_is_shown(periods, reference, catalogue):
    measures = make_measures()
    recoded = measures["month"] >= D(2024, 1, 1)
    measures["layout"] = ["majortext_upper_2024" if r else "majortext_lookup_boroughname" for r in recoded]
    got = outcome_cells(measures, make_population(), periods, reference, catalogue)
    before = got[(got["period"] == "before") & (got["geography_code"] == HACKNEY)].iloc[0]
    after = got[(got["period"] == "after") & (got["geography_code"] == HACKNEY)].iloc[0]
    # before = 2023-03 to 2024-02 (10 months pre-2024, 2 re-coded); after = 2024-05 to 2025-04.
    assert (before["classifications"], after["classifications"]) == ("pre_2024; upper_2024", "upper_2024")
    assert (
        "months from 2 MPS classifications (pre_2024 2023-03 to 2023-12, upper_2024 2024-01 to 2024-02)"
        in (before["coverage_note"])
    )
    assert after["coverage_note"] is None or "classifications" not in after["coverage_note"]
    practice = partnership_outcomes(survey_indicators(), got, reference, periods=periods, catalogue=catalogue)
    assert practice["change_note"].str.contains("part of the change may be in what is counted").all()
    correlations = partnership_outcome_correlations(practice)
    change = correlations[(correlations["period"] == "change") & correlations["rho"].notna()]
    assert len(change) and change["note"].str.contains("different MPS classifications").all()
    unchanged = partnership_outcomes(
        survey_indicators(),
        outcome_cells(make_measures(), make_population(), periods, reference, catalogue),
        reference,
        periods=periods,
        catalogue=catalogue,
    )
    assert unchanged["change_note"].isna().all()
