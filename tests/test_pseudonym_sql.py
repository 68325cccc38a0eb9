"""Pseudonyms computed inside DuckDB equal those of `pseudonymise` (Python's hmac), byte for byte:
the DuckDB-native ingest (issue 14) must give every respondent the pseudonym they have today."""

import hashlib
import hmac

import duckdb
import pandas as pd
import pytest

from tipipeline.ingest.identifiers import pseudonym_sql, pseudonymise

VALUES = ["R_1a2B3c", "", " padded ", "zoë@example.org", "İstanbul ß", "😀 emoji", "x" * 5000, "a'b\"c;--"]
KEYS = [b"k" * 40, b"short", b"z" * 64, b"long-" * 30]  # under, at and over SHA-256's 64-byte block


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{len(k)}-byte key")
@pytest.mark.parametrize("namespace", ["", "duplicate:", "wave:2024-w1:"])
def test_sql_pseudonyms_equal_python_hmac(key, namespace):
    expression, params = pseudonym_sql("v", key, namespace)
    with duckdb.connect() as conn:
        conn.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(VALUES)))
        got = [row[0] for row in conn.execute(f"SELECT {expression} FROM t ORDER BY i", params).fetchall()]
    assert got == pseudonymise(pd.Series(VALUES), key, namespace).tolist()
    # And an oracle that is not the pipeline's code: the standard library's hmac, by hand.
    prefix = namespace.encode()
    assert got == [hmac.new(key, prefix + v.encode(), hashlib.sha256).hexdigest()[:32] for v in VALUES]


def test_the_key_never_appears_in_the_sql_text():
    key = b"this-is-a-secret-key-of-forty-characters"
    expression, params = pseudonym_sql("respondent", key, "wave:")
    assert key.decode() not in expression and key.hex() not in expression
    assert set(params) == {"pseudonym_ipad", "pseudonym_opad"}


def test_null_stays_null():
    expression, params = pseudonym_sql("v", b"k" * 40)
    with duckdb.connect() as conn:
        assert conn.execute(f"SELECT {expression} FROM (SELECT NULL::VARCHAR AS v)", params).fetchone() == (None,)


def test_pseudonymise_of_many_values_goes_through_duckdb_and_equals_hmac(monkeypatch):
    """Above SQL_FROM distinct values DuckDB computes the HMACs; the result is Python's hmac, value
    for value, with repeats, NaN (hashed as the text 'nan', as before) and non-ASCII included."""
    import hashlib
    import hmac

    import numpy as np
    import pandas as pd

    from tipipeline.ingest import identifiers

    monkeypatch.setattr(identifiers, "SQL_FROM", 10)
    called = []
    real = identifiers._pseudonymise_in_duckdb
    monkeypatch.setattr(identifiers, "_pseudonymise_in_duckdb", lambda *a: called.append(1) or real(*a))
    key = b"a key long enough for the test, 40 bytes"
    values = pd.Series([f"R_{i}" for i in range(30)] + ["R_3", "Ünïcødé ß", np.nan, "", "R_0"], index=range(100, 135))
    got = identifiers.pseudonymise(values, key, "response:2024-w1:")
    assert called, "DuckDB was not used"
    expected = [hmac.new(key, ("response:2024-w1:" + str(v)).encode(), hashlib.sha256).hexdigest()[:32] for v in values]
    assert got.tolist() == expected
    assert list(got.index) == list(values.index)
