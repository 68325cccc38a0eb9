"""Reading ONS mid-year population estimates: the real mid-2022 workbook, and each quirk, in an
.xlsx and in an Excel 97-2003 .xls written with the same rows."""

import csv

import pandas as pd
import pytest
from conftest import SHARED
from openpyxl import Workbook, load_workbook
from xls_writer import password_protected_xls, renamed_stream_xls, xls_workbook

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
    """The sheets' rows in an .xlsx (openpyxl), or in an .xls (xlwt) when the name ends .xls."""
    if path.suffix == ".xls":
        return xls_workbook(path, sheets)
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


@needs_real
def test_real_workbook_as_xls_reads_the_same(real, tmp_path):
    """The real sheets written cell for cell into an .xls (xlwt) read as the .xlsx does. MYEB1
    (73,529 rows) and MYE2 - Females (405 columns) exceed the .xls format's 65,536 rows and 256
    columns, so they are left out."""
    book = load_workbook(REAL, read_only=True, data_only=True)
    names = ["Cover sheet", "Contents", "MYE2 - Persons", "MYE2 - Males"]
    sheets = {name: [list(row) for row in book[name].iter_rows(values_only=True)] for name in names}
    book.close()
    xls = read_population(xls_workbook(tmp_path / "mye22final.xls", sheets))
    assert (xls.sheet, xls.layout, xls.rows_accepted) == ("MYE2 - Persons", "mye2_wide", 404)
    assert xls.data["source_file"].eq("mye22final.xls").all()
    pd.testing.assert_frame_equal(xls.data.drop(columns="source_file"), real.data.drop(columns="source_file"))
    # The .xlsx's 35 blank rows after the table are formatted cells; xlwt writes none, and xlrd
    # would drop them anyway: the .xls has no rows below the last area.
    assert (xls.rows_read, xls.excluded) == (404, {"note_row": 0, "blank_row": 0})
    assert (real.rows_read, real.excluded["blank_row"]) == (439, 35)
    males = read_population(tmp_path / "mye22final.xls", sheet="MYE2 - Males").data.set_index("area_code")
    assert males.loc["E09000001", "all_ages"] < real.data.set_index("area_code").loc["E09000001", "all_ages"]


# --- constructed workbooks, one quirk each, as .xlsx and as .xls ------------------------------


@pytest.fixture(params=["xlsx", "xls"])
def ext(request) -> str:
    """The workbook format a test writes its rows in."""
    return request.param


def test_xls_and_xlsx_with_the_same_rows_read_the_same(tmp_path):
    """Each quirk at once, written both ways: identical frames and accounting, and the figures
    are the hand-written ones."""
    tall = [*PREAMBLE, [None], ["Source: Office for National Statistics"], [None]]
    footnotes = [[None], ["Note 1: figures may not sum due to rounding"]]
    rows = [*tall, *mye2_rows([HACKNEY, CITY], ages_as_text=False), *footnotes]
    long_rows = [["MYEB1 detailed estimates"], *myeb1_rows([CITY], "ladcode21", "laname21", (1, 2), (2020, 2021))]
    sheets = {"Cover sheet": [["Population estimates"]], "MYE2 - Persons ": rows, "MYEB1": long_rows}
    for sheet in (None, "myeb1"):
        xlsx = read_population(workbook(tmp_path / "mye.xlsx", sheets), sheet=sheet)
        xls = read_population(workbook(tmp_path / "mye.xls", sheets), sheet=sheet)
        assert (xls.sheet, xls.layout, xls.rows_read, xls.rows_accepted, xls.excluded) == (
            xlsx.sheet,
            xlsx.layout,
            xlsx.rows_read,
            xlsx.rows_accepted,
            xlsx.excluded,
        )
        assert xls.data["source_file"].eq("mye.xls").all()
        pd.testing.assert_frame_equal(xls.data.drop(columns="source_file"), xlsx.data.drop(columns="source_file"))
    wide = read_population(tmp_path / "mye.xls")
    assert wide.sheet == "MYE2 - Persons " and wide.excluded == {"note_row": 1, "blank_row": 1}
    assert wide.data[["area_code", "mid_year", "all_ages", "aged_10_24", "source_row"]].values.tolist() == [
        ["E09000012", 2021, sum(HACKNEY[3]), sum(HACKNEY[3][10:25]), 8],
        ["E09000001", 2021, sum(CITY[3]), sum(CITY[3][10:25]), 9],
    ]
    long = read_population(tmp_path / "mye.xls", sheet="MYEB1").data
    assert long[["mid_year", "all_ages"]].values.tolist() == [[2020, sum(CITY[3]) - 182], [2021, sum(CITY[3])]]


