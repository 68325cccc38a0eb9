"""`tipipeline check` and `tipipeline run` reach one verdict on every file (issue 28, item 4).

A file is usable when the run would take rows from it. What the run would do is found with the
run's own pure steps, without building a pipeline: the `survey_wave` asset's (load the data
directory's codebook, list the wave folder's exports, `ingest_wave`) and the `outcome_files`
asset's (`read_outcome_folder`). Each file is checked where the run would meet it (in a wave
folder, in the outcomes folder) and, for a file outside the data directory, where it lies, with
the data directory's codebook.
"""

import shutil
from pathlib import Path

import export_writers as w
import pytest
from conftest import SAMPLE_RAW, SHARED
from test_bad_input_corpus import SURVEY_ERRORS, SURVEY_QUARANTINE

from tipipeline.check import check_files
from tipipeline.errors import TipipelineError
from tipipeline.framework import load_framework
from tipipeline.ingest.codebook import load_codebook
from tipipeline.ingest.surveys import ingest_wave
from tipipeline.ingest.waves import wave_export_files
from tipipeline.ingest.workforce import read_workforce
from tipipeline.outcomes.build import UNRECOGNISED, read_outcome_folder
from tipipeline.reference import load_reference

# A reader test: every export it reads is read by both readers and compared (conftest.compare_readers).
pytestmark = pytest.mark.usefixtures("compare_readers")

KEY = b"a key for the agreement test only, long enough"
FIXTURES = SHARED / "fixtures"
FIXTURE_FILES = sorted(p for p in FIXTURES.rglob("*") if p.is_file()) if FIXTURES.is_dir() else []
SAMPLE_CODEBOOK = (SAMPLE_RAW / "surveys" / "codebook.yaml").read_text(encoding="utf-8")

# How check names each fixture where it lies (outside any data directory).
FIXTURE_KINDS = {
    "SOURCES.md": "unsupported",
    "outcomes/MPS Borough Level Crime (most recent 24 months).csv": "outcome_crime",
    "outcomes/SOURCES.md": "unsupported",
    "outcomes/indicators-CountyUA.data.csv": "outcome_fingertips",
    "outcomes/mye22final.xlsx": "outcome_population",
    "qualtrics/qualtRics_sample.csv": "survey_export",
    "workforce/SOURCES.md": "unsupported",
    "workforce/police-workforce-sep18-tables.ods": "workforce",
}


def data_dir(root: Path, codebook: str = SAMPLE_CODEBOOK) -> Path:
    """An empty data directory with a codebook; its surveys folder."""
    surveys = root / "data" / "raw" / "surveys"
    surveys.mkdir(parents=True)
    (surveys / "codebook.yaml").write_text(codebook, encoding="utf-8")
    return surveys


def run_wave(surveys: Path, wave: str) -> tuple[bool, str | None]:
    """What the survey_wave asset does with a wave: whether it takes rows, and the error it fails with."""
    try:
        codebook = load_codebook(surveys / "codebook.yaml", load_framework())
        files = wave_export_files(surveys, wave)
        result = ingest_wave(files, codebook, wave, load_reference(), KEY)
    except TipipelineError as exc:
        return False, str(exc)
    return int(result.data_quality["rows_accepted"].sum()) > 0, None


def run_outcomes(folder: Path, name: str) -> tuple[bool, str | None]:
    """What the outcome_files asset does with the folder: whether it takes rows from the file `name`."""
    try:
        quality = read_outcome_folder(folder, load_reference()).data_quality
    except TipipelineError as exc:
        return False, str(exc)
    row = quality[quality["source_file"] == name]
    return bool(((row["source"] != UNRECOGNISED) & (row["rows_accepted"] > 0)).any()), None


def run_workforce(folder: Path, name: str) -> tuple[bool, str | None]:
    """What the workforce_files asset does with the folder: whether it takes figures from `name`."""
    try:
        figures = read_workforce(folder, load_reference()).figures
    except TipipelineError as exc:
        return False, str(exc)
    return bool((figures["source_file"] == name).any()), None


def assert_same_verdict(report: dict, run: tuple[bool, str | None]) -> None:
    took, error = run
    assert report["usable"] == took, (report["file"], report["reason"], error)
    if error and error.startswith(Path(report["file"]).name):
        # The run's reason names the file (and its row and column): check gives that reason first.
        assert report["reason"].startswith(error), (report["reason"], error)


