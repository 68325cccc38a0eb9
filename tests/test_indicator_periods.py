"""The source and period of every row of the `indicators` table (docs/DESIGN.md): the schema's rules
on constructed rows, and the published sample's rows against an independent reading of the raw
exports and against `outcome_indicators`."""

import csv
import datetime as dt
import json

import duckdb
import openpyxl
import pandas as pd
import pytest
import yaml
from conftest import SAMPLE_RAW

from tipipeline.indicators.periods import policy_period, survey_periods
from tipipeline.schemas.indicators import Indicators
from tipipeline.schemas.validation import validate

SHARED = [
    "indicator_id",
    "wave",
    "geography_level",
    "geography_code",
    "geography_name",
    "sector",
    "value",
    "lower_ci",
    "upper_ci",
    "n",
    "numerator",
    "comparison",
    "suppressed",
    "suppression_reason",
]


# --- the schema, on constructed rows -----------------------------------------------------------


def _row(**changes) -> dict:
    row = {
        "indicator_id": "ti_index_mean",
        "source": "survey",
        "period": "2024-w1",
        "period_start": dt.date(2024, 3, 4),
        "period_end": dt.date(2024, 4, 25),
        "wave": "2024-w1",
        "geography_level": "london",
        "geography_code": "E12000007",
        "geography_name": "London",
        "sector": None,
        "value": 3.2,
        "lower_ci": 3.1,
        "upper_ci": 3.3,
        "n": 400,
        "numerator": None,
        "comparison": "London",
        "suppressed": False,
        "suppression_reason": None,
    }
    return {**row, **changes}