def test_workbooks_are_told_apart_by_content_not_name(tmp_path):
    """An .xls saved under an .xlsx name, or an .xlsx under an .xls name, is read for what it is."""
    (tmp_path / "real_xls.xlsx").write_bytes(mye2(tmp_path / "a.xls").read_bytes())
    (tmp_path / "real_xlsx.xls").write_bytes(mye2(tmp_path / "b.xlsx").read_bytes())
    for name in ("real_xls.xlsx", "real_xlsx.xls"):
        read = read_population(tmp_path / name)
        assert read.data["all_ages"].tolist() == [sum(HACKNEY[3]), sum(CITY[3])], name


def test_header_on_any_row_and_mid_year_from_the_title(tmp_path, ext):
    low = read_population(mye2(tmp_path / f"low.{ext}"))
    tall = [*PREAMBLE, [None], ["Source: Office for National Statistics"], [None], [None]]
    high = read_population(mye2(tmp_path / f"high.{ext}", preamble=tall))
    for read in (low, high):
        assert read.data["mid_year"].tolist() == [2021, 2021]
        assert read.data["all_ages"].tolist() == [sum(HACKNEY[3]), sum(CITY[3])]
        assert read.data["aged_10_24"].tolist() == [sum(HACKNEY[3][10:25]), sum(CITY[3][10:25])]
    assert low.data["source_row"].tolist() == [5, 6]
    assert high.data["source_row"].tolist() == [9, 10]


def test_age_columns_as_numbers_or_text(tmp_path, ext):
    text = read_population(mye2(tmp_path / f"t.{ext}", ages_as_text=True)).data
    numbers = read_population(mye2(tmp_path / f"n.{ext}", ages_as_text=False)).data
    assert text.drop(columns="source_file").equals(numbers.drop(columns="source_file"))


def test_sheet_name_with_trailing_space_and_other_case(tmp_path, ext):
    read = read_population(mye2(tmp_path / f"s.{ext}", sheet="mye2 - persons "))
    assert read.sheet == "mye2 - persons "
    assert read.data["source_sheet"].tolist() == ["mye2 - persons ", "mye2 - persons "]
    assert read_population(tmp_path / f"s.{ext}", sheet=" MYE2 - Persons").sheet == "mye2 - persons "
    # The older name of the persons sheet.
    assert read_population(mye2(tmp_path / f"all.{ext}", sheet="MYE2 - All")).sheet == "MYE2 - All"


def test_footnote_rows_ignored_and_counted(tmp_path, ext):
    footnotes = [[None], ["Source: Office for National Statistics"], ["Note 1: figures may not sum due to rounding"]]
    read = read_population(mye2(tmp_path / f"f.{ext}", footnotes=footnotes))
    assert len(read.data) == 2
    assert read.excluded == {"note_row": 2, "blank_row": 1}
    assert read.rows_read == read.rows_accepted + 3 == 5


def test_myeb1_long_form_gives_the_same_answer_as_mye2(tmp_path, ext):
    wide = read_population(mye2(tmp_path / f"w.{ext}")).data
    # A long table under its 2021 names, sex as 1/2, its header on row 2, and two mid-years.
    rows = [["MYEB1 detailed estimates"], *myeb1_rows([HACKNEY, CITY], "ladcode21", "laname21", (1, 2), (2020, 2021))]
    long = read_population(workbook(tmp_path / f"l.{ext}", {"MYEB1 (2021 Geography)": rows}))
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


def test_workbook_with_both_reads_mye2_unless_told(tmp_path, ext):
    path = workbook(
        tmp_path / f"both.{ext}",
        {"MYEB1": myeb1_rows([CITY], years=(2021,)), "MYE2 - Persons": [*PREAMBLE, *mye2_rows([CITY])]},
    )
    assert read_population(path).layout == "mye2_wide"
    assert read_population(path, sheet="myeb1").layout == "myeb1_long"


