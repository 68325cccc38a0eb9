"""Golden digests of the staging tables the current ingest gives on the bundled sample: the
regression guard for issue 14's move of the ingest into DuckDB. Any change to a staging table's
content, column order or dtype on the sample changes a digest here and fails.

A deliberate change regenerates them: TIPIPELINE_UPDATE_GOLDEN=1 pytest tests/test_staging_golden.py,
and the commit says why the staging tables changed."""

import hashlib
import json
import os

import pytest
from conftest import REPO

from tipipeline.ingest.codebook import load_codebook
from tipipeline.ingest.identifiers import DEVELOPMENT_KEY
from tipipeline.ingest.surveys import ingest_wave
from tipipeline.reference import load_reference

# A reader test: every export it reads is read by both readers and compared (conftest.compare_readers).
pytestmark = pytest.mark.usefixtures("compare_readers")

GOLDEN = REPO / "tests" / "golden" / "staging_digests.json"
SURVEYS = REPO / "data" / "raw" / "surveys"
TABLES = ("respondents", "answers", "free_text", "quarantine", "exclusions", "data_quality")


def digest(frame) -> str:
    """Content, column order and dtypes of a frame, as one SHA-256."""
    described = json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()])
    body = frame.to_csv(index=False, lineterminator="\n", float_format="%.12g")
    return hashlib.sha256((described + "\n" + body).encode("utf-8")).hexdigest()


def current_digests() -> dict:
    codebook = load_codebook(SURVEYS / "codebook.yaml")
    out = {}
    for folder in sorted(p for p in SURVEYS.iterdir() if p.is_dir()):
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        result = ingest_wave(files, codebook, folder.name, load_reference(), DEVELOPMENT_KEY)
        out[folder.name] = {name: digest(getattr(result, name)) for name in TABLES}
    return out


def test_staging_tables_on_the_sample_match_their_golden_digests():
    found = current_digests()
    if os.environ.get("TIPIPELINE_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if not GOLDEN.is_file():
        pytest.fail(f"no golden digests at {GOLDEN}: run once with TIPIPELINE_UPDATE_GOLDEN=1")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    changed = [f"{w}/{t}" for w in expected for t in TABLES if found.get(w, {}).get(t) != expected[w][t]]
    assert found.keys() == expected.keys() and not changed, f"staging tables changed: {changed}"


def test_the_digest_sees_a_changed_cell_and_a_changed_dtype():
    import pandas as pd

    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    changed_cell = frame.assign(b=["x", "z"])
    changed_type = frame.assign(a=frame["a"].astype("Int64"))
    assert len({digest(frame), digest(changed_cell), digest(changed_type)}) == 3
