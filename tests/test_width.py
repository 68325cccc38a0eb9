"""A wide export costs what its cells cost (issue 28, item 3), guarded without timing anything.

Timed unit tests are forbidden here (bench/ measures time). What a test can see without a clock:
- the DuckDB reader issues the same statements whatever the width (none per column);
- the Python function calls made to read, check and ingest an export grow with its width, not with
  the width's square (cProfile counts calls; it does not time them here);
- a 3,000-column export reads the same, cell for cell, through both readers and through the csv
  module, and a bad cell in it is still named by file, row and column.
"""

from __future__ import annotations

import cProfile
import csv
import json
import pstats
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tipipeline.errors import InputError
from tipipeline.framework import load_framework
from tipipeline.ingest import duckdb_reader, raw_export
from tipipeline.ingest.codebook import load_codebook
from tipipeline.ingest.exports import export_difference, read_export
from tipipeline.ingest.identifiers import DEVELOPMENT_KEY
from tipipeline.ingest.raw_export import text_categoricals
from tipipeline.ingest.surveys import _QuestionTexts, ingest_file, inspect_format, normalise_label
from tipipeline.reference import load_reference

LABELS = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree", "Don't know", ""]
BASE = ["StartDate", "Status", "Progress", "Finished", "RecordedDate", "ResponseId", "RecipientEmail", "Q1", "Q2"]


@pytest.fixture(scope="module")
def reference():
    return load_reference()


@pytest.fixture(scope="module")
def framework():
    return load_framework()


def _codebook(folder: Path, items: int, framework, by_text: bool = False) -> Path:
    """A codebook for `wide_export`'s columns: `items` agreement items Q10_1 ... (matched by
    column, or in the wave 'text' by their question text)."""
    domains = [d.id for d in framework.domains]
    principles = [p.id for p in framework.principles]
    book = {
        "version": 1,
        "instrument": f"width tests, {items} items",
        "synthetic": True,
        "scales": {
            "agreement": {
                "values": {label: i + 1 for i, label in enumerate(LABELS[:5])},
                "missing": ["Don't know"],
            },
            "yes_no": {"values": {"Yes": 1, "No": 0}},
        },
        "fields": {
            "response_id": {"column": "ResponseId", "text": "Response ID"},
            "submitted": {"column": "RecordedDate", "text": "Recorded Date"},
            "duplicate_key": {"column": "RecipientEmail", "identifying": True, "text": "Recipient Email"},
            "consent": {"column": "Q1", "scale": "yes_no", "text": "Do you consent?"},
            "organisation": {"column": "Q2", "text": "Which organisation do you work for?"},
        },
        "items": [
            {
                "id": f"i{k:05d}",
                "column": f"Q10_{k}",
                "text": f"Statement number {k}",
                "domain": domains[k % len(domains)],
                "principle": principles[k % len(principles)],
                "scale": "agreement",
            }
            for k in range(1, items + 1)
        ],
        "exclusions": {"duplicates": {"key": "duplicate_key", "order_by": "submitted", "keep": "latest"}},
    }
    if by_text:
        book["waves"] = {"text": {"match_by": "text"}}
    path = folder / "codebook.yaml"
    path.write_text(yaml.safe_dump(book, sort_keys=False), encoding="utf-8")
    return path


def wide_export(path: Path, rows: int, items: int, seed: int = 1, changes: dict | None = None) -> Path:
    """A Qualtrics-modern export of `rows` respondents and `items` matrix statements (question
    text 'Matrix question - Statement number k'). `changes`: (row index, column) -> cell."""
    rng = random.Random(seed)
    councils = ["London Borough of Camden", "London Borough of Hackney", "Royal Borough of Greenwich"]
    header = BASE + [f"Q10_{k}" for k in range(1, items + 1)]
    texts = [
        "Start Date",
        "Response Type",
        "Progress",
        "Finished",
        "Recorded Date",
        "Response ID",
        "Recipient Email",
        "Do you consent?",
        "Which organisation do you work for?",
    ] + [f"Matrix question - Statement number {k}" for k in range(1, items + 1)]
    body = []
    for i in range(rows):
        row = [
            "2024-03-04 09:00:00",
            "IP Address",
            "100",
            "True",
            f"2024-03-{1 + i % 28:02d} 09:{i % 60:02d}:00",
            f"R_{i:012d}",
            f"p{i}@example.org",
            "Yes",
            councils[i % len(councils)],
        ] + [rng.choice(LABELS) for _ in range(items)]
        body.append(row)
    for (i, column), cell in (changes or {}).items():
        body[i][header.index(column)] = cell
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, lineterminator="\r\n")
        out.writerow(header)
        out.writerow(texts)
        out.writerow([json.dumps({"ImportId": c}) for c in header])
        out.writerows(body)
    return path