# --- errors name the file, the sheet, the row and the column ----------------------------------


def test_error_all_ages_not_the_sum(tmp_path, ext):
    path = mye2(tmp_path / f"sum.{ext}", all_ages={"E09000001": sum(CITY[3]) + 1})
    with pytest.raises(InputError) as error:
        read_population(path)
    assert str(error.value).startswith(f"sum.{ext}, row 6, column 'All ages': sheet 'MYE2 - Persons': all ages (")
    assert "is not the sum of the single years of age" in str(error.value)
    assert (error.value.row, error.value.column) == (6, "All ages")


def test_error_figure_not_a_number(tmp_path, ext):
    rows = mye2_rows([HACKNEY, CITY])
    rows[1][4 + 17] = "c"  # Hackney (row 5), age 17
    path = workbook(tmp_path / f"nan.{ext}", {"MYE2 - Persons": [*PREAMBLE, *rows]})
    with pytest.raises(InputError, match=rf"nan\.{ext}, row 5, column '17': .*'c' is not a whole number of people"):
        read_population(path)


def test_error_missing_figure(tmp_path, ext):
    rows = mye2_rows([HACKNEY, CITY])
    rows[2][4 + 90] = None  # the City (row 6), 90+
    path = workbook(tmp_path / f"gap.{ext}", {"MYE2 - Persons": [*PREAMBLE, *rows]})
    with pytest.raises(InputError, match=rf"gap\.{ext}, row 6, column '90\+': sheet 'MYE2 - Persons': no figure"):
        read_population(path)


def test_error_missing_age_column(tmp_path, ext):
    rows = mye2_rows([CITY])
    for row in rows:
        del row[4 + 17]
    path = workbook(tmp_path / f"ages.{ext}", {"MYE2 - Persons": [*PREAMBLE, *rows]})
    with pytest.raises(InputError, match=rf"ages\.{ext}, row 4: sheet 'MYE2 - Persons': the header lacks the ages 17$"):
        read_population(path)


def test_error_area_without_figures_is_not_a_footnote(tmp_path, ext):
    path = mye2(tmp_path / f"empty.{ext}", footnotes=[["E09000002", "Barking and Dagenham", "London Borough"]])
    with pytest.raises(InputError, match=r"row 7, column 'All ages': .*no figures for the area E09000002$"):
        read_population(path)


def test_error_no_header_and_no_mid_year(tmp_path, ext):
    path = workbook(tmp_path / f"h.{ext}", {"MYE2 - Persons": [[TITLE], ["Area", "Total"]]})
    with pytest.raises(InputError, match=rf"h\.{ext}: sheet 'MYE2 - Persons': no header row in the first 50 rows"):
        read_population(path)
    path = workbook(tmp_path / f"y.{ext}", {"MYE2 - Persons": mye2_rows([CITY])})
    with pytest.raises(InputError, match=rf"y\.{ext}: sheet 'MYE2 - Persons': cannot tell the mid-year"):
        read_population(path)


def test_error_no_sheet(tmp_path, ext):
    path = workbook(tmp_path / f"none.{ext}", {"Cover sheet": [["x"]], "MYE4": [["y"]]})
    with pytest.raises(
        InputError, match=rf"none\.{ext}: no 'MYE2 - Persons' .* the workbook has 'Cover sheet', 'MYE4'"
    ):
        read_population(path)
    with pytest.raises(InputError, match=r"no sheet 'MYE2 - Males'; the workbook has"):
        read_population(path, sheet="MYE2 - Males")


def test_error_not_a_workbook(tmp_path):
    (tmp_path / "fake.xlsx").write_text("Code,Name\n")
    with pytest.raises(InputError, match=r"fake\.xlsx: named \.xlsx but is not an XLSX workbook"):
        read_population(tmp_path / "fake.xlsx")
    (tmp_path / "cut.xlsx").write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(InputError, match=r"cut\.xlsx: not a readable XLSX workbook"):
        read_population(tmp_path / "cut.xlsx")


