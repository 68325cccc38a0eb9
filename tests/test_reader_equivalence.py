"""The DuckDB reader gives exactly what the Python reader gives, or declines the file (issue 14).

The whole suite runs in "compare" mode (conftest), so every export any test reads is read both
ways; here the well-formed exports are shown to take the DuckDB path (so that comparison is not
vacuous), each kind of file it must decline is declined for its reason, random exports agree, and
the staging tables and the published baseline are the same whichever reader ran.
"""

import csv
import io
import os

import export_writers as w
import pandas as pd
import pytest
from conftest import REPO, SHARED, TABLES_ONLY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tipipeline.errors import InputError
from tipipeline.ingest.exports import ReaderMismatch, export_difference, read_export

# A reader test: every export it reads is read by both readers and compared (conftest.compare_readers).
pytestmark = pytest.mark.usefixtures("compare_readers")


@pytest.fixture(scope="module")
def reference():
    from tipipeline.reference import load_reference

    return load_reference()


SAMPLE_CSV = sorted((REPO / "data" / "raw" / "surveys").glob("*/*.csv"))
FIXTURE_CSV = sorted((SHARED / "fixtures" / "qualtrics").glob("*.csv"))


def both(path):
    """(DuckDB reading, Python reading) of one file; the DuckDB reader must not decline."""
    fast = read_export(path, "duckdb")
    slow = read_export(path, "python")
    assert fast.reader == "duckdb" and slow.reader == "python"
    return fast, slow


@pytest.mark.parametrize("path", SAMPLE_CSV + FIXTURE_CSV, ids=lambda p: p.name)
def test_real_and_sample_exports_take_the_duckdb_path_and_read_the_same(path):
    fast, slow = both(path)
    assert export_difference(fast, slow) is None
    assert len(fast.data) > 0


def _q(tmp_path, rows, **kwargs):
    return w.qualtrics(tmp_path / "export.csv", rows, **kwargs)


def _body(tmp_path, text: bytes, name="export.csv"):
    path = tmp_path / name
    path.write_bytes(text)
    return path


# Files the DuckDB reader reads, each with something the row numbering or the cells could get wrong.
READ = {
    "qualtrics modern, CRLF, BOM": lambda t: _q(t, [w.response(i) for i in range(5)]),
    "qualtrics modern, LF, no BOM": lambda t: _q(t, [w.response(i) for i in range(5)], bom=False, newline="\n"),
    "qualtrics insights": lambda t: _q(t, [w.response(i) for i in range(5)], style="python"),
    "multi-line cells (CRLF and LF inside quotes)": lambda t: _q(
        t, [w.response(0, q9="line one\r\nline two"), w.response(1, q9="a\nb"), w.response(2)]
    ),
    "quoted commas, doubled quotes, curly quotes, non-ASCII": lambda t: _q(
        t, [w.response(0, q9='say "hello", then \u2018bye\u2019 \u00e9\u00df\u0130'), w.response(1)]
    ),
    "blank and whitespace-only rows": lambda t: _body(t, "a,b,c\r\n1,2,3\r\n,,\r\n \t,\u00a0, \r\n4,5,6\r\n".encode()),
    "a 40,000-character cell": lambda t: _body(t, b"a,b\n1," + b"x" * 40_000 + b"\n2,3\n"),
    "cells with spaces kept as they are": lambda t: _body(t, b"a,b\n  1 , 2\n3,NULL\n"),
    "quoted empty and unquoted empty": lambda t: _body(t, b'a,b,c\n"",,x\n1,"",\n'),
    "no newline at the end": lambda t: _body(t, b"a,b\n1,2\n3,4"),
    "tab-separated": lambda t: _body(t, b"a\tb\tc\n1\t2\t3\n4\t\t6\n"),
    "repeated header names": lambda t: _body(t, b"a,b,a\n1,2,3\n"),
    "a one-column export": lambda t: _body(t, b"ResponseId\nR_1\nR_2\n"),
    "an over-long cell in the last row (the file may be truncated)": lambda t: _body(
        t, b"id,a,b\n1,x,y\n2,x," + b"z" * 40_000 + b"\n"
    ),
    "quotes inside free text, beside spaces but not delimiters": lambda t: _body(
        t, b'id,a\n1,"He said ""yes"" and left"\n2,"a "" b"\n'
    ),
}


@pytest.mark.parametrize("make", READ.values(), ids=READ.keys())
def test_the_duckdb_reader_reads_these_as_the_python_reader_does(tmp_path, make):
    fast, slow = both(make(tmp_path))
    assert export_difference(fast, slow) is None


