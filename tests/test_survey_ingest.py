"""Survey ingestion of the bundled sample and the real Qualtrics fixture, through the pipeline."""

import csv
import io
import json
import shutil

import duckdb
import pandas as pd
import pytest
from conftest import SAMPLE_RAW, SHARED, TABLES_ONLY
from dagster import DagsterInstance

from tipipeline.check import check_files
from tipipeline.cli import main
from tipipeline.ingest.codebook import load_codebook
from tipipeline.ingest.identifiers import DEVELOPMENT_KEY
from tipipeline.ingest.long_form import long_responses
from tipipeline.ingest.surveys import ingest_wave
from tipipeline.pipeline import PipelineError, run_pipeline
from tipipeline.reference import load_reference
from tipipeline.sample.generator import small_organisations
from tipipeline.schemas.ingest import StgRespondents, StgResponses, answers_schema
from tipipeline.schemas.validation import validate

# A reader test: every export it reads is read by both readers and compared (conftest.compare_readers).
pytestmark = pytest.mark.usefixtures("compare_readers")

MANIFEST = json.loads((SAMPLE_RAW / "sample_manifest.json").read_text())
FIXTURE = SHARED / "fixtures" / "qualtrics" / "qualtRics_sample.csv"
FIXTURE_IDENTIFYING = [
    "IPAddress",
    "RecipientLastName",
    "RecipientFirstName",
    "RecipientEmail",
    "ExternalReference",
    "LocationLatitude",
    "LocationLongitude",
]
needs_fixture = pytest.mark.skipif(not FIXTURE.exists(), reason="shared fixtures are not present")


@pytest.fixture(scope="module", params=[w["wave"] for w in MANIFEST["waves"]])
def sample_wave(request):
    wave = request.param
    codebook = load_codebook(SAMPLE_RAW / "surveys" / "codebook.yaml")
    files = sorted(p for p in (SAMPLE_RAW / "surveys" / wave).iterdir() if p.suffix in (".csv", ".xlsx"))
    return wave, ingest_wave(files, codebook, wave, load_reference(), DEVELOPMENT_KEY)


def test_every_row_is_accounted_for(sample_wave):
    _, result = sample_wave
    for quality in result.data_quality.itertuples():
        assert quality.rows_read == quality.rows_accepted + quality.rows_quarantined + quality.rows_excluded
        assert sum(json.loads(quality.excluded_by_rule).values()) == quality.rows_excluded
    assert len(result.respondents) == result.data_quality["rows_accepted"].sum()
    assert result.quarantine["source_row"].nunique() == result.data_quality["rows_quarantined"].sum()
    assert len(result.exclusions) == result.data_quality["rows_excluded"].sum()
    seen = (
        set(result.respondents["source_row"])
        | set(result.quarantine["source_row"])
        | set(result.exclusions["source_row"])
    )
    assert len(seen) == result.data_quality["rows_read"].sum()  # no row in two places


EXPECTED_RULE = {
    "survey_preview": "non_genuine_status",
    "survey_test": "non_genuine_status",
    "spam": "non_genuine_status",
    "partial_response": "partial_response",
    "refused_consent": "no_consent",
    "duplicate_submission": "duplicate_submission",
}


def test_every_dirty_row_lands_where_it_should(sample_wave):
    wave, result = sample_wave
    excluded = result.exclusions.set_index("source_row")["rule"]
    quarantined = set(result.quarantine["source_row"])
    accepted = result.respondents.set_index("source_row")
    entries = [e for e in MANIFEST["dirty_rows"] if e["wave"] == wave]
    assert entries
    for entry in entries:
        row = entry["row"]
        if entry["expected"] == "excluded":
            assert excluded.get(row) == EXPECTED_RULE[entry["kind"]], entry
        elif entry["expected"] == "quarantined":
            assert row in quarantined, entry
            reasons = " ".join(result.quarantine.loc[result.quarantine["source_row"] == row, "reason"])
            assert ("does not resolve" in reasons) if "organisation" in entry["kind"] else ("not on the" in reasons)
        else:
            assert row in accepted.index, entry
    # The alias rows resolved to the right organisations.
    alias_rows = {e["row"]: e["detail"] for e in entries if e["kind"] == "alias_organisation"}
    resolved = {accepted.loc[r, "org_id"] for r in alias_rows}
    assert {"E09000012", "E09000020", "E23000001", "E54000029", "E09000027"} == resolved
    # Nothing dirty was quarantined or excluded beyond the listed rows.
    dirty_rows = {e["row"] for e in entries if e["expected"] != "accepted"}
    assert set(excluded.index) | quarantined == dirty_rows