def test_error_xls_not_a_workbook(tmp_path):
    (tmp_path / "text.xls").write_text("Code,Name,All ages\n")
    with pytest.raises(InputError, match=r"^text\.xls: named \.xls but is not an Excel workbook$"):
        read_population(tmp_path / "text.xls")
    (tmp_path / "page.xls").write_text("<html><body><table><tr><td>Code</td></tr></table></body></html>")
    with pytest.raises(
        InputError, match=r"^page\.xls: named \.xls but is a web page \(HTML\), not an Excel workbook: "
    ):
        read_population(tmp_path / "page.xls")
    (tmp_path / "empty.xls").write_bytes(b"")
    with pytest.raises(InputError, match=r"^empty\.xls: the file is empty"):
        read_population(tmp_path / "empty.xls")
    word = renamed_stream_xls(tmp_path / "letter.xls", mye2(tmp_path / "m.xls"), "WordDocument")
    with pytest.raises(InputError, match=r"^letter\.xls: an Office file with no workbook in it"):
        read_population(word)


def test_error_xls_truncated_or_corrupt(tmp_path):
    whole = mye2(tmp_path / "whole.xls").read_bytes()
    header_only = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # the signature, then nothing
    for name, data in [("sig.xls", whole[:8]), ("half.xls", whole[: len(whole) // 2]), ("zeros.xls", header_only)]:
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InputError) as error:
            read_population(tmp_path / name)
        assert str(error.value).startswith(
            f"{name}: not a readable Excel 97-2003 workbook (.xls): truncated or corrupt ("
        )
        assert error.value.file == str(tmp_path / name)


def test_error_password_protected(tmp_path):
    protected = password_protected_xls(tmp_path / "locked.xls")
    message = "the workbook is password-protected (encrypted): open it in Excel, remove the password and save it again"
    with pytest.raises(InputError) as error:
        read_population(protected)
    assert str(error.value) == f"locked.xls: {message}"
    # A password-protected .xlsx is an OLE2 file too, its workbook in an EncryptedPackage stream.
    locked_xlsx = renamed_stream_xls(tmp_path / "locked.xlsx", mye2(tmp_path / "m.xls"), "EncryptedPackage")
    with pytest.raises(InputError) as error:
        read_population(locked_xlsx)
    assert str(error.value) == f"locked.xlsx: {message}"


def test_error_myeb1_missing_age_duplicate_and_bad_sex(tmp_path, ext):
    rows = myeb1_rows([CITY])
    gone = workbook(tmp_path / f"gone.{ext}", {"MYEB1": [r for r in rows if r[3:5] != ["F", 17]]})
    with pytest.raises(
        InputError, match=rf"gone\.{ext}, row 2: sheet 'MYEB1': E09000001 has no row for sex and age F 17"
    ):
        read_population(gone)
    twice = workbook(tmp_path / f"twice.{ext}", {"MYEB1": [*rows, rows[5]]})
    with pytest.raises(InputError, match=r"row 184, column 'age': .*E09000001 M age 4 again \(first at row 6\)"):
        read_population(twice)
    rows[3][3] = "P"
    sex = workbook(tmp_path / f"sex.{ext}", {"MYEB1": rows})
    with pytest.raises(InputError, match=rf"sex\.{ext}, row 4, column 'sex': sheet 'MYEB1': sex 'P' is not M/F"):
        read_population(sex)


def test_outcome_folder_reads_an_xls_and_stops_on_a_broken_one(tmp_path):
    from tipipeline.outcomes.build import read_outcome_folder

    folder = tmp_path / "outcomes"
    folder.mkdir()
    mye2(folder / "mye21.xls")
    inputs = read_outcome_folder(folder, load_reference())
    assert inputs.population[["area_code", "all_ages", "source_file"]].values.tolist() == [
        ["E09000012", sum(HACKNEY[3]), "mye21.xls"],
        ["E09000001", sum(CITY[3]), "mye21.xls"],
    ]
    quality = inputs.data_quality.set_index("source_file").loc["mye21.xls"]
    assert (quality["source"], quality["file_format"], quality["rows_accepted"]) == ("population", "ons_mye2_wide", 2)
    password_protected_xls(folder / "mye20.xls")
    with pytest.raises(InputError, match=r"^mye20\.xls: the workbook is password-protected"):
        read_outcome_folder(folder, load_reference())
