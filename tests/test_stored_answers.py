"""The wide answers are stored (`stg_answers`) and `stg_responses` is a view that makes them long
(issue 14): each wave is read through the items and missing codes its own ingest stored, so a later
codebook (a new item, reordered missing labels, a dropped or moved item) never changes an earlier
wave; a wave's partition is replaced whole; a retired wave leaves the tables and so the view; a
warehouse from before the change is refused with a clear error, before anything is written."""

import duckdb
import pandas as pd
import pytest

from tipipeline.errors import WarehouseError
from tipipeline.ingest.long_form import (
    ANSWER_CODES,
    ANSWER_ITEMS,
    answer_codes,
    answer_items,
    long_responses,
    missing_codes,
    responses_view_rows,
    responses_view_sql,
    stored_item_ids,
    wave_items,
)
from tipipeline.warehouse import is_view, replace_partitions, retire_waves, table_exists


class _Item:
    def __init__(self, id, domain, principle, scale, reverse=False):
        self.id, self.domain, self.principle, self.scale, self.reverse = id, domain, principle, scale, reverse


class _Scale:
    def __init__(self, missing=("Don't know",)):
        self.minimum, self.maximum, self.missing = 1.0, 5.0, list(missing)


class _Codebook:
    """The parts of a codebook the long form reads."""

    def __init__(self, item_ids, missing=("Don't know",), domains=None):
        self.scales = {"agreement": _Scale(missing)}
        domains = domains or {}
        self.items = [
            _Item(i, domains.get(i, "d1" if n < 2 else "d2"), "p1", "agreement", reverse=(i == "b"))
            for n, i in enumerate(item_ids)
        ]


def _wide(wave, ids, values, codes):
    frame = pd.DataFrame({"wave": wave, "respondent_id": ids})
    for item, column in values.items():
        frame[f"v__{item}"] = pd.array(column, dtype="float64")
        frame[f"m__{item}"] = pd.array(codes[item], dtype="int8")
    return frame


def _write(conn, frame, codebook, wave):
    """As the survey_wave asset writes a wave: answers, its items and codes, the view, one transaction."""
    replace_partitions(
        conn,
        {"stg_answers": frame, ANSWER_ITEMS: answer_items(codebook, wave), ANSWER_CODES: answer_codes(codebook, wave)},
        "wave",
        wave,
        views={"stg_responses": lambda c: responses_view_sql(stored_item_ids(c))},
    )


def _shown(conn, wave=None):
    where = "" if wave is None else f" WHERE wave = '{wave}'"
    return (
        conn.execute(f"SELECT * FROM stg_responses{where} ORDER BY wave, respondent_id, item_id")
        .df()
        .reset_index(drop=True)
    )


def _expected(frame, codebook):
    return long_responses(frame, codebook).sort_values(["wave", "respondent_id", "item_id"]).reset_index(drop=True)


def _assert_view_rows_counted_right(conn, waves):
    """The metadata's row count of the view, worked out from the stored tables, is what counting
    through the view gives."""
    for wave in waves:
        counted = conn.execute("SELECT count(*) FROM stg_responses WHERE wave = ?", [wave]).fetchall()[0][0]
        assert responses_view_rows(conn, wave) == counted > 0


def test_a_codebook_that_gains_an_item_adds_its_column_and_the_view_hides_it_for_earlier_waves():
    two = _Codebook(["a", "b"])
    three = _Codebook(["a", "b", "c"])
    w1 = _wide("w1", ["r1", "r2"], {"a": [5, None], "b": [1, 2]}, {"a": [0, 1], "b": [0, 0]})
    w2 = _wide("w2", ["r3"], {"a": [4], "b": [None], "c": [3]}, {"a": [0], "b": [2], "c": [0]})
    with duckdb.connect() as conn:
        _write(conn, w1, two, "w1")
        _write(conn, w2, three, "w2")  # c is new: the column is added
        assert is_view(conn, "stg_responses") and not is_view(conn, "stg_answers")
        shown = _shown(conn)
        _assert_view_rows_counted_right(conn, ["w1", "w2"])
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
        _write(conn, first, codebook, "w1")
        _write(conn, other, codebook, "w2")
        _write(conn, again, codebook, "w1")
        assert conn.execute("SELECT DISTINCT respondent_id FROM stg_responses ORDER BY 1").fetchall() == [
            ("r3",),
            ("r9",),
        ]
        # The view is skipped (a DELETE on it would fail); its rows go with stg_answers.
        retired = retire_waves(conn, ["stg_answers", ANSWER_CODES, ANSWER_ITEMS, "stg_responses"], keep=["w2"])
        assert retired == {"w1": 1}
        assert conn.execute("SELECT DISTINCT wave FROM stg_responses").fetchall() == [("w2",)]
        assert conn.execute(f"SELECT DISTINCT wave FROM {ANSWER_ITEMS}").fetchall() == [("w2",)]