class _CountingConnection:
    """A DuckDB connection that records every statement it is given."""

    def __init__(self, conn, statements: list[str]):
        self._conn, self._statements = conn, statements

    def execute(self, sql, *args, **kwargs):
        self._statements.append(sql)
        return self._conn.execute(sql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._conn.__exit__(*exc)


def _statements(monkeypatch, path: Path) -> list[str]:
    statements: list[str] = []
    real = duckdb_reader.connect
    monkeypatch.setattr(duckdb_reader, "connect", lambda where: _CountingConnection(real(where), statements))
    raw = duckdb_reader.read_csv_export(path)
    assert raw.reader == "duckdb"
    return statements


def test_the_duckdb_reader_issues_the_same_statements_at_any_width(tmp_path, monkeypatch):
    """No statement per column: 5, 50 and 1,500 columns are read with the same statements (the
    quadratic reader issued one CREATE TYPE per column, each reading the whole width)."""
    counts = {}
    for items in (5, 50, 1_500):
        path = wide_export(tmp_path / f"w{items}.csv", rows=30, items=items)
        statements = _statements(monkeypatch, path)
        counts[items] = len(statements)
        assert not any("CREATE TYPE" in s for s in statements)
    assert len(set(counts.values())) == 1, counts
    assert counts[5] <= 8, counts


def test_a_file_with_nothing_to_keep_also_takes_a_fixed_number_of_statements(tmp_path, monkeypatch):
    """Every data row over Excel's cell limit: the reader returns an empty table, statements fixed."""
    counts = []
    for items in (5, 500):
        path = wide_export(tmp_path / f"w{items}.csv", rows=2, items=items)
        lines = path.read_bytes().split(b"\r\n")
        lines[3] = lines[3].replace(b"IP Address", b"x" * 40_000, 1)
        lines[4] = lines[4].replace(b"IP Address", b"y" * 40_000, 1)
        path.write_bytes(b"\r\n".join(lines))
        statements = _statements(monkeypatch, path)
        counts.append(len(statements))
    assert counts[0] == counts[1]


def _calls(function, *args) -> int:
    """How many Python function calls `function(*args)` makes (cProfile's count; no time is read)."""
    profile = cProfile.Profile()
    profile.enable()
    try:
        function(*args)
    finally:
        profile.disable()
    return sum(stat[1] for stat in pstats.Stats(profile).stats.values())  # primitive and recursive calls


class _Name(str):
    """A column name whose comparisons are Python calls, so that cProfile counts each comparison a
    scan of a list of names makes (`name in raw.columns`, `raw.columns.index(name)`), not just the
    scan itself. Hashing is str's: dict and set look-ups stay what they are."""

    __hash__ = str.__hash__

    def __eq__(self, other):
        return str.__eq__(self, other)

    def __ne__(self, other):
        return str.__ne__(self, other)


def _names_compared_in_python(monkeypatch):
    """ingest_file and inspect_format read exports whose column names are `_Name`s."""
    from tipipeline.ingest import surveys

    def read(path, reader=None):
        raw = read_export(path, reader)
        names = [_Name(c) for c in raw.columns]
        raw.data.columns = pd.Index(names, dtype=object)
        raw.question_text = {_Name(c): q for c, q in raw.question_text.items()}
        raw.columns = names
        return raw

    monkeypatch.setattr(surveys, "read_export", read)


def _growth(make, widths=(250, 500, 1_000)) -> float:
    """How much the calls grow with the width, the fixed part (start-up, the header) left out: the
    calls added from the second width to the third over those added from the first to the second,
    each width twice the last. 2 when the cost is linear in the width, 4 when it is quadratic
    (measured: 1.6 now; 2.6 before, when each codebook column was looked for along the header)."""
    first, second, third = (make(w) for w in widths)
    return (third - second) / (second - first)


@pytest.mark.parametrize("reader", ["python", "duckdb"])
def test_reading_grows_linearly_with_the_width(tmp_path, reader):
    def make(items):
        path = wide_export(tmp_path / f"{reader}{items}.csv", rows=4, items=items)
        return _calls(read_export, path, reader)

    growth = _growth(make)
    assert growth < 2.2, growth


def test_checking_and_ingesting_grow_linearly_with_the_width(tmp_path, reference, framework, monkeypatch):
    """What `tipipeline check` does with and without a codebook, and the run's ingest; every
    comparison of two column names counts as a call."""
    _names_compared_in_python(monkeypatch)

    def ingest(items, by_text=False):
        folder = tmp_path / f"{'text' if by_text else 'column'}{items}"
        folder.mkdir()
        codebook = load_codebook(_codebook(folder, items, framework, by_text), framework)
        path = wide_export(folder / "export.csv", rows=4, items=items)
        wave = "text" if by_text else "2024-w1"
        return _calls(ingest_file, path, codebook, wave, reference, DEVELOPMENT_KEY)

    def inspect(items):
        return _calls(inspect_format, wide_export(tmp_path / f"inspect{items}.csv", rows=4, items=items))

    for name, make in {
        "ingest": ingest,
        "ingest, columns matched by question text": lambda items: ingest(items, by_text=True),
        "format check": inspect,
    }.items():
        growth = _growth(make)
        assert growth < 2.2, (name, growth)


def test_a_codebook_matched_by_text_finds_each_column_once(tmp_path, reference, framework):
    """A wave matched by question text: each item finds its matrix statement ('... - text')."""
    codebook = load_codebook(_codebook(tmp_path, 300, framework, by_text=True), framework)
    path = wide_export(tmp_path / "export.csv", rows=5, items=300)
    by_text = ingest_file(path, codebook, "text", reference, DEVELOPMENT_KEY)
    by_column = ingest_file(path, codebook, "2024-w1", reference, DEVELOPMENT_KEY)
    assert by_text.rows_accepted == by_column.rows_accepted == 5
    answers = [c for c in by_column.answers.columns if c.startswith(("v__", "m__"))]  # pseudonyms differ by wave
    assert len(answers) == 600
    pd.testing.assert_frame_equal(by_text.answers[answers], by_column.answers[answers])


def _csv_cells(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and data records of a Qualtrics-modern export, read with the csv module alone."""
    with path.open(encoding="utf-8", newline="") as handle:
        records = list(csv.reader(handle))
    return records[0], records[3:]


def test_a_3000_column_export_reads_the_same_through_both_readers_cell_for_cell(tmp_path):
    changes = {
        (0, "Q10_7"): 'said "yes", then left',
        (1, "Q10_2991"): "line one\r\nline two",
        (2, "Q10_1500"): "caf\u00e9 \u2018quoted\u2019 \u00df",
        (3, "Q10_3"): "   ",
        (4, "Q10_2000"): "'; DROP TABLE x; --",
        (5, "Q10_10"): "\\N",
    }
    path = wide_export(tmp_path / "wide.csv", rows=40, items=2_991, changes=changes)
    fast = read_export(path, "duckdb")
    slow = read_export(path, "python")
    assert fast.reader == "duckdb" and slow.reader == "python"
    assert export_difference(fast, slow) is None
    header, records = _csv_cells(path)
    assert len(header) == 3_000 and fast.columns == header
    assert fast.row_numbers == slow.row_numbers == list(range(4, 44))
    for raw in (fast, slow):
        cells = raw.data.astype(object).to_numpy()
        assert cells.shape == (40, 3_000)
        assert cells.tolist() == records
        for column in ("Q10_7", "Q10_2991", "ResponseId"):
            categories = list(raw.data[column].cat.categories)
            assert categories == sorted(set(categories))  # sorted, as pd.Categorical sorts them
            assert set(categories) == {r[header.index(column)] for r in records}


def test_a_short_wide_export_is_read_by_the_python_reader_unless_duckdb_is_asked_for(tmp_path):
    path = wide_export(tmp_path / "short.csv", rows=1, items=2_000)
    auto = read_export(path, "auto")
    assert auto.reader == "python"
    assert "2,009 columns" in auto.declined and "wide and short" in auto.declined
    fast = read_export(path, "duckdb")
    assert fast.reader == "duckdb" and export_difference(fast, auto) is None
    narrow = wide_export(tmp_path / "narrow.csv", rows=1, items=20)
    assert read_export(narrow, "auto").reader == "duckdb"


def test_the_python_reader_gives_the_same_table_in_one_chunk_or_many(tmp_path, monkeypatch):
    path = wide_export(tmp_path / "chunks.csv", rows=50, items=120)
    whole = read_export(path, "python")
    monkeypatch.setattr(raw_export, "CHUNK_CELLS", 7 * 129)  # seven rows a chunk: eight chunks
    chunked = read_export(path, "python")
    assert export_difference(whole, chunked) is None
    for column in whole.columns:
        assert list(whole.data[column].cat.categories) == list(chunked.data[column].cat.categories)


def test_a_column_of_many_distinct_values_comes_back_the_same(tmp_path, monkeypatch):
    """Columns past ENUM_MAX_VALUES are fetched as text and made categorical in pandas."""
    monkeypatch.setattr(duckdb_reader, "ENUM_MAX_VALUES", 2)
    path = wide_export(tmp_path / "distinct.csv", rows=30, items=40)
    assert export_difference(read_export(path, "duckdb"), read_export(path, "python")) is None


def test_a_bad_cell_in_a_wide_export_is_named_by_file_row_and_column(tmp_path, reference, framework):
    codebook = load_codebook(_codebook(tmp_path, 2_500, framework), framework)
    path = wide_export(tmp_path / "bad.csv", rows=12, items=2_500, changes={(6, "Q10_2345"): "Agree strongly"})
    for reader in ("duckdb", "python"):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("TIPIPELINE_INGEST_READER", reader)
            result = ingest_file(path, codebook, "2024-w1", reference, DEVELOPMENT_KEY)
        assert result.reader == reader
        problems = [p for p in result.report().problems if p.column == "Q10_2345"]
        assert [(p.row, p.column) for p in problems] == [(10, "Q10_2345")]  # data row 7 is file row 10
        assert "i02345: answer is not on the agreement scale" in problems[0].message
        assert result.quarantine[["source_file", "source_row", "column", "value"]].values.tolist() == [
            ["bad.csv", 10, "Q10_2345", "Agree strongly"]
        ]


def test_a_malformed_row_and_a_missing_column_in_a_wide_export_are_named(tmp_path, reference, framework):
    codebook = load_codebook(_codebook(tmp_path, 1_200, framework), framework)
    path = wide_export(tmp_path / "short_row.csv", rows=6, items=1_200)
    lines = path.read_bytes().split(b"\r\n")
    lines[5] = lines[5].rsplit(b",", 3)[0]  # data row 3 (file row 6) loses its last three cells
    path.write_bytes(b"\r\n".join(lines))
    result = ingest_file(path, codebook, "2024-w1", reference, DEVELOPMENT_KEY)
    assert [(p.row, p.column) for p in result.report().problems] == [(6, None)]
    assert "1206 fields where the header has 1209" in result.report().problems[0].message
    assert result.quarantine[["source_file", "source_row"]].values.tolist() == [["short_row.csv", 6]]
    (tmp_path / "longer").mkdir()
    longer = load_codebook(_codebook(tmp_path / "longer", 1_300, framework), framework)
    with pytest.raises(InputError) as caught:
        ingest_file(wide_export(tmp_path / "few.csv", rows=2, items=1_200), longer, "2024-w1", reference, b"k" * 32)
    assert "few.csv" in str(caught.value) and "codebook column 'Q10_1201' (i01201) is not in the export" in str(
        caught.value
    )


text_cells = st.lists(st.sampled_from(["a", "b", "B", " ", "\u00e9", "\n", '"']), max_size=4).map("".join)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6).flatmap(lambda w: st.lists(st.lists(text_cells, min_size=w, max_size=w), max_size=9)))
def test_text_categoricals_are_what_pandas_makes_of_each_column(rows):
    width = len(rows[0]) if rows else 3
    cells = np.empty((len(rows), width), dtype=object)
    if rows:
        cells[:] = rows
    for j, made in enumerate(text_categoricals(cells)):
        expected = pd.Categorical(cells[:, j].tolist() if rows else np.array([], dtype=object))
        assert list(made.categories) == list(expected.categories)
        assert made.astype(object).tolist() == expected.astype(object).tolist()
        assert not made.ordered


parts = st.sampled_from(["a", "A", "b", " ", " - ", "-", "\u00a0", "\u2019", "'"])


def _texts(max_parts: int):
    return st.lists(parts, max_size=max_parts).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(_texts(8), min_size=1, max_size=8), _texts(6))
def test_question_text_lookup_is_the_scan_it_replaces(texts, wanted):
    """The index gives what reading every column's text did: exact text, or a ' - text' ending."""

    class Raw:
        question_text = {f"c{i}": text for i, text in enumerate(texts)}

    scanned = [
        c
        for c, q in Raw.question_text.items()
        if q
        and (
            normalise_label(q) == normalise_label(wanted)
            or normalise_label(q).endswith(" - " + normalise_label(wanted))
        )
    ]
    index = _QuestionTexts(Raw)
    assert index.find(wanted) == scanned
    for text in texts:
        assert index.find(text) == [
            c
            for c, q in Raw.question_text.items()
            if q
            and (
                normalise_label(q) == normalise_label(text)
                or normalise_label(q).endswith(" - " + normalise_label(text))
            )
        ]