def test_small_organisations_stay_small(sample_wave):
    wave, result = sample_wave
    counts = result.respondents["org_id"].value_counts()
    small = small_organisations([w["wave"] for w in MANIFEST["waves"]].index(wave))
    assert small and all(counts[org_id] < 10 for org_id in small)
    assert (counts[~counts.index.isin(list(small))] >= 10).all()


def test_staging_holds_no_identifiers_and_free_text_is_restricted(sample_wave):
    _, result = sample_wave
    text = result.respondents.to_csv() + result.answers.to_csv() + result.quarantine.to_csv()
    for marker in ("@example.org", "192.0.2.", "198.51.100.", "203.0.113.", "R_"):
        assert marker not in text
    assert "practice_example" not in result.respondents.columns
    assert set(result.free_text["field"]) == {"practice_example"}
    assert result.respondents["submitted_date"].map(lambda d: d is None or not hasattr(d, "hour")).all()


def test_long_form_passes_its_schema_and_answers_pass_theirs(sample_wave):
    _, result = sample_wave
    codebook = load_codebook(SAMPLE_RAW / "surveys" / "codebook.yaml")
    assert validate(answers_schema(codebook), result.answers).passed
    responses = long_responses(result.answers, codebook)
    outcome = validate(StgResponses, responses)
    assert outcome.passed, outcome.summary()
    assert len(responses) == len(result.respondents) * len(codebook.items)


def test_row_wise_staging_checks_fail_on_a_constructed_breach(sample_wave):
    """The wide answers' "missing code iff no value" and the respondents' one-row-per-respondent and
    BCU rules each fail on a row that breaks them (they run with ignore_na=False, for speed)."""
    _, result = sample_wave
    codebook = load_codebook(SAMPLE_RAW / "surveys" / "codebook.yaml")
    item = codebook.items[0].id
    answers = result.answers.copy()
    answered = answers.index[answers[f"v__{item}"].notna()][0]
    answers.loc[answered, f"m__{item}"] = 1  # a value and a missing code
    outcome = validate(answers_schema(codebook), answers)
    assert not outcome.passed
    assert set(outcome.failure_cases["check"]) == {f"{item}_missing_code_iff_no_value"}
    assert set(outcome.failure_cases["index"]) == {answered}

    respondents = result.respondents.copy()
    assert validate(StgRespondents, respondents).passed
    twice = pd.concat([respondents, respondents.iloc[[0]]], ignore_index=True)
    assert "one_row_per_wave_respondent_id" in set(validate(StgRespondents, twice).failure_cases["check"])
    not_police = respondents.index[respondents["sector"] != "police"][0]
    respondents.loc[not_police, "bcu_code"] = "AW"
    failed = validate(StgRespondents, respondents).failure_cases
    assert set(failed.loc[failed["check"] == "police_have_a_bcu_or_none_is_known", "index"]) == {not_police}


def test_reverse_coding_and_missing_codes(sample_wave):
    _, result = sample_wave
    responses = long_responses(result.answers, load_codebook(SAMPLE_RAW / "surveys" / "codebook.yaml"))
    reverse = responses[responses["item_id"] == "gov_3"].dropna(subset=["value"])
    assert ((reverse["value"] + reverse["scored_value"]) == 6).all()
    plain = responses[responses["item_id"] == "gov_1"].dropna(subset=["value"])
    assert (plain["value"] == plain["scored_value"]).all()
    reasons = set(responses["missing_reason"].dropna())
    assert reasons == {"Don't know", "Prefer not to say", "not_answered"}


# --- through the pipeline, into the warehouse --------------------------------------------------