def test_the_view_has_the_long_tables_columns_and_types():
    codebook = _Codebook(["a", "b"])
    frame = _wide("w1", ["r1"], {"a": [5], "b": [None]}, {"a": [0], "b": [1]})
    with duckdb.connect() as conn:
        _write(conn, frame, codebook, "w1")
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


def test_a_later_codebook_never_changes_an_earlier_wave():
    # The review's case: w2's codebook lists the missing labels in another order (so code 2 means
    # something else), drops item b and moves item a to another domain.
    before = _Codebook(["a", "b"], missing=["Don't know", "Prefer not to say"])
    after = _Codebook(["a"], missing=["Prefer not to say", "Don't know"], domains={"a": "d9"})
    w1 = _wide("w1", ["r1", "r2"], {"a": [None, 4], "b": [2, None]}, {"a": [2, 0], "b": [0, 3]})
    w2 = _wide("w2", ["r3"], {"a": [None]}, {"a": [2]})
    with duckdb.connect() as conn:
        _write(conn, w1, before, "w1")
        first = _shown(conn, "w1")
        _write(conn, w2, after, "w2")
        pd.testing.assert_frame_equal(_shown(conn, "w1"), first)
        pd.testing.assert_frame_equal(_shown(conn, "w1"), _expected(w1, before), check_dtype=False)
        pd.testing.assert_frame_equal(_shown(conn, "w2"), _expected(w2, after), check_dtype=False)
        assert first.loc[first.respondent_id == "r1", "missing_reason"].tolist() == ["Don't know", None]
        assert _shown(conn, "w2")["missing_reason"].tolist() == ["Prefer not to say"]
        _assert_view_rows_counted_right(conn, ["w1", "w2"])
        assert wave_items(conn, "w1")["item_id"].tolist() == ["a", "b"]
        assert wave_items(conn, "w1")["domain"].tolist() == ["d1", "d1"]


def test_a_warehouse_from_before_is_refused_before_anything_is_written():
    codebook = _Codebook(["a"])
    frame = _wide("w1", ["r1"], {"a": [5]}, {"a": [0]})
    with duckdb.connect() as conn:
        conn.execute("CREATE TABLE stg_responses (wave VARCHAR, respondent_id VARCHAR, item_id VARCHAR)")
        with pytest.raises(WarehouseError, match="stg_responses is a table here"):
            _write(conn, frame, codebook, "w1")
        assert not table_exists(conn, "stg_answers") and not table_exists(conn, ANSWER_ITEMS)


def test_an_unsafe_table_name_is_refused():
    with duckdb.connect() as conn, pytest.raises(ValueError, match="not a safe SQL identifier"):
        replace_partitions(conn, {"stg_answers; DROP TABLE x": pd.DataFrame({"wave": ["w1"]})}, "wave", "w1")


def test_retiring_names_every_gone_wave_and_counts_it_where_asked():
    """A wave with rows only in a data-quality table (every respondent quarantined or excluded) is
    still named, with 0 respondents; the count comes from the table asked for, not the first."""
    with duckdb.connect() as conn:
        conn.execute(
            "CREATE TABLE a_quality AS SELECT * FROM (VALUES ('w1', 'f1'), ('w2', 'f2'), ('w3', 'f3')) t(wave, f)"
        )
        conn.execute("CREATE TABLE respondents AS SELECT * FROM (VALUES ('w1', 1), ('w1', 2), ('w3', 3)) t(wave, r)")
        retired = retire_waves(conn, ["a_quality", "respondents"], keep=["w3"], counted="respondents")
        assert retired == {"w1": 2, "w2": 0}
        assert conn.execute("SELECT DISTINCT wave FROM a_quality").fetchall() == [("w3",)]
        assert conn.execute("SELECT count(*) FROM respondents").fetchall() == [(1,)]


def test_retiring_names_waves_only_from_the_tables_asked():
    """`named_in`: the waves retired are those the named tables hold; the others are only cleared."""
    with duckdb.connect() as conn:
        conn.execute("CREATE TABLE quality AS SELECT * FROM (VALUES ('w1'), ('w2'), ('w3')) t(wave)")
        conn.execute("CREATE TABLE respondents AS SELECT * FROM (VALUES ('w1'), ('w3')) t(wave)")
        conn.execute("CREATE TABLE cells AS SELECT * FROM (VALUES ('w1'), ('w4'), ('w3')) t(wave)")
        tables = ["cells", "quality", "respondents"]
        retired = retire_waves(conn, tables, keep=["w3"], counted="respondents", named_in=["respondents", "quality"])
        assert retired == {"w1": 1, "w2": 0}
        assert conn.execute("SELECT DISTINCT wave FROM cells").fetchall() == [("w3",)]  # w4 cleared too