def in_wave(surveys: Path, wave: str, source: Path, name: str | None = None) -> Path:
    folder = surveys / wave
    folder.mkdir(exist_ok=True)
    return Path(shutil.copy(source, folder / (name or source.name)))


# --- the shared real files -------------------------------------------------------------------


@pytest.mark.skipif(not FIXTURE_FILES, reason="the shared fixtures are not present")
def test_every_fixture_is_listed():
    assert sorted(str(p.relative_to(FIXTURES)) for p in FIXTURE_FILES) == sorted(FIXTURE_KINDS)


@pytest.mark.parametrize("fixture", FIXTURE_FILES, ids=[str(p.relative_to(FIXTURES)) for p in FIXTURE_FILES])
def test_check_and_run_agree_on_a_fixture(tmp_path, monkeypatch, fixture):
    surveys = data_dir(tmp_path)
    wave = fixture.parent.name  # as check takes a loose file's wave: its folder's name
    # In a wave folder, the run reads it as that wave's export.
    [report] = check_files([in_wave(surveys, wave, fixture)])
    assert report["kind"] == "survey_export"
    as_wave = run_wave(surveys, wave)
    assert_same_verdict(report, as_wave)
    assert not as_wave[0]  # none of them is an export of the sample instrument
    # In the outcomes folder, the run reads it as an outcome file.
    outcomes = surveys.parent / "outcomes"
    outcomes.mkdir()
    [report] = check_files([Path(shutil.copy(fixture, outcomes / fixture.name))])
    as_outcome = run_outcomes(outcomes, fixture.name)
    assert_same_verdict(report, as_outcome)
    # In the workforce folder, the run reads it as a workforce file.
    workforce = surveys.parent / "workforce"
    workforce.mkdir()
    [report] = check_files([Path(shutil.copy(fixture, workforce / fixture.name))])
    as_workforce = run_workforce(workforce, fixture.name)
    assert_same_verdict(report, as_workforce)
    # Where it lies, checked against the data directory's codebook (not by its format alone), it
    # is named by its content and gets the verdict of the run that would read a file of that kind.
    monkeypatch.setenv("TIPIPELINE_DATA_DIR", str(surveys.parent.parent))
    [report] = check_files([fixture])
    assert report["kind"] == FIXTURE_KINDS[str(fixture.relative_to(FIXTURES))]
    if report["kind"] == "survey_export":
        assert report["codebook"] == str(surveys / "codebook.yaml") and report["wave"] == wave
        assert_same_verdict(report, as_wave)
    elif report["kind"].startswith("outcome"):
        assert_same_verdict(report, as_outcome)
    elif report["kind"] == "workforce":
        assert_same_verdict(report, as_workforce)
    else:  # neither a wave, the outcomes nor the workforce folder reads it
        assert not report["usable"] and not as_wave[0] and not as_outcome[0] and not as_workforce[0]


@pytest.mark.skipif(not (FIXTURES / "qualtrics").is_dir(), reason="the shared fixtures are not present")
def test_the_real_export_is_refused_with_the_first_missing_column(tmp_path, monkeypatch):
    surveys = data_dir(tmp_path)
    monkeypatch.setenv("TIPIPELINE_DATA_DIR", str(surveys.parent.parent))
    [report] = check_files([FIXTURES / "qualtrics" / "qualtRics_sample.csv"])
    # ResponseId, RecordedDate, RecipientEmail, Q1 and Q2 are there; the borough question is not.
    assert report["reason"].startswith("qualtRics_sample.csv: codebook column 'Q3' (borough) is not in the export")


# --- crime, population and Fingertips files of layouts no reader takes ------------------------

LSOA_CRIME = (
    "lsoa_code,borough,major_category,minor_category,value,year,month\n"
    "E01001116,Croydon,Burglary,Burglary in Other Buildings,0,2016,11\n"
    "E01001646,Greenwich,Violence Against the Person,Other violence,0,2016,11\n"
)


