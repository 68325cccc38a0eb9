"""Edge cases real exports hit (found by an independent review of the readers)."""

import export_writers as w
import pytest
from openpyxl import Workbook

from tipipeline.errors import ConfigError, InputError
from tipipeline.ingest.codebook import load_codebook
from tipipeline.ingest.exports import read_export
from tipipeline.ingest.identifiers import identifying_columns
from tipipeline.ingest.surveys import ingest_file, ingest_wave
from tipipeline.reference import load_reference

# A reader test: every export it reads is read by both readers and compared (conftest.compare_readers).
pytestmark = pytest.mark.usefixtures("compare_readers")

KEY = b"a test key that is long enough"


@pytest.fixture(scope="module")
def reference():
    return load_reference()


def _codebook(tmp_path, text=w.TEST_CODEBOOK):
    path = tmp_path / "codebook.yaml"
    path.write_text(text)
    return load_codebook(path)


def _accounted(result) -> bool:
    return result.rows_read == result.rows_accepted + result.rows_quarantined + sum(result.rows_excluded.values())


def test_a_stray_quote_never_copies_other_cells_into_quarantine(tmp_path, reference):
    data = [w.response(i) for i in range(4)]
    data[0]["borough"] = '"Hackney'  # opens a quote that the next row closes
    data[1]["borough"] = 'Hackney"'
    path = w.qualtrics(tmp_path / "x.csv", data, bom=False, newline="\n")
    text = path.read_text().replace('"""Hackney"', '"Hackney').replace('"Hackney"""', 'Hackney"')
    path.write_text(text)
    result = ingest_file(path, _codebook(tmp_path), "w1", reference, KEY)
    assert _accounted(result)
    stored = result.quarantine.to_csv()
    assert "example.org" not in stored and "R_test" not in stored
    assert "stray quote" in " ".join(result.quarantine["reason"])


def test_consent_follows_the_positive_label_not_the_largest_number(tmp_path, reference):
    text = w.TEST_CODEBOOK.replace('values: {"Yes": 1, "No": 0}', 'values: {"Yes": 1, "No": 2}')
    data = [
        w.response(0, consent="Yes"),
        w.response(1, consent="No"),
        w.response(2, consent="Y"),
        w.response(3, consent=""),
    ]
    result = ingest_file(w.qualtrics(tmp_path / "x.csv", data), _codebook(tmp_path, text), "w1", reference, KEY)
    assert result.respondents["source_row"].tolist() == [4]
    assert result.rows_excluded == {"no_consent": 2}
    assert "consent: answer is not on the yes_no scale" in result.quarantine["reason"].iloc[0]


def test_a_yes_no_scale_without_a_yes_label_needs_positive(tmp_path):
    text = w.TEST_CODEBOOK.replace('values: {"Yes": 1, "No": 0}', 'values: {"Agreed": 1, "Declined": 0}')
    with pytest.raises(ConfigError, match="fields.consent.scale: scale 'yes_no' has no 'Yes' label"):
        _codebook(tmp_path, text)
    fixed = text.replace(
        'values: {"Agreed": 1, "Declined": 0}', 'values: {"Agreed": 1, "Declined": 0}\n    positive: Agreed'
    )
    assert _codebook(tmp_path, fixed).scales["yes_no"].positive_value == 1


def test_two_forms_files_in_one_wave_do_not_collide(tmp_path, reference):
    folder = tmp_path / "forms"
    folder.mkdir()
    council = w.forms_xlsx(folder / "council.xlsx", [w.response(i) for i in range(3)])
    police = w.forms_xlsx(
        folder / "police.xlsx", [w.response(10 + i, org="Met Police", borough="Camden") for i in range(3)]
    )
    result = ingest_wave([council, police], _codebook(tmp_path), "forms", reference, KEY)
    assert len(result.respondents) == 6 and result.exclusions.empty