FIXTURE_CODEBOOK = """\
version: 1
instrument: qualtRics sample (a real export, used to prove identifiers never reach the warehouse)
scales:
  choice: {values: {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5}}
fields:
  response_id: {column: ResponseId}
  submitted: {column: RecordedDate}
  organisation: {column: Organisation, required: false}
  practice_example: {column: Q2, free_text: true}
items:
  - {id: q1, column: Q1, domain: policy, principle: safety, scale: choice}
"""


def _with_organisation(source, target, organisation):
    """The fixture with one more column, Organisation, so that its row can be accepted."""
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8"), newline="")))
    rows[0].append("Organisation")
    rows[1].append("Organisation")
    rows[2].append('{"ImportId":"QID9_TEXT"}')
    for row in rows[3:]:
        row.append(organisation)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    target.write_text(buffer.getvalue(), encoding="utf-8")


@pytest.fixture()
def fixture_data_dir(tmp_path, monkeypatch):
    from tipipeline.settings import get_settings

    surveys = tmp_path / "data" / "raw" / "surveys"
    (surveys / "2017-w1").mkdir(parents=True)
    (surveys / "codebook.yaml").write_text(FIXTURE_CODEBOOK)
    shutil.copy(FIXTURE, surveys / "2017-w1" / "qualtRics_sample.csv")
    _with_organisation(FIXTURE, surveys / "2017-w1" / "qualtRics_sample_with_organisation.csv", "Met Police")
    monkeypatch.setenv("TIPIPELINE_PSEUDONYM_KEY", "a key for the identifier test only")
    return get_settings(tmp_path / "data", tmp_path / "outputs")


@needs_fixture
def test_fixture_identifiers_appear_nowhere_in_the_warehouse(fixture_data_dir):
    settings = fixture_data_dir
    with DagsterInstance.ephemeral() as instance:
        run_pipeline(settings, instance=instance)
    warehouse = settings.warehouse_path
    raw_bytes = b"".join(p.read_bytes() for p in warehouse.parent.iterdir() if p.name.startswith(warehouse.name))
    for secret in (b"130.92.34.66", b"47.115097", b"7.2315979", b"R_2YPOQ602ER1jkf1"):
        assert secret not in raw_bytes
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        tables = [t for (t,) in conn.execute("SHOW TABLES").fetchall()]
        for table in tables:
            dump = conn.execute(f"SELECT * FROM {table}").df().to_csv()
            for secret in ("130.92.34.66", "47.115097", "7.2315979", "R_2YPOQ602ER1jkf1"):
                assert secret not in dump, (table, secret)
            if table != "restricted_free_text":
                assert "Hello World!" not in dump, table
        quality = conn.execute(
            "SELECT source_file, rows_read, rows_accepted, rows_quarantined, identifying_columns_dropped "
            "FROM survey_data_quality ORDER BY source_file"
        ).fetchall()
        accepted = conn.execute("SELECT org_id, submitted_date FROM stg_respondents").fetchall()
        free_text = conn.execute("SELECT text FROM restricted_free_text").fetchall()
    assert [(q[0], q[1], q[2], q[3]) for q in quality] == [
        ("qualtRics_sample.csv", 1, 0, 1),
        ("qualtRics_sample_with_organisation.csv", 1, 1, 0),
    ]
    assert json.loads(quality[0][4]) == FIXTURE_IDENTIFYING
    assert [(a[0], str(a[1])) for a in accepted] == [("E23000001", "2017-07-18")]
    assert free_text == [("Hello World!",)]


@needs_fixture
def test_non_sample_data_without_a_key_is_refused(fixture_data_dir, monkeypatch, tmp_path):
    monkeypatch.delenv("TIPIPELINE_PSEUDONYM_KEY")
    monkeypatch.chdir(tmp_path)  # no .secrets/ here
    with DagsterInstance.ephemeral() as instance, pytest.raises(PipelineError) as info:
        run_pipeline(fixture_data_dir, instance=instance)
    assert "refusing to ingest non-sample survey data without a pseudonymisation key" in str(info.value)


