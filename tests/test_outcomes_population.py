"""Reading ONS mid-year population estimates: the real mid-2022 workbook, and each quirk."""

import csv

import pytest
from conftest import SHARED
from openpyxl import Workbook, load_workbook

from tipipeline.errors import InputError
from tipipeline.outcomes.population import COLUMNS, read_population
from tipipeline.reference import load_reference

REAL = SHARED / "fixtures" / "outcomes" / "mye22final.xlsx"
needs_real = pytest.mark.skipif(not REAL.exists(), reason="the shared ONS fixture is absent")

TITLE = "MYE2: Persons by single year of age and sex for local authorities in the UK, mid-2021"
PREAMBLE = [
    [TITLE],
    ["This worksheet contains one table. Freeze panes are turned on. "],
    ["This met my needs, please produce it next year"],
]


def single_years(seed: int) -> list[int]:
    """91 made-up counts for ages 0..89 and 90+."""
    return [100 + seed + 3 * age - (age * age) // 40 for age in range(91)]


HACKNEY = ("E09000012", "Hackney", "London Borough", single_years(7))
CITY = ("E09000001", "City of London", "London Borough", single_years(1))


def mye2_rows(areas, ages_as_text=True, all_ages=None) -> list[list]:
    """The MYE2 header and one row per area (all ages the sum unless `all_ages` overrides it)."""
    labels = [str(a) if ages_as_text else a for a in range(90)] + ["90+"]
    rows = [["Code", "Name", "Geography", "All ages", *labels]]
    for code, name, geography, ages in areas:
        total = (all_ages or {}).get(code, sum(ages))
        rows.append([code, name, geography, total, *ages])
    return rows


def workbook(path, sheets: dict[str, list[list]]):
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def mye2(path, areas=(HACKNEY, CITY), sheet="MYE2 - Persons", preamble=PREAMBLE, footnotes=(), **options):
    return workbook(path, {"Contents": [["Contents"]], sheet: [*preamble, *mye2_rows(areas, **options), *footnotes]})


def myeb1_rows(areas, code="code", name="name", sexes=("M", "F"), years=(2021,)) -> list[list]:
    """MYEB1: one row per area x sex x age; the persons' counts split between the sexes."""
    rows = [[code, name, "geography", "sex", "age", *(f"population_{y}" for y in years)]]
    for area_code, area_name, geography, ages in areas:
        for index, sex in enumerate(sexes):
            for age, count in enumerate(ages):
                male = count // 2 + age % 3
                share = male if index == 0 else count - male
                rows.append([area_code, area_name, geography, sex, age, *(share + (y - years[-1]) for y in years)])
    return rows


# --- the real mid-2022 workbook ---------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    if not REAL.exists():
        pytest.skip("the shared ONS fixture is absent")
    return read_population(REAL)


def raw_persons():
    """An independent reading of `MYE2 - Persons`: openpyxl cells under the row-8 header."""
    book = load_workbook(REAL, read_only=True, data_only=True)
    rows = list(book["MYE2 - Persons"].iter_rows(values_only=True))
    book.close()
    header = rows[7]
    assert header[:4] == ("Code", "Name", "Geography", "All ages")
    return header, {row[0]: row for row in rows[8:] if row[0]}


@needs_real
def test_real_workbook_london(real):
    assert (real.sheet, real.layout) == ("MYE2 - Persons", "mye2_wide")
    assert list(real.data.columns) == COLUMNS
    assert set(real.data["mid_year"]) == {2022}
    london = real.data[real.data["area_code"].str.startswith("E09")]
    assert set(london["area_code"]) == set(load_reference().boroughs["gss_code"])
    city = real.data.set_index("area_code").loc["E09000001"]
    assert (city["area_name"], city["all_ages"], city["geography"]) == ("City of London", 10847, "London Borough")
    assert city["source_row"] == 212
    assert real.data.set_index("area_code").loc["E12000007", "area_name"] == "LONDON"


@needs_real
def test_real_workbook_accounting(real):
    # 439 rows below the header: 404 areas and 35 empty rows; no footnotes in this edition.
    assert (real.rows_read, real.rows_accepted) == (439, 404)
    assert real.excluded == {"note_row": 0, "blank_row": 35}
    assert len(real.data) == 404
    assert real.quality_row()["excluded_by_rule"] == '{"blank_row": 35}'


@needs_real
def test_real_workbook_against_raw_cells(real):
    header, raw = raw_persons()
    all_ages = header.index("All ages")
    focus = [header.index(str(age)) for age in range(10, 25)]
    ours = real.data.set_index("area_code")
    for code in load_reference().boroughs["gss_code"]:
        row = raw[code]
        assert ours.loc[code, "all_ages"] == row[all_ages]
        assert ours.loc[code, "aged_10_24"] == sum(row[c] for c in focus)
    assert ours.loc["E09000012", "aged_10_24"] == sum(raw["E09000012"][c] for c in focus)


@needs_real
def test_real_workbook_myeb1_agrees_with_mye2(real):
    long = read_population(REAL, sheet="MYEB1")
    assert (long.sheet, long.layout) == ("MYEB1", "myeb1_long")
    assert long.rows_read == long.rows_accepted == 73528
    assert set(long.data["mid_year"]) == {2011, 2022}
    mid2022 = long.data[long.data["mid_year"] == 2022].set_index("area_code")
    wide = real.data.set_index("area_code")
    assert list(mid2022.index) == list(wide.index)
    for column in ("area_name", "geography", "all_ages", "aged_10_24"):
        assert (mid2022[column] == wide[column]).all(), column


# --- constructed workbooks, one quirk each ----------------------------------------------------


def test_header_on_any_row_and_mid_year_from_the_title(tmp_path):
    low = read_population(mye2(tmp_path / "low.xlsx"))
    tall = [*PREAMBLE, [None], ["Source: Office for National Statistics"], [None], [None]]
    high = read_population(mye2(tmp_path / "high.xlsx", preamble=tall))
    for read in (low, high):
        assert read.data["mid_year"].tolist() == [2021, 2021]
        assert read.data["all_ages"].tolist() == [sum(HACKNEY[3]), sum(CITY[3])]
        assert read.data["aged_10_24"].tolist() == [sum(HACKNEY[3][10:25]), sum(CITY[3][10:25])]
    assert low.data["source_row"].tolist() == [5, 6]
    assert high.data["source_row"].tolist() == [9, 10]


def test_age_columns_as_numbers_or_text(tmp_path):
    text = read_population(mye2(tmp_path / "t.xlsx", ages_as_text=True)).data
    numbers = read_population(mye2(tmp_path / "n.xlsx", ages_as_text=False)).data
    assert text.drop(columns="source_file").equals(numbers.drop(columns="source_file"))


def test_sheet_name_with_trailing_space_and_other_case(tmp_path):
    read = read_population(mye2(tmp_path / "s.xlsx", sheet="mye2 - persons "))
    assert read.sheet == "mye2 - persons "
    assert read.data["source_sheet"].tolist() == ["mye2 - persons ", "mye2 - persons "]
    assert read_population(tmp_path / "s.xlsx", sheet=" MYE2 - Persons").sheet == "mye2 - persons "
    # The older name of the persons sheet.
    assert read_population(mye2(tmp_path / "all.xlsx", sheet="MYE2 - All")).sheet == "MYE2 - All"


def test_footnote_rows_ignored_and_counted(tmp_path):
    footnotes = [[None], ["Source: Office for National Statistics"], ["Note 1: figures may not sum due to rounding"]]
    read = read_population(mye2(tmp_path / "f.xlsx", footnotes=footnotes))
    assert len(read.data) == 2
    assert read.excluded == {"note_row": 2, "blank_row": 1}
    assert read.rows_read == read.rows_accepted + 3 == 5


def test_myeb1_long_form_gives_the_same_answer_as_mye2(tmp_path):
    wide = read_population(mye2(tmp_path / "w.xlsx")).data
    # A long table under its 2021 names, sex as 1/2, its header on row 2, and two mid-years.
    rows = [["MYEB1 detailed estimates"], *myeb1_rows([HACKNEY, CITY], "ladcode21", "laname21", (1, 2), (2020, 2021))]
    long = read_population(workbook(tmp_path / "l.xlsx", {"MYEB1 (2021 Geography)": rows}))
    assert long.layout == "myeb1_long" and long.rows_accepted == 2 * 2 * 91
    mid2021 = long.data[long.data["mid_year"] == 2021].reset_index(drop=True)
    for column in ("area_code", "area_name", "geography", "mid_year", "all_ages", "aged_10_24"):
        assert mid2021[column].tolist() == wide[column].tolist(), column
    mid2020 = long.data[long.data["mid_year"] == 2020]
    # Each of the 2 x 91 cells is one less in 2020.
    assert (mid2020["all_ages"].to_numpy() == wide["all_ages"].to_numpy() - 182).all()
    assert (mid2020["aged_10_24"].to_numpy() == wide["aged_10_24"].to_numpy() - 30).all()


def test_myeb1_as_csv(tmp_path):
    path = tmp_path / "MYEB1_mid-2021.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(myeb1_rows([CITY]))
    read = read_population(path)
    assert (read.sheet, read.layout) == (None, "myeb1_long")
    assert read.data[["area_code", "mid_year", "all_ages"]].values.tolist() == [["E09000001", 2021, sum(CITY[3])]]


def test_workbook_with_both_reads_mye2_unless_told(tmp_path):
    path = workbook(
        tmp_path / "both.xlsx",
        {"MYEB1": myeb1_rows([CITY], years=(2021,)), "MYE2 - Persons": [*PREAMBLE, *mye2_rows([CITY])]},
    )
    assert read_population(path).layout == "mye2_wide"
    assert read_population(path, sheet="myeb1").layout == "myeb1_long"


# --- errors name the file, the sheet, the row and the column ----------------------------------


def test_error_all_ages_not_the_sum(tmp_path):
    path = mye2(tmp_path / "sum.xlsx", all_ages={"E09000001": sum(CITY[3]) + 1})
    with pytest.raises(InputError) as error:
        read_population(path)
    assert str(error.value).startswith("sum.xlsx, row 6, column 'All ages': sheet 'MYE2 - Persons': all ages (")
    assert "is not the sum of the single years of age" in str(error.value)
    assert (error.value.row, error.value.column) == (6, "All ages")


def test_error_figure_not_a_number(tmp_path):
    path = mye2(tmp_path / "nan.xlsx")
    book = load_workbook(path)
    book["MYE2 - Persons"].cell(row=5, column=5 + 17).value = "c"
    book.save(path)
    with pytest.raises(InputError, match=r"nan\.xlsx, row 5, column '17': .*'c' is not a whole number of people"):
        read_population(path)


def test_error_missing_figure(tmp_path):
    path = mye2(tmp_path / "gap.xlsx")
    book = load_workbook(path)
    book["MYE2 - Persons"].cell(row=6, column=4 + 91).value = None
    book.save(path)
    with pytest.raises(InputError, match=r"gap\.xlsx, row 6, column '90\+': sheet 'MYE2 - Persons': no figure"):
        read_population(path)


def test_error_missing_age_column(tmp_path):
    rows = mye2_rows([CITY])
    for row in rows:
        del row[4 + 17]
    path = workbook(tmp_path / "ages.xlsx", {"MYE2 - Persons": [*PREAMBLE, *rows]})
    with pytest.raises(InputError, match=r"ages\.xlsx, row 4: sheet 'MYE2 - Persons': the header lacks the ages 17$"):
        read_population(path)


def test_error_area_without_figures_is_not_a_footnote(tmp_path):
    path = mye2(tmp_path / "empty.xlsx", footnotes=[["E09000002", "Barking and Dagenham", "London Borough"]])
    with pytest.raises(InputError, match=r"row 7, column 'All ages': .*no figures for the area E09000002$"):
        read_population(path)


def test_error_no_header_and_no_mid_year(tmp_path):
    path = workbook(tmp_path / "h.xlsx", {"MYE2 - Persons": [[TITLE], ["Area", "Total"]]})
    with pytest.raises(InputError, match=r"h\.xlsx: sheet 'MYE2 - Persons': no header row in the first 50 rows"):
        read_population(path)
    path = workbook(tmp_path / "y.xlsx", {"MYE2 - Persons": mye2_rows([CITY])})
    with pytest.raises(InputError, match=r"y\.xlsx: sheet 'MYE2 - Persons': cannot tell the mid-year"):
        read_population(path)


def test_error_no_sheet(tmp_path):
    path = workbook(tmp_path / "none.xlsx", {"Cover sheet": [["x"]], "MYE4": [["y"]]})
    with pytest.raises(InputError, match=r"none\.xlsx: no 'MYE2 - Persons' .* the workbook has 'Cover sheet', 'MYE4'"):
        read_population(path)
    with pytest.raises(InputError, match=r"no sheet 'MYE2 - Males'; the workbook has"):
        read_population(path, sheet="MYE2 - Males")


def test_error_xls_refused(tmp_path):
    path = tmp_path / "ukmidyearestimates2019.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    with pytest.raises(InputError, match=r"\.xls\): no \.xls reader is installed; .* save it as an \.xlsx workbook"):
        read_population(path)


