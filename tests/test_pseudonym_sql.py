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
