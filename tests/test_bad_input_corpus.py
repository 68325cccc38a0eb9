"""A corpus of bad inputs, generated here: each gives a clear error naming the file, or a quarantine
entry with a reason; the accounting invariant holds; and the warehouse and baseline stay intact."""

import shutil

import duckdb
import export_writers as w
import pytest
import yaml
from conftest import SHARED, TABLES_ONLY

from tipipeline.errors import ConfigError, InputError
from tipipeline.framework import FRAMEWORK_PATH, load_framework
from tipipeline.ingest.boundaries import read_boundary_file
from tipipeline.ingest.codebook import load_codebook
from tipipeline.ingest.policy_audit import read_audit_file
from tipipeline.ingest.surveys import ingest_file
from tipipeline.pipeline import PipelineError, run_pipeline
from tipipeline.reference import AliasResolver, load_reference
from tipipeline.verify import table_digests

# A reader test: every export it reads is read by both readers and compared (conftest.compare_readers).
pytestmark = pytest.mark.usefixtures("compare_readers")

KEY = b"a key for the corpus, long enough"
LAD = SHARED / "boundaries" / "london-2021-lad22-gen20.shp"


def _qualtrics_text(rows):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        return w.qualtrics(Path(tmp) / "x.csv", rows, bom=False, newline="\n").read_text()


def _lines_edit(edit):
    def make():
        lines = _qualtrics_text([w.response(i) for i in range(4)]).splitlines()
        return ("\n".join(edit(lines)) + "\n").encode()

    return make


SURVEY_ERRORS = {
    "empty": (lambda: b"", "the file is empty"),
    "header only": (lambda: b"ResponseId,Q2\n", "header but no responses"),
    "semicolons": (lambda: b"ResponseId;Q2;Q3\n1;a;b\n", "semicolon-delimited"),
    "pipes": (lambda: b"ResponseId|Q2|Q3\n1|a|b\n", "pipe-delimited"),
    "binary": (lambda: bytes(range(256)) * 4, "binary file"),
    "truncated xlsx": (lambda: b"PK\x03\x04" + b"\x00" * 40, "truncated or corrupt"),
    "mixed encodings": (lambda: "Don\u2019t,know\n\u00e9,1\n".encode() + b"\x92\n", "mixes encodings"),
    "broken BOM": (lambda: b"\xef\xbb\xbfa,b\n\xff\xfe,1\n", "byte-order mark but is not UTF-8"),
    "undecodable": (lambda: b"a,b\n\x81\x8d,1\n", "not text in UTF-8 or Windows-1252"),
    "duplicated header": (_lines_edit(lambda ls: [ls[0].replace("Q4_2", "Q4_1"), *ls[1:]]), "appears 2 times"),
    "missing column": (_lines_edit(lambda ls: [ls[0].replace("Q4_2", "Q42"), *ls[1:]]), "is not in the export"),
    "blank lines only": (lambda: b"\n\n\r\n", "only blank lines"),
}

SURVEY_QUARANTINE = {
    "extra fields": (_lines_edit(lambda ls: [*ls[:4], ls[4] + ",surplus", *ls[5:]]), "malformed row"),
    "truncated row": (_lines_edit(lambda ls: [*ls[:-1], ls[-1][:40]]), "may be truncated"),
    "huge cell": (
        _lines_edit(lambda ls: [*ls[:4], ls[4].replace("Hackney,", "Hackney" + "x" * 40_000 + ",", 1), *ls[5:]]),
        "characters (the limit is 32,767)",
    ),
    "formula organisation": (
        lambda: _qualtrics_text([w.response(0, org='=HYPERLINK("http://x")')]).encode(),
        "does not resolve",
    ),
    "text in an item": (lambda: _qualtrics_text([w.response(0, a_1="abc")]).encode(), "not on the agreement scale"),
    "out of range number": (lambda: _qualtrics_text([w.response(0, a_1="7")]).encode(), "not on the agreement scale"),
    "unknown status": (
        lambda: _qualtrics_text([w.response(0, status="99")]).encode(),
        "unknown Qualtrics response type",
    ),
    "unclosed quote": (
        lambda: (
            _qualtrics_text([w.response(0, borough='"Hackney'), w.response(1)])
            .encode()
            .replace(b'"""Hackney"', b'"Hackney')
        ),
        "malformed row",
    ),
    "unknown borough": (
        lambda: _qualtrics_text([w.response(0, org="Met Police", borough="Gotham")]).encode(),
        "borough 'Gotham' does not resolve",
    ),
    "non-numeric progress": (
        lambda: _qualtrics_text([w.response(0, progress="lots")]).encode(),
        "Progress is not a number",
    ),
}