# Files the DuckDB reader must leave to the Python reader, and the reason it gives.
DECLINED = {
    "an empty line between records": (b"a,b\n1,2\n\n3,4\n", "empty line"),
    "empty lines at the end": (b"a,b\n1,2\n\n\n", "empty line"),
    "an empty line at the start": (b"\na,b\n1,2\n", "starts with an empty line"),
    "a blank line inside a quoted cell": (b'a,b\n1,"x\n\ny"\n', "empty line"),
    "a lone carriage return": (b"a,b\r\n1,2\r3,4\r\n", "carriage return"),
    "a carriage return ending the file": (b"a,b\n1,2\r", "carriage return"),
    "too many cells": (b"a,b\n1,2,3\n", "rejects"),
    "too few cells": (b"a,b,c\n1,2\n", "rejects"),
    "an unterminated quote": (b'a,b\n1,"2\n3,4\n', "rejects"),
    "Windows-1252": (b"a,b\n1,caf\xe9\n", "rejects"),
    "a NUL byte": (b"a,b\n1,\x002\n", "NUL"),
    "UTF-16": ("a,b\r\n1,2\r\n".encode("utf-16"), "UTF-16"),
    "a header ending in empty cells": (b"a,b,,\n1,2,,\n", "header ends in empty cells"),
    "a header and nothing else": (b"a,b\n", "no responses"),
    # DuckDB drops spaces beside quotes; Python's csv keeps them (found by review).
    "spaces before an opening quote": (b'id,a,b\n1, "ab",d\n', "spaces beside a quote"),
    "spaces after a closing quote": (b'id,a,b\n1,"ab" ,d\n', "spaces beside a quote"),
    "spaces after a closing quote at a line end": (b'id,a,b\n1,x,"y"  \n2,x,y\n', "spaces beside a quote"),
    "spaces after a closing quote at the end": (b'id,a,b\n1,x,"y"  ', "spaces beside a quote"),
    "spaces before a quote at the start": (b' "id",a\n1,2\n', "spaces before a quote"),
    "a padded quoted comma": (b'id,a,b\n1, "a,b",d\n', "spaces beside a quote"),
}


@pytest.mark.parametrize("text, reason", DECLINED.values(), ids=DECLINED.keys())
def test_it_declines_what_it_could_read_differently(tmp_path, text, reason):
    path = _body(tmp_path, text)
    with pytest.raises(InputError, match="DuckDB reader cannot read") as caught:
        read_export(path, "duckdb")
    assert reason in str(caught.value)
    try:
        fallback = read_export(path, "auto")
    except InputError:
        return  # the Python reader has its own error for this file (e.g. no responses)
    assert fallback.reader == "python" and reason in fallback.declined


def test_legacy_exports_and_workbooks_go_to_the_python_reader(tmp_path):
    legacy = w.qualtrics_legacy(tmp_path / "legacy.csv", [w.response(i) for i in range(3)])
    forms = w.forms_xlsx(tmp_path / "forms.xlsx", [w.response(i) for i in range(3)])
    assert "layout" in read_export(legacy, "auto").declined
    assert read_export(forms, "auto").reader == "python"


def test_compare_mode_names_a_difference(tmp_path, monkeypatch):
    """Shown to fail: a DuckDB reading with one cell changed is reported, row and column named."""
    import tipipeline.ingest.duckdb_reader as duckdb_reader

    path = _q(tmp_path, [w.response(i) for i in range(3)])
    real = duckdb_reader.read_csv_export

    def tampered(*args, **kwargs):
        raw = real(*args, **kwargs)
        column = raw.columns[-1]
        values = raw.data[column].astype(object).tolist()
        values[1] = "tampered"
        raw.data[column] = pd.Categorical(values)
        return raw

    monkeypatch.setattr(duckdb_reader, "read_csv_export", tampered)
    with pytest.raises(ReaderMismatch, match=r"row 5: 'tampered'"):
        read_export(path, "compare")


