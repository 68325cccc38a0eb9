"""Reading OHID Fingertips data exports: the real export, and each quirk in a constructed file."""

import csv

import pandas as pd
import pytest
from conftest import SHARED

from tipipeline.errors import InputError
from tipipeline.outcomes.fingertips import COLUMNS, london_boroughs, period_years, read_fingertips
from tipipeline.reference import load_reference

REAL = SHARED / "fixtures" / "outcomes" / "indicators-CountyUA.data.csv"
needs_real = pytest.mark.skipif(not REAL.exists(), reason="the shared Fingertips fixture is absent")

SPACED = [
    "Indicator ID",
    "Indicator Name",
    "Parent Code",
    "Parent Name",
    "Area Code",
    "Area Name",
    "Area Type",
    "Sex",
    "Age",
    "Category Type",
    "Category",
    "Time period",
    "Value",
    "Lower CI 95.0 limit",
    "Upper CI 95.0 limit",
    "Lower CI 99.8 limit",
    "Upper CI 99.8 limit",
    "Count",
    "Denominator",
    "Value note",
    "Recent Trend",
    "Compared to England value or percentiles",
    "Compared to London region value or percentiles",
    "Time period Sortable",
    "New data",
    "Compared to goal",
]
# The API's squashed spelling, with the underscored `Time_period_Sortable` seen in the wild.
SQUASHED = [
    "IndicatorID",
    "IndicatorName",
    "ParentCode",
    "ParentName",
    "AreaCode",
    "AreaName",
    "AreaType",
    "Sex",
    "Age",
    "CategoryType",
    "Category",
    "Timeperiod",
    "Value",
    "LowerCI95.0limit",
    "UpperCI95.0limit",
    "LowerCI99.8limit",
    "UpperCI99.8limit",
    "Count",
    "Denominator",
    "Valuenote",
    "RecentTrend",
    "ComparedtoEnglandvalueorpercentiles",
    "ComparedtoLondonregionvalueorpercentiles",
    "Time_period_Sortable",
    "Newdata",
    "Comparedtogoal",
]
NAME = "Violence offences per 1,000 population"


def record(area="E09000012", name="Hackney", area_type="County & UA", period="2015 - 17", value="20.5", **cells):
    """One export record as a dict of spaced column -> text."""
    row = dict.fromkeys(SPACED, "")
    row.update(
        {
            "Indicator ID": "92864",
            "Indicator Name": NAME,
            "Parent Code": "E12000007",
            "Parent Name": "London region",
            "Area Code": area,
            "Area Name": name,
            "Area Type": area_type,
            "Sex": "Persons",
            "Age": "All ages",
            "Time period": period,
            "Value": value,
            "Lower CI 95.0 limit": "19.9" if value else "",
            "Upper CI 95.0 limit": "21.1" if value else "",
            "Count": "5000" if value else "",
            "Denominator": "243900" if value else "",
            "Compared to England value or percentiles": "Worse",
            "Time period Sortable": "20150000",
        }
    )
    row.update(cells)
    return row


