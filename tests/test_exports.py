"""Reading every export format, and ingesting it through a codebook."""

import zipfile

import export_writers as w
import pandas as pd
import pytest
from conftest import SHARED

from tipipeline.errors import InputError
from tipipeline.ingest.codebook import load_codebook
from tipipeline.ingest.exports import read_export
from tipipeline.ingest.long_form import long_responses, missing_codes
from tipipeline.ingest.surveys import ingest_file
from tipipeline.reference import load_reference

# A reader test: every export it reads is read by both readers and compared (conftest.compare_readers).
pytestmark = pytest.mark.usefixtures("compare_readers")

KEY = b"a test key that is long enough"
FIXTURE = SHARED / "fixtures" / "qualtrics" / "qualtRics_sample.csv"


@pytest.fixture(scope="module")
def codebook(tmp_path_factory):
    path = tmp_path_factory.mktemp("cb") / "codebook.yaml"
    path.write_text(w.TEST_CODEBOOK)
    return load_codebook(path)


@pytest.fixture(scope="module")
def reference():
    return load_reference()


def rows(n=12, **changes):
    return [w.response(i, **changes) for i in range(n)]


FORMATS = [
    (
        "modern",
        lambda p, r: w.qualtrics(p / "x.csv", r),
        "qualtrics_modern_csv",
        3,
        None,
        [
            "IPAddress",
            "RecipientLastName",
            "RecipientFirstName",
            "RecipientEmail",
            "ExternalReference",
            "LocationLatitude",
            "LocationLongitude",
        ],
    ),
    (
        "insights",
        lambda p, r: w.qualtrics(p / "x.csv", r, style="python", bom=False, newline="\n"),
        "qualtrics_insights_csv",
        3,
        None,
        [
            "IPAddress",
            "RecipientLastName",
            "RecipientFirstName",
            "RecipientEmail",
            "ExternalReference",
            "LocationLatitude",
            "LocationLongitude",
        ],
    ),
    (
        "legacy",
        lambda p, r: w.qualtrics_legacy(p / "x.csv", r),
        "qualtrics_legacy_csv",
        2,
        "legacy",
        ["Name", "ExternalDataReference", "EmailAddress", "IPAddress"],
    ),
    (
        "forms",
        lambda p, r: w.forms_xlsx(p / "x.xlsx", r),
        "microsoft_forms_xlsx",
        1,
        "forms",
        ["Start time", "Completion time", "Email", "Name", "Last modified time"],
    ),
    (
        "smart",
        lambda p, r: w.smartsurvey_xlsx(p / "x.xlsx", r),
        "smartsurvey_xlsx",
        1,
        "smart",
        ["Name", "Email", "IP Address", "Unique ID"],
    ),
    ("plain", lambda p, r: w.plain_csv(p / "x.csv", r), "plain_csv", 1, "plain", ["email"]),
]


@pytest.mark.parametrize(
    ("label", "write", "fmt", "header_rows", "wave", "dropped"), FORMATS, ids=[f[0] for f in FORMATS]
)
def test_format_detected_and_ingested(tmp_path, codebook, reference, label, write, fmt, header_rows, wave, dropped):
    data = rows(12)
    data[3]["org"] = "Kensington & Chelsea"
    data[3]["borough"] = "Kensington & Chelsea"
    path = write(tmp_path, data)
    raw = read_export(path)
    assert raw.format == fmt and raw.header_rows == header_rows
    result = ingest_file(path, codebook, wave or "w1", reference, KEY)
    assert result.identifying_columns_dropped == dropped
    assert result.rows_read == 12 and result.rows_accepted == 12, result.quarantine
    staged = result.respondents
    assert set(staged["org_id"]) == {"E09000012", "E09000020"}
    answers = long_responses(result.answers, codebook).pivot(
        index="respondent_id", columns="item_id", values="scored_value"
    )
    assert (answers["a_1"] == 4).all() and (answers["a_2"] == 4).all()  # "Disagree" reverse-coded -> 4
    assert staged["submitted_date"].map(type).eq(type(pd.Timestamp("2024-01-01").date())).all()
    for column in staged.columns:
        assert not staged[column].astype(str).str.contains("example.org|203.0.113", regex=True).any()


def test_legacy_real_names_come_from_the_second_row(tmp_path):
    raw = read_export(w.qualtrics_legacy(tmp_path / "x.csv", rows(3)))
    assert raw.columns[:6] == [
        "ResponseID",
        "ResponseSet",
        "Name",
        "ExternalDataReference",
        "EmailAddress",
        "IPAddress",
    ]
    assert "Q4_1" in raw.columns and raw.encoding == "utf-8-sig"
    assert raw.rows_read == 3 and not raw.malformed  # the trailing commas are not extra data