@needs_fixture
def test_check_reports_the_fixture(capsys, tmp_path, monkeypatch):
    # By default check validates against the data directory's codebook, as the run would: the sample
    # instrument's borough question (Q3) is not in this export, so a run would refuse it.
    monkeypatch.setenv("TIPIPELINE_DATA_DIR", str(SAMPLE_RAW.parent))
    [default] = check_files([FIXTURE])
    assert not default["usable"] and "codebook column 'Q3' (borough) is not in the export" in default["reason"]
    assert main(["check", str(FIXTURE)]) == 1
    capsys.readouterr()
    # Against its own codebook (--codebook), with an organisation so that its row is accepted, it is usable.
    codebook = tmp_path / "codebook.yaml"
    codebook.write_text(FIXTURE_CODEBOOK)
    export = tmp_path / "qualtRics_sample_with_organisation.csv"
    _with_organisation(FIXTURE, export, "Met Police")
    [report] = check_files([export], codebook)
    assert report["format"] == "qualtrics_modern_csv" and report["rows_read"] == 1 and report["usable"]
    assert report["identifying_columns_dropped"] == FIXTURE_IDENTIFYING
    assert main(["check", "--json", str(export), "--codebook", str(codebook)]) == 0
    [printed] = json.loads(capsys.readouterr().out)
    for key in (
        "file",
        "kind",
        "format",
        "encoding",
        "header_rows",
        "rows_read",
        "rows_accepted",
        "rows_quarantined",
        "rows_excluded",
        "identifying_columns_dropped",
        "problems",
    ):
        assert key in printed
    assert printed["kind"] == "survey_export" and printed["encoding"] == "utf-8"


def test_check_with_the_sample_codebook(capsys):
    codebook = SAMPLE_RAW / "surveys" / "codebook.yaml"
    wave1 = SAMPLE_RAW / MANIFEST["waves"][0]["file"]
    assert main(["check", str(wave1), "--codebook", str(codebook)]) == 0
    out = capsys.readouterr().out
    assert "rows read 3019 = accepted 3005 + quarantined 4 + excluded 10" in out
    assert "did you mean 'lambeth'?" in out


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("header.csv", b"ResponseId,Q2\r\n", "header but no responses"),
        ("semicolons.csv", b"ResponseId;Q2;Q3\n1;Hackney;x\n", "semicolon-delimited"),
        ("binary.csv", b"\x00\x00\x00\x01", "binary file"),
        ("truncated.xlsx", b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "truncated or corrupt"),
    ],
)
def test_bad_files_fail_check_and_pipeline_with_one_line_reason(tmp_path, capsys, name, content, reason, built_copy):
    bad = tmp_path / name
    bad.write_bytes(content)
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and reason in err[0] and name in err[0]
    # In the pipeline (the sample as built, copied, plus the bad wave, added as a wave is added):
    # the bad wave fails with the same reason; the other waves stay loaded.
    settings, instance = built_copy.settings, built_copy.instance
    wave = settings.surveys_dir / "2026-w3"
    wave.mkdir()
    (wave / name).write_bytes(content)
    with pytest.raises(PipelineError) as info:
        run_pipeline(settings, selection=TABLES_ONLY, instance=instance, only_waves=["2026-w3"])
    assert reason in str(info.value) and "wave 2026-w3 failed" in str(info.value) and "\n" not in str(info.value)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        loaded = conn.execute("SELECT wave, count(*) FROM stg_respondents GROUP BY wave ORDER BY wave").fetchall()
    assert loaded == [("2024-w1", 3005), ("2025-w2", 3005)]


def test_missing_codebook_column_fails_check_and_pipeline(tmp_path, capsys, settings):
    codebook_text = (settings.surveys_dir / "codebook.yaml").read_text().replace("column: Q20_3", "column: Q20_9")
    (settings.surveys_dir / "codebook.yaml").write_text(codebook_text)
    wave1 = settings.surveys_dir / "2024-w1" / "staff_survey_2024-w1_qualtrics.csv"
    assert main(["check", str(wave1), "--codebook", str(settings.surveys_dir / "codebook.yaml")]) == 1
    err = capsys.readouterr().err
    assert "codebook column 'Q20_9' (evl_3) is not in the export; close matches: 'Q20_3'" in err
    with DagsterInstance.ephemeral() as instance, pytest.raises(PipelineError, match="Q20_9"):
        run_pipeline(settings, instance=instance)