def write(path, records, header=SPACED, newline="\r\n", drop_last_field=False):
    """Write records under `header` (positions as in SPACED), as Fingertips does: every field quoted
    only when it needs it; `drop_last_field` ends each record one field short, as real exports do."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator=newline)
        writer.writerow(header)
        for row in records:
            fields = [row[column] for column in SPACED]
            writer.writerow(fields[:-1] if drop_last_field else fields)
    return path


# --- the real export --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    if not REAL.exists():
        pytest.skip("the shared Fingertips fixture is absent")
    return read_fingertips(REAL)


def raw_records():
    """An independent reading of the raw file: csv.DictReader with the line each record starts on."""
    with open(REAL, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames  # reads the header line
        out, last = [], reader.line_num
        for row in reader:
            out.append((last + 1, row))
            last = reader.line_num
    return out


@needs_real
def test_real_export_accounting(real):
    assert real.header_style == "spaced"
    assert list(real.data.columns) == COLUMNS
    # 852 records: 792 without a category, 60 deprivation-decile rows left out, nothing lost.
    assert real.rows_read == 852
    assert real.rows_kept == 792
    assert real.excluded == {"category_row": 60, "blank_row": 0}
    assert real.rows_read == real.rows_kept + sum(real.excluded.values())
    quality = real.quality_row()
    assert (quality["rows_read"], quality["rows_accepted"], quality["rows_excluded"]) == (852, 792, 60)
    assert quality["sha256"] == "26e306e1426f7607d3cddeb06cc5adbd15e5ecc88c3edc6d3352fab67f4f06c8"
    assert set(real.data["area_type"]) == {"County & UA", "Region", "Country"}


@needs_real
def test_real_export_city_of_london_is_suppressed_with_its_note(real):
    city = real.data[real.data["area_code"] == "E09000001"]
    assert len(city) == 5
    assert city["suppressed"].all()
    assert city["value"].isna().all() and city["lower_ci95"].isna().all()
    assert set(city["value_note"]) == {"Value for Hackney and City of London combined"}
    hackney = real.data[real.data["area_code"] == "E09000012"]
    # Hackney carries the combined value and the same note, and is not suppressed.
    assert not hackney["suppressed"].any()
    assert set(hackney["value_note"]) == {"Value for Hackney and City of London combined"}


@needs_real
def test_real_export_embedded_newline_name_read_whole_and_rows_are_start_lines(real):
    # Each record's quoted indicator name holds a line break: one record spans two lines.
    assert set(real.data["indicator_name"]) == {"Campylobacter incidence rate/100,000"}
    lines = REAL.read_bytes().decode("utf-8").split("\n")
    assert len(lines) - 1 == 1 + 2 * real.rows_read
    for row in real.data.itertuples():
        assert lines[row.source_row - 1].startswith(f'{row.indicator_id},"Campylobacter')
        assert f",{row.area_code},{row.area_name}," in lines[row.source_row]
    city = real.data[(real.data["area_code"] == "E09000001") & (real.data["time_period"] == "2015")]
    assert city["source_row"].tolist() == [248, 552]


@needs_real
def test_real_export_values_and_cis_as_published(real):
    independent = [(line, row) for line, row in raw_records() if not row["Category Type"]]
    assert len(independent) == real.rows_kept
    by_line = real.data.set_index("source_row")
    for line, row in independent:
        ours = by_line.loc[line]
        assert ours["area_code"] == row["Area Code"]
        for column, raw in (
            ("value", "Value"),
            ("lower_ci95", "Lower CI 95.0 limit"),
            ("upper_ci95", "Upper CI 95.0 limit"),
        ):
            assert (pd.isna(ours[column]) and row[raw] == "") or ours[column] == float(row[raw])
        assert (pd.isna(ours["count"]) and row["Count"] == "") or ours["count"] == float(row["Count"])
    hackney = by_line[(by_line["area_code"] == "E09000012") & (by_line["age"] == "All ages")].iloc[0]
    assert (hackney["time_period"], hackney["count"], hackney["denominator"]) == ("2015", 165, 277769)
    assert hackney["value"] == 59.4018770993163
    assert (hackney["lower_ci95"], hackney["upper_ci95"]) == (50.6838116645743, 69.1890674412788)
    assert hackney["compared_to_england"] == "Better"


@needs_real
def test_real_export_london_boroughs(real):
    london = london_boroughs(real.data, load_reference())
    boroughs = set(load_reference().boroughs["gss_code"])
    assert set(london["area_code"]) == boroughs | {"E12000007", "E92000001"}
    # 33 boroughs x 5 (all ages 2015-17, 0-9 2015-16), London all ages x 3, England x 5.
    assert len(london) == 33 * 5 + 3 + 5
    assert london["area_code"].str.startswith("E09").sum() == 165


# --- constructed files, one quirk each --------------------------------------------------------


def test_squashed_header_reads_the_same_as_spaced(tmp_path):
    records = [record(), record(area="E09000001", name="City of London", value="")]
    spaced = read_fingertips(write(tmp_path / "spaced.csv", records))
    squashed = read_fingertips(write(tmp_path / "squashed.csv", records, header=SQUASHED))
    assert (spaced.header_style, squashed.header_style) == ("spaced", "squashed")
    pd.testing.assert_frame_equal(spaced.data.drop(columns="source_file"), squashed.data.drop(columns="source_file"))
    assert squashed.data["time_period_sortable"].tolist() == [20150000, 20150000]
    underscored = [name.replace(" ", "_") for name in SPACED]
    assert read_fingertips(write(tmp_path / "under.csv", records, header=underscored)).header_style == "underscored"


@pytest.mark.parametrize(
    ("period", "years"),
    [
        ("2015 - 17", (2015, 2017)),
        ("2015", (2015, 2015)),
        ("2017/18", (2017, 2018)),
        ("2014/15 - 16/17", (2014, 2017)),
        ("2015-2017", (2015, 2017)),
        ("1999 - 01", (1999, 2001)),
        ("2019/20 Q1", (2019, 2019)),
        ("2019/20 Q4", (2020, 2020)),
        ("2020 Q2", (2020, 2020)),
        ("Jan 2021", (2021, 2021)),
        ("not a period", (None, None)),
    ],
)
def test_period_years(period, years):
    assert period_years(period) == years


def test_period_ranges_kept_as_text_with_years(tmp_path):
    records = [record(period="2015 - 17"), record(period="2018/19 - 20/21"), record(period="2022")]
    data = read_fingertips(write(tmp_path / "p.csv", records)).data
    assert data["time_period"].tolist() == ["2015 - 17", "2018/19 - 20/21", "2022"]
    assert data["period_start_year"].tolist() == [2015, 2018, 2022]
    assert data["period_end_year"].tolist() == [2017, 2021, 2022]


def test_category_rows_excluded_and_counted_blank_lines_too(tmp_path):
    decile = record(
        area="E92000001",
        name="England",
        area_type="Country",
        **{"Category Type": "County & UA deprivation deciles in England (IMD2019)", "Category": "Most deprived decile"},
    )
    path = write(tmp_path / "c.csv", [record(), decile, record(area="E09000002", name="Barking and Dagenham")])
    path.write_bytes(path.read_bytes() + b"\r\n")  # a trailing empty line
    read = read_fingertips(path)
    assert read.rows_read == 4
    assert read.excluded == {"category_row": 1, "blank_row": 1}
    assert read.data["area_code"].tolist() == ["E09000012", "E09000002"]
    assert read.quality_row()["excluded_by_rule"] == '{"category_row": 1, "blank_row": 1}'


def test_blank_value_kept_as_suppressed_with_its_note(tmp_path):
    records = [
        record(
            area="E09000001",
            name="City of London",
            value="",
            **{"Value note": "Value suppressed for disclosure control"},
        ),
        record(area="E09000002", name="Barking and Dagenham", value=""),
        record(**{"Value note": "Value for Hackney and City of London combined"}),
    ]
    data = read_fingertips(write(tmp_path / "s.csv", records)).data
    assert data["suppressed"].tolist() == [True, True, False]
    assert data["value_note"].tolist()[:2] == ["Value suppressed for disclosure control", None]
    assert data["value_note"].iloc[2] == "Value for Hackney and City of London combined"
    assert data["value"].isna().tolist() == [True, True, False]


def test_embedded_newline_read_whole_and_lines_counted(tmp_path):
    records = [record(**{"Indicator Name": "Hospital admissions for violence\n(including sexual violence)"}), record()]
    read = read_fingertips(write(tmp_path / "n.csv", records, newline="\n"))
    assert read.data["indicator_name"].iloc[0] == "Hospital admissions for violence\n(including sexual violence)"
    assert read.data["source_row"].tolist() == [2, 4]


def test_area_types_old_and_new_and_london_filter(tmp_path):
    records = [
        record(area_type="County & UA"),
        record(area_type="Counties & UAs (from Apr 2023)"),  # the same borough under the post-2023 name
        record(area="E12000007", name="London region", area_type="Region"),
        record(area="E92000001", name="England", area_type="England"),
        record(area="E06000001", name="Hartlepool", area_type="County & UA"),
    ]
    data = read_fingertips(write(tmp_path / "a.csv", records)).data
    assert data["area_type"].tolist()[:2] == ["County & UA", "Counties & UAs (from Apr 2023)"]
    london = london_boroughs(data, load_reference())
    # Hartlepool is not in London; Hackney's identical repeat under the second area type is kept once.
    assert london["area_code"].tolist() == ["E09000012", "E12000007", "E92000001"]
    assert london["area_type"].iloc[0] == "County & UA"


def test_london_filter_refuses_repeats_that_disagree(tmp_path):
    records = [record(area_type="County & UA"), record(area_type="Counties & UAs (from Apr 2023)", value="20.6")]
    data = read_fingertips(write(tmp_path / "d.csv", records)).data
    with pytest.raises(InputError, match=r"d\.csv, row 3, column 'Value': Hackney 2015 - 17 is published twice"):
        london_boroughs(data, load_reference())


def test_record_short_of_the_last_optional_field_is_read(tmp_path):
    # Real exports end each record before `Compared to goal`.
    read = read_fingertips(write(tmp_path / "short.csv", [record(), record()], drop_last_field=True))
    assert read.rows_kept == 2


# --- errors name the file, the line and the column --------------------------------------------


def test_error_header_is_neither_spelling(tmp_path):
    header = [h for h in SPACED if h not in ("Time period", "Value note")]
    path = tmp_path / "other.csv"
    path.write_text(",".join(header) + "\n")
    with pytest.raises(InputError) as error:
        read_fingertips(path)
    message = str(error.value)
    assert message.startswith("other.csv, row 1: not a Fingertips data export")
    assert "'Time period' (or 'Timeperiod')" in message and "'Value note' (or 'Valuenote')" in message
    assert "'Indicator ID'" not in message


def test_error_non_numeric_value_names_the_line_the_record_starts_on(tmp_path):
    records = [record(**{"Indicator Name": "two\nlines"}), record(value="n/a")]
    with pytest.raises(InputError, match=r"^bad\.csv, row 4, column 'Value': 'n/a' is not a number$"):
        read_fingertips(write(tmp_path / "bad.csv", records))


def test_error_column_named_as_the_file_spells_it(tmp_path):
    records = [record(**{"Lower CI 95.0 limit": "x"})]
    with pytest.raises(InputError, match=r"row 2, column 'LowerCI95\.0limit': 'x' is not a number"):
        read_fingertips(write(tmp_path / "sq.csv", records, header=SQUASHED))


def test_error_indicator_id_not_a_whole_number(tmp_path):
    with pytest.raises(InputError, match=r"row 2, column 'Indicator ID': indicator id '9x' is not a whole number"):
        read_fingertips(write(tmp_path / "i.csv", [record(**{"Indicator ID": "9x"})]))


def test_error_record_too_short(tmp_path):
    path = write(tmp_path / "cut.csv", [record()])
    path.write_text(path.read_text() + "92864,Name,E12000007,London region,E09000003\n")
    with pytest.raises(
        InputError, match=r"cut\.csv, row 3: 5 fields where the header has 26: the record stops before 'Area Name'"
    ):
        read_fingertips(path)


def test_error_record_too_long(tmp_path):
    path = write(tmp_path / "long.csv", [record()])
    with open(path, "a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerow([*record().values(), "extra"])
    with pytest.raises(InputError, match=r"long\.csv, row 3: 27 fields where the header has 26"):
        read_fingertips(path)


def test_error_workbook_or_empty(tmp_path):
    (tmp_path / "x.csv").write_bytes(b"PK\x03\x04rest")
    with pytest.raises(InputError, match="an Excel workbook, not a Fingertips data export"):
        read_fingertips(tmp_path / "x.csv")
    (tmp_path / "e.csv").write_text("\n\n")
    with pytest.raises(InputError, match=r"e\.csv: the file is empty"):
        read_fingertips(tmp_path / "e.csv")