@pytest.fixture(scope="module")
def codebook(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "codebook.yaml"
    path.write_text(w.TEST_CODEBOOK)
    return load_codebook(path)


@pytest.mark.parametrize("case", SURVEY_ERRORS, ids=list(SURVEY_ERRORS))
def test_survey_files_that_cannot_be_used(tmp_path, codebook, case):
    make, message = SURVEY_ERRORS[case]
    path = tmp_path / ("bad.xlsx" if "xlsx" in case else "bad.csv")
    path.write_bytes(make())
    with pytest.raises(InputError) as info:
        ingest_file(path, codebook, "w1", load_reference(), KEY)
    assert message in str(info.value) and str(info.value).startswith(path.name) and "\n" not in str(info.value)


@pytest.mark.parametrize("case", SURVEY_QUARANTINE, ids=list(SURVEY_QUARANTINE))
def test_survey_rows_that_are_quarantined(tmp_path, codebook, case):
    make, message = SURVEY_QUARANTINE[case]
    path = tmp_path / "bad.csv"
    path.write_bytes(make())
    result = ingest_file(path, codebook, "w1", load_reference(), KEY)
    assert message in " ".join(result.quarantine["reason"])
    assert result.rows_read == result.rows_accepted + result.rows_quarantined + sum(result.rows_excluded.values())
    assert not result.quarantine["value"].astype(str).str.contains("example.org|203.0.113").any()


def _codebook_with(mutate):
    raw = yaml.safe_load(w.TEST_CODEBOOK)
    mutate(raw)
    return yaml.safe_dump(raw)


CONFIG_ERRORS = {
    "codebook: invalid YAML": ("codebook", lambda: "scales: [unclosed\n", "not valid YAML"),
    "codebook: a list": ("codebook", lambda: "- a\n- b\n", "must be a mapping"),
    "codebook: unknown scale": (
        "codebook",
        lambda: _codebook_with(lambda r: r["items"][0].update(scale="likert")),
        "unknown scale 'likert'",
    ),
    "codebook: duplicate item": (
        "codebook",
        lambda: _codebook_with(lambda r: r["items"][1].update(id="a_1")),
        "duplicate item id",
    ),
    "codebook: wave names nothing": (
        "codebook",
        lambda: _codebook_with(lambda r: r["waves"]["forms"]["columns"].update(nothing="X")),
        "names no field or item",
    ),
    "codebook: empty items": ("codebook", lambda: _codebook_with(lambda r: r.update(items=[])), "items"),
    "framework: missing name": (
        "framework",
        lambda: yaml.safe_dump(_framework(lambda f: f["domains"][0].pop("name"))),
        "domains[0].name",
    ),
    "framework: percent over 100": (
        "framework",
        lambda: yaml.safe_dump(_framework(lambda f: f["stage_rule"]["thresholds"][2].update(min_percent_agree=140))),
        "less than or equal to 100",
    ),
    "framework: stages out of order": (
        "framework",
        lambda: yaml.safe_dump(_framework(lambda f: f["stages"].reverse())),
        "levels must run 0, 1, 2",
    ),
}


def _framework(mutate):
    raw = yaml.safe_load(FRAMEWORK_PATH.read_text())
    mutate(raw)
    return raw


@pytest.mark.parametrize("case", CONFIG_ERRORS, ids=list(CONFIG_ERRORS))
def test_configuration_files_that_cannot_be_used(tmp_path, case):
    kind, make, message = CONFIG_ERRORS[case]
    path = tmp_path / f"{kind}.yaml"
    path.write_text(make())
    with pytest.raises(ConfigError) as info:
        (load_codebook if kind == "codebook" else load_framework)(path)
    assert message in str(info.value) and str(info.value).startswith(path.name)


AUDIT_HEADER = (
    "Organisation,Document title,Document type,Year,URL,Coder,Safety,Trustworthiness,Choice,Collaboration,"
    "Empowerment,Cultural consideration\n"
)
AUDIT_CASES = {
    "score 3": (AUDIT_HEADER + "LB Hackney,Doc,Policy,2023,u,A,3,0,0,0,0,0\n", "score is not 0, 1 or 2"),
    "unknown organisation": (AUDIT_HEADER + "Gotham Council,Doc,Policy,2023,u,A,0,0,0,0,0,0\n", "does not resolve"),
    "year as words": (AUDIT_HEADER + "LB Hackney,Doc,Policy,twenty,u,A,0,0,0,0,0,0\n", "year"),
    "score missing": (AUDIT_HEADER + "LB Hackney,Doc,Policy,2023,u,A,,0,0,0,0,0\n", "score missing"),
}


@pytest.mark.parametrize("case", AUDIT_CASES, ids=list(AUDIT_CASES))
def test_audit_rows_that_are_quarantined(tmp_path, case):
    text, message = AUDIT_CASES[case]
    path = tmp_path / "audit.csv"
    path.write_text(text)
    audit = read_audit_file(path, load_framework(), AliasResolver())
    assert message in " ".join(audit.quarantine["reason"]) and audit.codings.empty


def test_audit_without_a_principle_column(tmp_path):
    path = tmp_path / "audit.csv"
    path.write_text(AUDIT_HEADER.replace(",Choice", ",Options") + "LB Hackney,Doc,Policy,2023,u,A,0,0,0,0,0,0\n")
    with pytest.raises(InputError, match="audit.csv, row 1: no score column for the principle 'Choice'"):
        read_audit_file(path, load_framework(), AliasResolver())


@pytest.mark.parametrize("case", ["garbage shapefile", "32 features", "no code column"])
def test_boundary_files_that_cannot_be_used(tmp_path, case):
    reference = load_reference()
    if case == "garbage shapefile":
        path = tmp_path / "x.shp"
        path.write_bytes(b"\x00" * 100)
        message = "unreadable boundary file"
    else:
        if not LAD.exists():
            pytest.skip("shared boundary file is not present")
        import geopandas as gpd

        frame = gpd.read_file(LAD)
        frame = frame.iloc[:32] if case == "32 features" else frame.drop(columns="LAD22CD")
        path = tmp_path / "x.gpkg"
        frame.to_file(path)
        message = "missing: E09000033" if case == "32 features" else "no column holds London GSS codes"
    with pytest.raises(InputError, match=message):
        read_boundary_file(path, reference)


def test_bad_waves_leave_the_warehouse_and_the_baseline_intact(built_copy):
    # The sample as built (copied), then each bad wave added as a wave is added: its partition,
    # then the London-wide assets that read the waves.
    settings, instance = built_copy.settings, built_copy.instance
    published = table_digests(settings.baseline_path)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        staged = conn.execute("SELECT wave, count(*) FROM stg_respondents GROUP BY wave ORDER BY wave").fetchall()
    for name, content in [
        ("binary.csv", bytes(range(256))),
        ("notes.txt", b"not an export"),
        ("semicolons.csv", b"a;b;c\n1;2;3\n"),
    ]:
        wave = settings.surveys_dir / "2026-w3"
        wave.mkdir()
        (wave / name).write_bytes(content)
        with pytest.raises(PipelineError, match="wave 2026-w3 failed"):
            run_pipeline(settings, selection=TABLES_ONLY, instance=instance, only_waves=["2026-w3"])
        shutil.rmtree(wave)
        assert table_digests(settings.baseline_path) == published
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
            assert (
                conn.execute("SELECT wave, count(*) FROM stg_respondents GROUP BY wave ORDER BY wave").fetchall()
                == staged
            )
