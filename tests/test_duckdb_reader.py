"""The DuckDB-native reader gives the Python reader's cells and row numbers, or declines."""

import duckdb
import pytest
from conftest import REPO

from tipipeline.ingest.duckdb_reader import read_rows
from tipipeline.ingest.exports import read_export

SAMPLE_CSV = sorted((REPO / "data" / "raw" / "surveys").glob("*/*.csv"))


@pytest.mark.parametrize("path", SAMPLE_CSV, ids=lambda p: p.name)
def test_cells_and_row_numbers_equal_the_python_readers(path):
    raw = read_export(path)
    with duckdb.connect() as conn:
        got = read_rows(conn, path, raw.encoding, raw.header_rows, len(raw.columns), "rows_0")
        assert got is not None
        frame = conn.execute("SELECT * FROM rows_0 ORDER BY source_row").df()
    assert frame["source_row"].tolist() == raw.row_numbers
    expected = raw.data.astype(object).fillna("").astype(str)
    found = frame.drop(columns="source_row")
    found.columns = list(expected.columns)
    assert (found.to_numpy() == expected.to_numpy()).all()


@pytest.mark.parametrize(
    "text, why",
    [
        (b"a,b\r\n1,2\r\n\r\n3,4\r\n", "empty line"),
        (b'a,b\r\n1,"2\r\n3,4\r\n', "unterminated quote"),
        (b"a,b\r\n1,2,3\r\n", "too many cells"),
        (b"a,b\r\n1,2\r3,4\r\n", "a lone carriage return"),
    ],
)
def test_it_declines_what_it_could_read_differently(tmp_path, text, why):
    path = tmp_path / "export.csv"
    path.write_bytes(text)
    with duckdb.connect() as conn:
        assert read_rows(conn, path, "utf-8", 1, 2, "rows_0") is None, why