def test_a_repeated_response_id_in_one_file_is_excluded(tmp_path, reference):
    data = [w.response(0), w.response(1), w.response(2, id="R_test0000", email="other@example.org")]
    result = ingest_file(w.qualtrics(tmp_path / "x.csv", data), _codebook(tmp_path), "w1", reference, KEY)
    assert result.rows_excluded == {"duplicate_response_id": 1}
    assert result.respondents["respondent_id"].is_unique


def test_keep_latest_compares_times_not_just_dates(tmp_path, reference):
    data = [
        w.response(0, recorded="2024-05-01 16:00:00"),
        w.response(1, recorded="2024-05-01 09:00:00", email="person0@example.org"),
    ]
    result = ingest_file(w.qualtrics(tmp_path / "x.csv", data), _codebook(tmp_path), "w1", reference, KEY)
    assert result.respondents["source_row"].tolist() == [4]
    assert str(result.respondents["submitted_date"].iloc[0]) == "2024-05-01"


def test_timestamps_with_offsets_or_rubbish_do_not_crash(tmp_path, reference):
    data = [
        w.response(0, recorded="2024-05-01T10:00:00+00:00"),
        w.response(1, recorded="2024-07-01T10:00:00+01:00"),
        w.response(2, recorded="2024-07-02T10:00:00Z"),
        w.response(3, recorded="not a date"),
    ]
    result = ingest_file(w.qualtrics(tmp_path / "x.csv", data), _codebook(tmp_path), "w1", reference, KEY)
    assert result.rows_accepted == 4
    assert [str(d) for d in result.respondents["submitted_date"]] == ["2024-05-01", "2024-07-01", "2024-07-02", "None"]


def test_qualtrics_export_with_header_rows_deleted_still_applies_status(tmp_path, reference):
    data = [w.response(0), w.response(1, status="Survey Preview"), w.response(2, status="8")]
    path = w.qualtrics(tmp_path / "x.csv", data, bom=False, newline="\n")
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], *lines[3:]]) + "\n")
    result = ingest_file(path, _codebook(tmp_path), "w1", reference, KEY)
    assert read_export(path).format == "plain_csv"
    assert result.rows_excluded == {"non_genuine_status": 2} and result.rows_accepted == 1


def test_unreadable_completeness_fields_are_quarantined(tmp_path, reference):
    data = [w.response(0, status=""), w.response(1, progress="abc"), w.response(2, finished="Partial"), w.response(3)]
    result = ingest_file(w.qualtrics(tmp_path / "x.csv", data), _codebook(tmp_path), "w1", reference, KEY)
    reasons = result.quarantine.set_index("source_row")["reason"]
    assert reasons[4] == "Status (response type) missing"
    assert reasons[5] == "Progress is not a number"
    assert reasons[6] == "Finished is not True or False"
    assert result.rows_accepted == 1


def test_numeric_codes_can_mean_dont_know(tmp_path, reference):
    text = w.TEST_CODEBOOK.replace(
        '    missing: ["Don\'t know", "Prefer not to say"]',
        '    missing: ["Don\'t know", "Prefer not to say"]\n    codes: {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: "Don\'t know"}',
    )
    data = [w.response(0, consent="1", a_1="6", a_2="2")]
    result = ingest_file(w.qualtrics(tmp_path / "x.csv", data), _codebook(tmp_path, text), "w1", reference, KEY)
    assert result.rows_accepted == 1 and result.answers["m__a_1"].iloc[0] != 0
    bad = text.replace('6: "Don\'t know"', '6: "Unsure"')
    with pytest.raises(ConfigError, match="'Unsure' is not one of this scale's missing labels"):
        _codebook(tmp_path, bad)


def test_an_unacceptable_newer_submission_does_not_knock_out_an_older_one(tmp_path, reference):
    data = [
        w.response(0),
        w.response(1, email="person0@example.org", recorded="2024-06-30 10:00:00", org="Nowhere Council"),
    ]
    result = ingest_file(w.qualtrics(tmp_path / "x.csv", data), _codebook(tmp_path), "w1", reference, KEY)
    assert result.respondents["source_row"].tolist() == [4] and result.rows_quarantined == 1