def _frame(*rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    frame["n"] = frame["n"].astype("Int64")
    frame["numerator"] = frame["numerator"].astype("Int64")
    for column in ("period_start", "period_end", "sector", "wave", "suppression_reason"):
        frame[column] = frame[column].astype(object)
    return frame


POLICY = _row(
    indicator_id="policy_strength",
    source="policy_audit",
    period="documents 2019-2024",
    period_start=dt.date(2019, 1, 1),
    period_end=dt.date(2024, 12, 31),
    wave=None,
    value=40.0,
    lower_ci=float("nan"),
    upper_ci=float("nan"),
    n=39,
    comparison="not compared",
)
OUTCOME = _row(
    indicator_id="outcome_rate_robbery",
    source="outcome",
    period="2024-w1 before",
    period_start=dt.date(2023, 3, 1),
    period_end=dt.date(2024, 2, 29),
    value=2.5,
    lower_ci=2.4,
    upper_ci=2.6,
    n=8_900_000,
    numerator=22_250,
)


def _failed_checks(frame: pd.DataFrame) -> set[str]:
    outcome = validate(Indicators, frame)
    return set(outcome.failure_cases["check"].astype(str))


def test_a_row_of_each_source_passes_the_schema():
    assert validate(Indicators, _frame(_row(), POLICY, OUTCOME)).passed


@pytest.mark.parametrize(
    ("bad", "check"),
    [
        # The old pseudo-wave: a policy row naming 'policy_audit' as its wave.
        ({**POLICY, "wave": "policy_audit"}, "wave_empty_only_for_the_policy_audit"),
        (_row(wave=None), "wave_empty_only_for_the_policy_audit"),
        ({**OUTCOME, "wave": None}, "wave_empty_only_for_the_policy_audit"),
        (_row(source="policy_audit_wave"), "isin"),
        (_row(period="2025-w2"), "a_survey_period_is_its_wave"),
        (_row(period_start=dt.date(2024, 5, 1)), "period_starts_before_it_ends"),
        (_row(period_end=pd.Timestamp("2024-04-25 10:00")), "dates_only"),
    ],
)
def test_the_schema_rejects_a_bad_period_or_source(bad, check):
    failed = _failed_checks(_frame(_row(indicator_id="ti_index_agree"), bad))
    assert any(check in name for name in failed), failed


def test_one_row_per_indicator_source_period_and_area():
    assert validate(Indicators, _frame(OUTCOME, {**OUTCOME, "period": "2024-w1 after"})).passed
    assert "one_row_per_indicator_id_source_period_geography_level_geography_code" in _failed_checks(
        _frame(OUTCOME, OUTCOME)
    )


def test_the_policy_period_is_the_span_of_the_documents_years():
    documents = pd.DataFrame({"year": pd.array([2021, None, 2019, 2024], dtype="Int64")})
    assert policy_period(documents) == ("documents 2019-2024", dt.date(2019, 1, 1), dt.date(2024, 12, 31))
    assert policy_period(documents.iloc[[0]]) == ("documents 2021", dt.date(2021, 1, 1), dt.date(2021, 12, 31))
    assert policy_period(documents.iloc[[1]]) == ("documents, year not given", None, None)
    assert policy_period(documents.iloc[:0]) == ("documents, year not given", None, None)


def test_a_wave_without_submission_dates_has_a_period_without_dates():
    dates = pd.DataFrame(
        {
            "wave": ["2024-w1", "2025-w2"],
            "period_start": [pd.Timestamp("2024-03-04"), pd.NaT],
            "period_end": [pd.Timestamp("2024-04-25"), pd.NaT],
        }
    )
    periods = survey_periods(dates, ["2025-w2", "2024-w1", "2026-w3"])
    assert periods.to_dict("records") == [
        {
            "source": "survey",
            "period": "2024-w1",
            "period_start": dt.date(2024, 3, 4),
            "period_end": dt.date(2024, 4, 25),
            "wave": "2024-w1",
        },
        {"source": "survey", "period": "2025-w2", "period_start": None, "period_end": None, "wave": "2025-w2"},
        {"source": "survey", "period": "2026-w3", "period_start": None, "period_end": None, "wave": "2026-w3"},
    ]


# --- the published sample ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def published(built_sample):
    with duckdb.connect(str(built_sample.baseline_path), read_only=True) as conn:
        tables = {
            name: conn.execute(f"SELECT * FROM {name}").df()
            for name in ("indicators", "outcome_indicators", "policy_audit", "data_quality")
        }
    with duckdb.connect(str(built_sample.warehouse_path), read_only=True) as conn:
        tables["working_indicators"] = conn.execute("SELECT * FROM indicators").df()
    for frame in (tables["indicators"], tables["working_indicators"], tables["outcome_indicators"]):
        for column in ("period_start", "period_end"):
            frame[column] = [None if pd.isna(d) else pd.Timestamp(d).date() for d in frame[column]]
    return tables


def test_no_row_is_in_the_pseudo_wave_policy_audit(published):
    for name in ("indicators", "working_indicators"):
        assert not (published[name]["wave"] == "policy_audit").any(), name
    assert set(published["indicators"]["source"]) == {"survey", "policy_audit", "outcome"}
    assert set(published["working_indicators"]["source"]) == {"survey", "policy_audit"}


def test_the_published_and_working_tables_pass_the_schema(published):
    for name in ("indicators", "working_indicators"):
        outcome = validate(Indicators, published[name])
        assert outcome.passed, outcome.summary()


def _last_day_of_month(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def test_each_source_has_its_period_columns(published):
    indicators = published["indicators"]
    # Every row of one source and period has the same dates.
    dates = indicators.groupby(["source", "period"])[["period_start", "period_end"]].nunique(dropna=False)
    assert (dates == 1).all().all()
    periods = indicators.drop_duplicates(["source", "period"]).set_index(["source", "period"])

    survey = periods.loc["survey"]
    assert list(survey.index) == ["2024-w1", "2025-w2"] and (survey["wave"] == survey.index).all()
    assert survey["period_start"].notna().all() and (survey["period_start"] <= survey["period_end"]).all()

    policy = indicators[indicators["source"] == "policy_audit"]
    years = published["policy_audit"]["year"].dropna().astype(int)
    assert len(policy) and policy["wave"].isna().all()
    assert set(policy["period"]) == {f"documents {years.min()}-{years.max()}"}
    assert set(policy["period_start"]) == {dt.date(years.min(), 1, 1)}
    assert set(policy["period_end"]) == {dt.date(years.max(), 12, 31)}

    outcome = periods.loc["outcome"]
    assert set(outcome.index) == {"2024-w1 before", "2024-w1 after", "2025-w2 before"}
    for period, row in outcome.iterrows():
        wave, side = period.split(" ")
        assert row["wave"] == wave
        start, end = row["period_start"], row["period_end"]
        # 12 whole calendar months.
        assert start.day == 1 and end == _last_day_of_month(end)
        assert (end.year - start.year) * 12 + end.month - start.month == 11
        # Before ends the month before fieldwork began; after starts the month after it ended.
        fieldwork = survey.loc[wave]
        if side == "before":
            assert end == fieldwork["period_start"].replace(day=1) - dt.timedelta(days=1)
        else:
            assert start == _last_day_of_month(fieldwork["period_end"]) + dt.timedelta(days=1)


def _submission_dates(wave: str) -> list[dt.date]:
    """The submission date of every accepted response in the wave's raw export: read with the csv
    module or openpyxl (not the pipeline's readers), leaving out the rows the sample's manifest lists
    as excluded or quarantined."""
    codebook = yaml.safe_load((SAMPLE_RAW / "surveys" / "codebook.yaml").read_text(encoding="utf-8"))
    manifest = json.loads((SAMPLE_RAW / "sample_manifest.json").read_text(encoding="utf-8"))
    override = codebook.get("waves", {}).get(wave, {})
    column = override.get("columns", {}).get("submitted") or codebook["fields"]["submitted"]["column"]
    (path,) = [p for p in (SAMPLE_RAW / "surveys" / wave).iterdir() if p.suffix in {".csv", ".xlsx"}]
    if path.suffix == ".csv":  # Qualtrics: export tags, question text, import ids, then data
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
        header, data, first = rows[0], rows[3:], 4
    else:
        sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        header, data, first = list(rows[0]), rows[1:], 2
    dropped = {
        d["row"]
        for d in manifest["dirty_rows"]
        if d["file"] == f"surveys/{wave}/{path.name}" and d["expected"] in {"excluded", "quarantined"}
    }
    index = header.index(column)
    dates = []
    for number, row in enumerate(data, start=first):
        if number in dropped or not any(row):
            continue
        value = row[index]
        dates.append(value.date() if isinstance(value, dt.datetime) else dt.date.fromisoformat(value[:10]))
    return dates


@pytest.mark.parametrize("wave", ["2024-w1", "2025-w2"])
def test_a_survey_period_runs_from_the_first_to_the_last_submission_in_the_raw_export(published, wave):
    dates = _submission_dates(wave)
    quality = published["data_quality"]
    assert len(dates) == quality.loc[quality["wave"] == wave, "rows_accepted"].sum()  # the reader's rows are right
    rows = published["indicators"]
    rows = rows[(rows["source"] == "survey") & (rows["wave"] == wave)]
    assert set(rows["period_start"]) == {min(dates)} and set(rows["period_end"]) == {max(dates)}


def test_outcome_rows_are_the_covered_rows_of_outcome_indicators(published):
    mine = published["indicators"]
    mine = mine[mine["source"] == "outcome"]
    detail = published["outcome_indicators"]
    covered = detail[detail["coverage"] == "covered"]
    # Only the areas an outcome source does not cover (the City of London) are left out.
    assert set(detail.loc[detail["coverage"] != "covered", "geography_code"]) == {"E09000001"}
    key = ["indicator_id", "period", "geography_level", "geography_code"]
    expected = covered.assign(period=covered["wave"] + " " + covered["period"])
    columns = [*SHARED, "period", "period_start", "period_end"]
    left = mine[columns].sort_values(key).reset_index(drop=True)
    right = expected[columns].sort_values(key).reset_index(drop=True)
    assert len(left) == len(covered) > 0
    pd.testing.assert_frame_equal(left, right, check_dtype=False)


def test_the_report_reads_survey_rows_only(built_sample):
    from tipipeline.report.data import load_report_data

    with duckdb.connect(str(built_sample.baseline_path), read_only=True) as conn:
        data = load_report_data(conn)
    assert set(data.indicators["source"]) == {"survey"} and data.waves == ["2024-w1", "2025-w2"]