def _knife_crime_workbook(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Knife Crime"
    sheet.append(["MOPAC knife crime dashboard: offences by borough and month"])
    sheet.append([])
    sheet.append(["Borough", "Month", "Knife Crime Offences", "Knife Crime With Injury Offences"])
    for i in range(999):
        sheet.append(["Hackney", f"2023-{i % 12 + 1:02d}", i % 40, i % 9])
    book.save(path)
    return path


LOOKALIKES = {
    "london_crime_by_lsoa.csv": ("outcome_crime", lambda p: p.write_text(LSOA_CRIME, encoding="utf-8")),
    "mopac_knife_crime.xlsx": ("outcome_crime", _knife_crime_workbook),
    "ward_crime.csv": (
        "outcome_crime",
        lambda p: p.write_text(
            "WardCode,WardName,LookUp_BoroughName,MajorText,MinorText,202401\n"
            "E05000026,Abbey,Barking and Dagenham,Burglary,Burglary - Residential,3\n",
            encoding="utf-8",
        ),
    ),
    "population.csv": (
        "outcome_population",
        lambda p: p.write_text("Code,Name,Mid-2021 population\nE09000001,City of London,8600\n", encoding="utf-8"),
    ),
    "fingertips.csv": (
        "outcome_fingertips",
        lambda p: p.write_text(
            "Indicator,Area,Time period,Value\nViolent crime,E09000001,2022,3.1\n", encoding="utf-8"
        ),
    ),
}


@pytest.mark.parametrize("name", LOOKALIKES)
def test_outcome_files_of_unknown_layouts_are_named_not_taken_for_surveys(tmp_path, monkeypatch, name):
    kind, write = LOOKALIKES[name]
    surveys = data_dir(tmp_path)
    loose = tmp_path / "downloads" / name
    loose.parent.mkdir()
    write(loose)
    monkeypatch.setenv("TIPIPELINE_DATA_DIR", str(surveys.parent.parent))
    [report] = check_files([loose])
    assert (report["kind"], report["usable"]) == (kind, False)
    assert report["reason"].startswith(f"{name}: looks like a ")
    assert "of a layout the outcome readers do not take" in report["reason"]
    assert "codebook column 'ResponseId' (response_id) is not in the export" in report["survey_reason"]
    # The run agrees: as a wave's export it fails on the first missing column, which check gives
    # first for a file in a wave folder; in the outcomes folder it is left out as unrecognised.
    [in_folder] = check_files([in_wave(surveys, "2026-w3", loose)])
    assert_same_verdict(in_folder, run_wave(surveys, "2026-w3"))
    assert "looks like a" in in_folder["reason"]
    outcomes = surveys.parent / "outcomes"
    outcomes.mkdir()
    [in_outcomes] = check_files([Path(shutil.copy(loose, outcomes / name))])
    assert in_outcomes["kind"] == kind
    assert_same_verdict(in_outcomes, run_outcomes(outcomes, name))


def test_a_survey_whose_questions_name_crimes_is_still_a_survey_export(tmp_path, monkeypatch):
    """Words alone do not make a file an outcome file: one with the codebook's columns is a survey export."""
    surveys = data_dir(tmp_path, w.TEST_CODEBOOK)
    path = tmp_path / "loose" / "survey.csv"
    path.parent.mkdir()
    text = w.qualtrics(path, [w.response(i) for i in range(3)], bom=False, newline="\n").read_text()
    path.write_text(text.replace("Q4_2", "Q4_9").replace("Some procedures", "Knife crime and violence"))
    monkeypatch.setenv("TIPIPELINE_DATA_DIR", str(surveys.parent.parent))
    [report] = check_files([path])
    assert report["kind"] == "survey_export" and not report["usable"]
    assert report["reason"].startswith("survey.csv: codebook column 'Q4_2' (a_2) is not in the export")


# --- the sample instrument and its wave overrides -------------------------------------------


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory) -> Path:
    """The synthetic sample's data directory at its smallest (200 responses a wave): the bundled
    codebook, a Qualtrics wave and a Microsoft Forms wave read through its column overrides."""
    from tipipeline.sample.generator import DEFAULT_SEED, generate_sample

    root = tmp_path_factory.mktemp("small_sample") / "data"
    generate_sample(root / "raw", seed=DEFAULT_SEED, responses=200, waves=2)
    assert (root / "raw" / "surveys" / "codebook.yaml").read_text(encoding="utf-8") == SAMPLE_CODEBOOK
    return root / "raw" / "surveys"