@pytest.mark.parametrize(
    ("header", "identifying"),
    [
        ("Staff can phone or email a manager for support.", False),
        ("Leaders give staff the latitude to adapt their practice to the person in front of them.", False),
        ("Your name", True),
        ("Name (optional)", True),
        ("Staff ID", True),
        ("Employee number", True),
        ("IP", True),
        ("Work address", True),
        ("NHS number", True),
        ("Email address of your manager", True),
        ("Organisation", False),
    ],
)
def test_identifying_headers(header, identifying):
    assert (identifying_columns([header]) == [header]) is identifying


def test_mostly_utf8_with_a_stray_byte_is_an_error(tmp_path):
    path = w.qualtrics(tmp_path / "x.csv", [w.response(0, a_1="Don\u2019t know")], bom=False)
    path.write_bytes(path.read_bytes() + b"\x92")
    with pytest.raises(InputError, match="mixes encodings"):
        read_export(path)


def test_match_by_text_uses_qualtrics_question_text(tmp_path, reference):
    text = w.TEST_CODEBOOK.replace(
        "  plain: {columns:",
        "  renumbered: {match_by: text, columns: {response_id: ResponseId, "
        "submitted: RecordedDate, duplicate_key: RecipientEmail}}\n  plain: {columns:",
    )
    path = w.qualtrics(tmp_path / "x.csv", [w.response(0)])
    content = path.read_text(encoding="utf-8-sig").replace("Q4_1", "Q9_1", 1).replace("Q4_2", "Q9_2", 1)
    path.write_text(content, encoding="utf-8")
    result = ingest_file(path, _codebook(tmp_path, text), "renumbered", reference, KEY)
    assert result.rows_accepted == 1 and result.answers["v__a_1"].iloc[0] == 4


def test_spss_style_v_headers_are_not_legacy_qualtrics(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("V1,V2,V3,V4\n1,2,3,4\n5,6,7,8\n9,10,11,12\n")
    raw = read_export(path)
    assert raw.format == "plain_csv" and raw.rows_read == 3


def test_an_empty_first_sheet_is_skipped(tmp_path, reference):
    path = w.forms_xlsx(tmp_path / "x.xlsx", [w.response(0)])
    from openpyxl import load_workbook

    book = load_workbook(path)
    book.create_sheet("Cover", 0)
    book.save(path)
    assert read_export(path).format == "microsoft_forms_xlsx"
    empty = Workbook()
    empty.save(tmp_path / "empty.xlsx")
    with pytest.raises(InputError, match="every sheet of the workbook is empty"):
        read_export(tmp_path / "empty.xlsx")


def test_only_the_duplicates_key_may_be_identifying(tmp_path):
    text = w.TEST_CODEBOOK.replace(
        'borough: {column: Q3, text: "Which borough do you mainly work in?", required: false}',
        'borough: {column: Q3, text: "Which borough do you mainly work in?", identifying: true}',
    )
    with pytest.raises(ConfigError, match="fields.borough.identifying: only the duplicates key can be identifying"):
        _codebook(tmp_path, text)


def test_utf16_tab_separated_export(tmp_path, reference):
    path = w.qualtrics(tmp_path / "x.csv", [w.response(0), w.response(1)], bom=False, newline="\r\n")
    rows = path.read_text().replace(",", "\t")  # the writer quotes nothing with commas in these rows
    path.write_bytes(rows.encode("utf-16"))
    raw = read_export(path)
    assert raw.encoding == "utf-16" and raw.format == "qualtrics_modern_csv" and raw.rows_read == 2


def test_row_numbers_are_spreadsheet_rows_even_with_multiline_headers(tmp_path, reference):
    path = w.qualtrics(tmp_path / "x.csv", [w.response(0), w.response(1, org="Nowhere")], bom=False, newline="\n")
    content = path.read_text().replace(
        "Which organisation do you work for?", '"Which organisation\ndo you work for?"', 1
    )
    path.write_text(content)
    result = ingest_file(path, _codebook(tmp_path), "w1", reference, KEY)
    assert result.quarantine["source_row"].tolist() == [5]  # row 5 in Excel, line 6 in a text editor
