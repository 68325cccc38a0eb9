"""The wide answers are stored (`stg_answers`) and `stg_responses` is a view that makes them long
(issue 14): a wave's partition is replaced whole, a codebook that gains an item adds its column
without disturbing earlier waves, a retired wave leaves the table and so the view, and the view
never shows an item a wave did not have."""

import duckdb
import pandas as pd
import pytest

from tipipeline.ingest.long_form import items_frame, long_responses, missing_codes
from tipipeline.warehouse import is_view, replace_partitions, retire_waves


class _Item:
    def __init__(self, id, domain, principle, scale, reverse=False):
        self.id, self.domain, self.principle, self.scale, self.reverse = id, domain, principle, scale, reverse


class _Scale:
    def __init__(self):
        self.minimum, self.maximum, self.missing = 1.0, 5.0, ["Don't know"]


class _Codebook:
    """The parts of a codebook the long form reads."""

    def __init__(self, item_ids):
        self.scales = {"agreement": _Scale()}
        self.items = [
            _Item(i, "d1" if n < 2 else "d2", "p1", "agreement", reverse=(i == "b")) for n, i in enumerate(item_ids)
        ]


def _wide(wave, ids, values, codes):
    frame = pd.DataFrame({"wave": wave, "respondent_id": ids})
    for item, column in values.items():
        frame[f"v__{item}"] = pd.array(column, dtype="float64")
        frame[f"m__{item}"] = pd.array(codes[item], dtype="int8")
    return frame


def _view(conn, codebook):
    from tipipeline.ingest.long_form import responses_view_sql

    conn.execute(f"CREATE OR REPLACE VIEW stg_responses AS {responses_view_sql(codebook)}")


def test_a_codebook_that_gains_an_item_adds_its_column_and_the_view_hides_it_for_earlier_waves():
    two = _Codebook(["a", "b"])
    three = _Codebook(["a", "b", "c"])
    w1 = _wide("w1", ["r1", "r2"], {"a": [5, None], "b": [1, 2]}, {"a": [0, 1], "b": [0, 0]})
    w2 = _wide("w2", ["r3"], {"a": [4], "b": [None], "c": [3]}, {"a": [0], "b": [2], "c": [0]})
    with duckdb.connect() as conn:
        replace_partitions(conn, {"stg_answers": w1}, "wave", "w1")
        replace_partitions(conn, {"stg_answers": w2}, "wave", "w2")  # c is new: the column is added
        _view(conn, three)
        assert is_view(conn, "stg_responses") and not is_view(conn, "stg_answers")
        shown = conn.execute("SELECT * FROM stg_responses ORDER BY wave, respondent_id, item_id").df()
    # w1 never had item c: no rows for it (not 'not answered'); w2's rows are all there.
    assert list(zip(shown["respondent_id"], shown["item_id"])) == [
        ("r1", "a"),
        ("r1", "b"),
        ("r2", "a"),
        ("r2", "b"),
        ("r3", "a"),
        ("r3", "b"),
        ("r3", "c"),
    ]
    expected = pd.concat([long_responses(w1, two), long_responses(w2, three)], ignore_index=True)
    expected = expected.sort_values(["wave", "respondent_id", "item_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(shown, expected, check_dtype=False)
    # Reverse-coded b: 1 -> 5; the missing codes read as their reasons.
    assert shown.loc[(shown.respondent_id == "r1") & (shown.item_id == "b"), "scored_value"].item() == 5.0
    codes = dict(zip(missing_codes(three)["code"], missing_codes(three)["missing_reason"]))
    assert shown.loc[(shown.respondent_id == "r3") & (shown.item_id == "b"), "missing_reason"].item() == codes[2]


def test_a_partition_is_replaced_whole_and_a_retired_wave_leaves_the_view():
    codebook = _Codebook(["a", "b"])
    first = _wide("w1", ["r1", "r2"], {"a": [5, 4], "b": [1, 2]}, {"a": [0, 0], "b": [0, 0]})
    again = _wide("w1", ["r9"], {"a": [3], "b": [3]}, {"a": [0], "b": [0]})
    other = _wide("w2", ["r3"], {"a": [2], "b": [2]}, {"a": [0], "b": [0]})
    with duckdb.connect() as conn:
        replace_partitions(conn, {"stg_answers": first}, "wave", "w1")
        replace_partitions(conn, {"stg_answers": other}, "wave", "w2")
        replace_partitions(conn, {"stg_answers": again}, "wave", "w1")
        _view(conn, codebook)
        assert conn.execute("SELECT DISTINCT respondent_id FROM stg_responses ORDER BY 1").fetchall() == [
            ("r3",),
            ("r9",),
        ]
        # The view is skipped (a DELETE on it would fail); its rows go with stg_answers.
        retired = retire_waves(conn, ["stg_answers", "stg_responses"], keep=["w2"])
        assert retired == {"w1": 1}
        assert conn.execute("SELECT DISTINCT wave FROM stg_responses").fetchall() == [("w2",)]


def test_the_view_has_the_long_tables_columns_and_types():
    codebook = _Codebook(["a", "b"])
    frame = _wide("w1", ["r1"], {"a": [5], "b": [None]}, {"a": [0], "b": [1]})
    with duckdb.connect() as conn:
        replace_partitions(conn, {"stg_answers": frame}, "wave", "w1")
        _view(conn, codebook)
        described = [(name, kind) for name, kind, *_ in conn.execute("DESCRIBE stg_responses").fetchall()]
    assert described == [
        ("wave", "VARCHAR"),
        ("respondent_id", "VARCHAR"),
        ("item_id", "VARCHAR"),
        ("domain", "VARCHAR"),
        ("principle", "VARCHAR"),
        ("value", "DOUBLE"),
        ("scored_value", "DOUBLE"),
        ("missing_reason", "VARCHAR"),
    ]
    assert len(items_frame(codebook)) == 2


def test_an_unsafe_table_name_is_refused():
    with duckdb.connect() as conn, pytest.raises(ValueError, match="not a safe SQL identifier"):
        replace_partitions(conn, {"stg_answers; DROP TABLE x": pd.DataFrame({"wave": ["w1"]})}, "wave", "w1")