def test_the_samples_waves_are_checked_with_their_own_settings(tmp_path, small_sample):
    """Each sample export is usable in its wave folder (2025-w2 with its column overrides) and
    refused, by check and run alike, in a wave whose settings do not fit it."""
    surveys = small_sample
    for wave in ("2024-w1", "2025-w2"):
        [report] = check_files(sorted((surveys / wave).glob("*.*")))
        assert report["wave"] == wave and report["wave_overrides"] == (wave == "2025-w2")
        assert_same_verdict(report, run_wave(surveys, wave))
        assert report["usable"]
    forms = next((surveys / "2025-w2").glob("*.xlsx"))
    copy = data_dir(tmp_path)
    [report] = check_files([in_wave(copy, "2026-w3", forms)])
    assert_same_verdict(report, run_wave(copy, "2026-w3"))
    assert report["reason"].startswith(f"{forms.name}: codebook column 'ResponseId' (response_id) is not in the export")
    # --codebook and --wave still override: the same file as wave 2025-w2 is usable again.
    [report] = check_files([copy / "2026-w3" / forms.name], surveys / "codebook.yaml", "2025-w2")
    assert report["usable"] and report["wave_overrides"]


def test_check_and_run_agree_on_the_samples_outcome_files(small_sample):
    outcomes = small_sample.parent / "outcomes"
    files = sorted(outcomes.iterdir())
    reports = check_files(files)
    assert reports and all(r["kind"].startswith("outcome_") for r in reports)
    for path, report in zip(files, reports):
        assert_same_verdict(report, run_outcomes(outcomes, path.name))
        assert report["usable"]


# --- the malformed-input corpus ---------------------------------------------------------------

# Each survey tool's layout, in its own wave (the test codebook's overrides) and in the wrong one.
LAYOUTS = {
    "qualtrics": (lambda p, r: w.qualtrics(p / "x.csv", r), "w1", "forms"),
    "insights": (lambda p, r: w.qualtrics(p / "x.csv", r, style="python"), "w1", "plain"),
    "legacy": (lambda p, r: w.qualtrics_legacy(p / "x.csv", r), "legacy", "w1"),
    "forms": (lambda p, r: w.forms_xlsx(p / "x.xlsx", r), "forms", "w1"),
    "smart": (lambda p, r: w.smartsurvey_xlsx(p / "x.xlsx", r), "smart", "legacy"),
    "plain": (lambda p, r: w.plain_csv(p / "x.csv", r), "plain", "smart"),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_check_and_run_agree_on_each_layout_in_its_wave_and_another(tmp_path, layout):
    write, own, other = LAYOUTS[layout]
    surveys = data_dir(tmp_path, w.TEST_CODEBOOK)
    source = tmp_path / "source"
    source.mkdir()
    export = write(source, [w.response(i) for i in range(4)])
    verdicts = []
    for wave in (own, other):
        [report] = check_files([in_wave(surveys, wave, export)])
        assert_same_verdict(report, run_wave(surveys, wave))
        verdicts.append(report["usable"])
    assert verdicts == [True, False]


CORPUS = {**SURVEY_ERRORS, **SURVEY_QUARANTINE}


@pytest.mark.parametrize("case", CORPUS, ids=list(CORPUS))
def test_check_and_run_agree_on_the_corpus(tmp_path, monkeypatch, case):
    make = CORPUS[case][0]
    surveys = data_dir(tmp_path, w.TEST_CODEBOOK)
    name = "bad.xlsx" if "xlsx" in case else "bad.csv"
    loose = tmp_path / "w1" / name  # outside the data directory, in a folder named like the wave
    loose.parent.mkdir()
    loose.write_bytes(make())
    [in_folder] = check_files([in_wave(surveys, "w1", loose)])
    run = run_wave(surveys, "w1")
    assert_same_verdict(in_folder, run)
    monkeypatch.setenv("TIPIPELINE_DATA_DIR", str(surveys.parent.parent))
    [report] = check_files([loose])
    assert_same_verdict(report, run)
    if case in SURVEY_ERRORS:
        assert not report["usable"] and SURVEY_ERRORS[case][1] in report["reason"]