def test_error_not_a_workbook(tmp_path):
    (tmp_path / "fake.xlsx").write_text("Code,Name\n")
    with pytest.raises(InputError, match=r"fake\.xlsx: named \.xlsx but is not an XLSX workbook"):
        read_population(tmp_path / "fake.xlsx")
    (tmp_path / "cut.xlsx").write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(InputError, match=r"cut\.xlsx: not a readable XLSX workbook"):
        read_population(tmp_path / "cut.xlsx")


def test_error_myeb1_missing_age_duplicate_and_bad_sex(tmp_path):
    rows = myeb1_rows([CITY])
    gone = workbook(tmp_path / "gone.xlsx", {"MYEB1": [r for r in rows if r[3:5] != ["F", 17]]})
    with pytest.raises(
        InputError, match=r"gone\.xlsx, row 2: sheet 'MYEB1': E09000001 has no row for sex and age F 17"
    ):
        read_population(gone)
    twice = workbook(tmp_path / "twice.xlsx", {"MYEB1": [*rows, rows[5]]})
    with pytest.raises(InputError, match=r"row 184, column 'age': .*E09000001 M age 4 again \(first at row 6\)"):
        read_population(twice)
    rows[3][3] = "P"
    sex = workbook(tmp_path / "sex.xlsx", {"MYEB1": rows})
    with pytest.raises(InputError, match=r"sex\.xlsx, row 4, column 'sex': sheet 'MYEB1': sex 'P' is not M/F"):
        read_population(sex)