# Tokens rather than characters, so that most generated files hold no lone carriage return (which
# the DuckDB reader declines) and the comparison is exercised.
TOKENS = ["a", "b", " ", ",", '"', "\r\n", "\n", "\t", "\u00a0", "\u2019", "\u00e9", "x1", "\r"]
CELL = st.lists(st.sampled_from(TOKENS), max_size=5).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=6), crlf=st.booleans())
def test_random_exports_agree_or_are_declined(tmp_path, rows, crlf):
    """Any CSV Python's csv module writes: either both readers agree, or DuckDB declines it."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n" if crlf else "\n").writerows([["h1", "h2", "h3"], *rows])
    path = _body(tmp_path, out.getvalue().encode("utf-8"), name="random.csv")
    try:
        slow = read_export(path, "python")
    except InputError:
        return
    try:
        fast = read_export(path, "duckdb")
    except InputError as exc:
        assert "DuckDB reader cannot read" in str(exc)
        return
    assert export_difference(fast, slow) is None


@pytest.mark.parametrize("path", SAMPLE_CSV, ids=lambda p: p.parent.name)
def test_staging_tables_are_the_same_whichever_reader(path, monkeypatch, reference):
    from tipipeline.framework import load_framework
    from tipipeline.ingest.codebook import load_codebook
    from tipipeline.ingest.surveys import ingest_file

    codebook = load_codebook(REPO / "data" / "raw" / "surveys" / "codebook.yaml", load_framework())
    results = {}
    for reader in ("duckdb", "python"):
        monkeypatch.setenv("TIPIPELINE_INGEST_READER", reader)
        results[reader] = ingest_file(path, codebook, path.parent.name, reference, b"k" * 32)
    fast, slow = results["duckdb"], results["python"]
    assert (fast.reader, slow.reader) == ("duckdb", "python")
    for table in ("respondents", "answers", "free_text", "quarantine", "exclusions"):
        pd.testing.assert_frame_equal(getattr(fast, table), getattr(slow, table), obj=table)
    assert fast.quality_row("w") == slow.quality_row("w")


def test_published_baseline_is_the_same_whichever_reader(built_sample, tmp_path, monkeypatch):
    """The sample built with the Python reader only publishes the same tables, cell for cell, as
    the session's build (which reads its CSV exports with DuckDB)."""
    import shutil

    from dagster import DagsterInstance

    from tipipeline.pipeline import run_pipeline
    from tipipeline.settings import get_settings
    from tipipeline.verify import table_digests

    shutil.copytree(REPO / "data" / "raw", tmp_path / "data" / "raw")
    monkeypatch.setenv("TIPIPELINE_INGEST_READER", "python")
    python_settings = get_settings(tmp_path / "data", tmp_path / "outputs")
    with DagsterInstance.ephemeral() as instance:
        run_pipeline(python_settings, selection=TABLES_ONLY, instance=instance)
    assert os.environ["TIPIPELINE_INGEST_READER"] == "python"
    assert table_digests(python_settings.baseline_path) == table_digests(built_sample.baseline_path)


def test_the_whitespace_class_is_pythons_for_the_whole_of_unicode():
    from tipipeline.ingest.duckdb_reader import PY_WHITESPACE

    assert PY_WHITESPACE == "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


def test_a_first_mebibyte_of_blank_records_is_left_to_the_python_reader(tmp_path):
    """Found by review: the header after 1 MiB of blank records is no error; Python reads it."""
    path = _body(tmp_path, b",,\n" * 400_000 + b"id,a,b\n1,x,y\n")
    raw = read_export(path, "auto")
    assert raw.reader == "python" and "no header" in raw.declined and raw.row_numbers == [400_002]


def test_patterns_across_chunk_boundaries_are_seen(tmp_path, monkeypatch):
    """Each declined pattern placed at every offset across the scan's chunk boundaries (chunks
    shrunk to 64 bytes so that every split is tried); and the same files whole are declined too."""
    from tipipeline.ingest import duckdb_reader
    from tipipeline.ingest.duckdb_reader import Declined, scan

    monkeypatch.setattr(duckdb_reader, "_CHUNK", 64)
    patterns = [(b"\n\n", "empty line"), (b"\n\r\n", "empty line"), (b"\r3", "carriage return")]
    patterns += [(b'"' + b" " * spaces + b",", "spaces beside") for spaces in (1, 5, 70, 200)]
    patterns += [(b"," + b" " * spaces + b'"', "spaces beside") for spaces in (1, 70)]
    for pattern, reason in patterns:
        for start in range(40, 40 + 64 + len(pattern)):
            text = b"a,b\n" + b"x" * (start - 4) + pattern + b"y\n"
            path = _body(tmp_path, text)
            with pytest.raises(Declined, match=reason):
                scan(path)
    clean = b"a,b\n" + b"x,y\n" * 100
    assert scan(_body(tmp_path, clean))[0] == __import__("hashlib").sha256(clean).hexdigest()