@pytest.mark.parametrize(
    ("encoding", "bom", "newline"), [("utf-8", False, "\n"), ("utf-8", True, "\r\n"), ("cp1252", False, "\r\n")]
)
def test_encodings_and_line_endings(tmp_path, codebook, reference, encoding, bom, newline):
    data = rows(4, org="Hammersmith & Fulham Council", borough="Hammersmith & Fulham")
    data[0]["a_1"] = "Don\u2019t know"  # Excel's curly apostrophe, which cp1252 can encode
    data[1]["a_1"] = "Agree  "  # trailing spaces
    path = w.qualtrics(tmp_path / "x.csv", data, encoding=encoding, bom=bom, newline=newline)
    raw = read_export(path)
    assert raw.encoding == ("utf-8-sig" if bom else encoding)
    result = ingest_file(path, codebook, "w1", reference, KEY)
    assert result.rows_accepted == 4
    reasons = dict(zip(missing_codes(codebook)["code"], missing_codes(codebook)["missing_reason"]))
    answers = result.answers  # in the file's row order
    assert reasons[answers.loc[0, "m__a_1"]] == "Don't know" and pd.isna(answers.loc[0, "v__a_1"])
    assert answers.loc[1, "v__a_1"] == 4


def test_numeric_values_and_custom_recodes(tmp_path, reference):
    text = w.TEST_CODEBOOK.replace(
        '    missing: ["Don\'t know", "Prefer not to say"]',
        '    missing: ["Don\'t know", "Prefer not to say"]\n    codes: {10: 1, 11: 2, 12: 3, 13: 4, 14: 5}',
    )
    (tmp_path / "codebook.yaml").write_text(text)
    recoded = load_codebook(tmp_path / "codebook.yaml")
    data = rows(3, consent="1", a_1="13", a_2="11")
    data[2]["a_1"] = "4"  # not one of the declared codes
    result = ingest_file(w.qualtrics(tmp_path / "x.csv", data), recoded, "w1", reference, KEY)
    assert result.rows_accepted == 2 and result.rows_quarantined == 1
    assert set(result.answers["v__a_1"]) == {4.0}
    assert result.quarantine.iloc[0]["column"] == "Q4_1" and result.quarantine.iloc[0]["value"] == "4"


def test_status_codes_and_labels_both_excluded(tmp_path, codebook, reference):
    data = rows(8)
    data[0]["status"] = "1"  # Survey Preview, as a code
    data[1]["status"] = "Survey Test"
    data[2]["status"] = "8"  # Spam
    data[3]["status"] = "0"  # a normal response, as a code
    data[4]["status"] = "99"  # not a Qualtrics response type
    data[5].update(finished="False", progress="40")
    result = ingest_file(w.qualtrics(tmp_path / "x.csv", data), codebook, "w1", reference, KEY)
    assert result.rows_excluded == {"non_genuine_status": 3, "partial_response": 1}
    assert result.rows_quarantined == 1 and "unknown Qualtrics response type" in result.quarantine.iloc[0]["reason"]
    assert result.rows_accepted == 3


def test_duplicates_keep_the_latest_and_consent_refusals_are_excluded(tmp_path, codebook, reference):
    data = rows(5)
    data[4].update(email=data[1]["email"].upper() + "  ", recorded="2024-06-30 09:00:00")
    data[2]["consent"] = "No"
    data[3]["consent"] = ""
    result = ingest_file(w.qualtrics(tmp_path / "x.csv", data), codebook, "w1", reference, KEY)
    assert result.rows_excluded == {"no_consent": 2, "duplicate_submission": 1}
    excluded = result.exclusions.set_index("source_row")
    assert excluded.loc[5, "rule"] == "duplicate_submission"  # row 5 = the second response (line 4 + 1)
    assert "row 8" in excluded.loc[5, "detail"]


def test_malformed_and_truncated_rows_are_quarantined(tmp_path, codebook, reference):
    path = w.qualtrics(tmp_path / "x.csv", rows(4), bom=False, newline="\n")
    text = path.read_text()
    lines = text.splitlines()
    lines[4] = lines[4] + ",surplus"  # an extra, non-empty field
    truncated = "\n".join(lines)[:-30]  # cut the last row short
    path.write_text(truncated + "\n")
    result = ingest_file(path, codebook, "w1", reference, KEY)
    reasons = result.quarantine.set_index("source_row")["reason"]
    assert reasons[5].startswith("malformed row: ") and "may be truncated" in reasons[7]
    assert result.rows_read == result.rows_accepted + result.rows_quarantined + sum(result.rows_excluded.values())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"StartDate,EndDate,Status\r\n", "header but no responses"),
        (b"id;organisation;a_1;a_2\n1;Hackney;Agree;Agree\n", "looks semicolon-delimited"),
        (b"\x00\x01\x02binary\x00", "binary file"),
        (b"\n\n\n", "only blank lines"),
        (b"\x81\x8d\x8f\x90\x9d,a\n", "not text in UTF-8 or Windows-1252"),
    ],
)
def test_bad_csv_files_give_one_line_reasons(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_export(path)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert str(info.value).startswith("bad.csv")


def test_truncated_xlsx_is_a_clear_error(tmp_path):
    path = w.forms_xlsx(tmp_path / "x.xlsx", rows(30))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(InputError, match="not a readable XLSX workbook: truncated or corrupt"):
        read_export(path)


def test_xlsx_named_csv_is_read_as_xlsx(tmp_path):
    path = w.forms_xlsx(tmp_path / "x.xlsx", rows(2))
    renamed = path.rename(tmp_path / "export.csv")
    assert read_export(renamed).format == "microsoft_forms_xlsx"
    assert zipfile.is_zipfile(renamed)


def test_missing_codebook_column_is_named_with_close_matches(tmp_path, codebook, reference):
    path = w.qualtrics(tmp_path / "x.csv", rows(2))
    path.write_text(path.read_text(encoding="utf-8-sig").replace("Q4_2", "Q4_2x", 1), encoding="utf-8")
    with pytest.raises(InputError) as info:
        ingest_file(path, codebook, "w1", reference, KEY)
    assert "codebook column 'Q4_2' (a_2) is not in the export; close matches: 'Q4_2x'" in str(info.value)


def test_duplicated_header_used_by_the_codebook_is_ambiguous(tmp_path, codebook, reference):
    path = w.qualtrics(tmp_path / "x.csv", rows(2))
    path.write_text(path.read_text(encoding="utf-8-sig").replace("Q4_2", "Q4_1", 1), encoding="utf-8")
    with pytest.raises(InputError, match="appears 2 times in the header"):
        ingest_file(path, codebook, "w1", reference, KEY)


def test_geography_that_contradicts_the_organisation_is_quarantined(tmp_path, codebook, reference):
    data = rows(4)
    data[0].update(org="NHS North East London", borough="Croydon")  # Croydon is in SWL
    data[1].update(org="Met Police", borough="City of London")  # the City has its own police
    data[2].update(org="Met Police", borough="Camden")
    data[3].update(org="NHS NCL ICB", borough="Camden")
    result = ingest_file(w.qualtrics(tmp_path / "x.csv", data), codebook, "w1", reference, KEY)
    reasons = result.quarantine.set_index("source_row")["reason"]
    assert "not in the respondent's ICB" in reasons[4]
    assert "City of London Police" in reasons[5]
    staged = result.respondents.set_index("source_row")
    assert staged.loc[6, ["org_id", "borough_code", "bcu_code"]].tolist() == ["E23000001", "E09000007", "CN"]
    assert staged.loc[7, ["icb_code", "borough_code"]].tolist() == ["E54000028", "E09000007"]


def test_pseudonyms_are_keyed_and_stable(tmp_path, codebook, reference):
    path = w.qualtrics(tmp_path / "x.csv", rows(3))
    first = ingest_file(path, codebook, "w1", reference, KEY).respondents["respondent_id"]
    again = ingest_file(path, codebook, "w1", reference, KEY).respondents["respondent_id"]
    other_key = ingest_file(path, codebook, "w1", reference, b"another key, also long enough").respondents[
        "respondent_id"
    ]
    other_wave = ingest_file(path, codebook, "w2", reference, KEY).respondents["respondent_id"]
    assert first.tolist() == again.tolist()
    assert not set(first) & set(other_key) and not set(first) & set(other_wave)
    assert first.str.fullmatch(r"[0-9a-f]{32}").all()


@pytest.mark.skipif(not FIXTURE.exists(), reason="shared fixtures are not present")
def test_real_qualtrics_fixture_is_read():
    raw = read_export(FIXTURE)
    assert raw.format == "qualtrics_modern_csv" and raw.header_rows == 3 and raw.rows_read == 1
    assert raw.question_text["LocationLatitude"] == "Breitengrad des Standorts"
    assert raw.data.loc[0, "Q2"] == "Hello World!"
