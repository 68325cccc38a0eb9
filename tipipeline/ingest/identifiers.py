"""Identifying data: which columns to drop at read time, and keyed pseudonyms for response ids."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from tipipeline.errors import TipipelineError
from tipipeline.settings import PSEUDONYM_KEY_ENV, PSEUDONYM_KEY_FILE_ENV, env

# Column names (compared without case, spaces, underscores or hyphens) that identify a person or
# their device, in the exports of Qualtrics, Microsoft Forms, SmartSurvey and in general.
IDENTIFYING_NAMES = {
    "ipaddress",
    "locationlatitude",
    "locationlongitude",
    "locationaccuracy",
    "recipientlastname",
    "recipientfirstname",
    "recipientemail",
    "externalreference",
    "externaldatareference",
    "name",
    "emailaddress",
    "email",
    "starttime",
    "completiontime",
    "lastmodifiedtime",
    "firstname",
    "lastname",
    "surname",
    "fullname",
    "respondentname",
    "phone",
    "phonenumber",
    "telephone",
    "mobile",
    "postcode",
    "address",
    "dateofbirth",
    "dob",
    "latitude",
    "longitude",
    "externalid",
    "uniqueid",
    "yourname",
    "ip",
    "staffid",
    "employeeid",
    "employeenumber",
    "payrollnumber",
    "staffnumber",
    "nhsnumber",
    "workaddress",
    "homeaddress",
    "emailaddresses",
}
# Anything that looks like a name, e-mail, IP address, location, phone number, postcode or staff
# number column. Applied only to short headers: Forms and SmartSurvey use the question text as the
# header, and a question such as "Staff can phone or email a manager" is not an identifier.
IDENTIFYING_PATTERNS = re.compile(
    r"e-?mail|ip[\s_-]*address|latitude|longitude|geo[\s_-]*location|phone|post[\s_-]*code|"
    r"external[\s_-]*(data[\s_-]*)?ref|^(your|full|first|last|respondent'?s?)[\s_-]*name\b|^name\b|"
    r"(staff|employee|payroll|nhs)[\s_-]*(id|no|number)\b|address$",
    re.IGNORECASE,
)
SHORT_HEADER_WORDS = 6

ENV_KEY, ENV_KEY_FILE = PSEUDONYM_KEY_ENV, PSEUDONYM_KEY_FILE_ENV
DEFAULT_KEY_FILE = Path(".secrets") / "pseudonym_key"
# Public on purpose: accepted only for codebooks marked `synthetic: true` (the bundled sample),
# so that a fresh clone runs without set-up. Real data always needs a private key.
DEVELOPMENT_KEY = b"tipipeline development key: synthetic sample only"
MIN_KEY_LENGTH = 16


class PseudonymKeyError(TipipelineError):
    """No usable pseudonymisation key for non-sample data."""


def _squash(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).casefold()


def identifying_columns(columns: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """The columns to drop at read time: known identifier names, identifier-like names, `extra`."""
    extra_squashed = {_squash(e) for e in extra}
    found = []
    for column in columns:
        base = re.sub(r" \(\d+\)$", "", column)  # a repeated header is as identifying as the first
        squashed = _squash(base)
        short = len(base.split()) <= SHORT_HEADER_WORDS
        if (
            squashed in IDENTIFYING_NAMES
            or squashed in extra_squashed
            or (short and IDENTIFYING_PATTERNS.search(base.strip()))
        ):
            found.append(column)
    return found


def pseudonym_key(synthetic: bool) -> bytes:
    """The HMAC key: $TIPIPELINE_PSEUDONYM_KEY, else the key file, else (sample only) the dev key."""
    value = env(ENV_KEY)
    if not value:
        key_file = Path(env(ENV_KEY_FILE) or DEFAULT_KEY_FILE)
        if key_file.is_file():
            value = key_file.read_text(encoding="utf-8").strip()
    if value:
        if len(value) < MIN_KEY_LENGTH:
            raise PseudonymKeyError(f"{ENV_KEY} is shorter than {MIN_KEY_LENGTH} characters: use a long random key")
        return value.encode("utf-8")
    if synthetic:
        return DEVELOPMENT_KEY
    raise PseudonymKeyError(
        f"refusing to ingest non-sample survey data without a pseudonymisation key: set {ENV_KEY} "
        f"(or put the key in {DEFAULT_KEY_FILE}, which git ignores)"
    )


_HMAC_BLOCK = 64  # SHA-256's block size: HMAC pads (or first hashes) the key to it (RFC 2104)


def pseudonym_sql(expression: str, key: bytes, namespace: str = "", name: str = "pseudonym") -> tuple[str, dict]:
    """`pseudonymise` inside DuckDB: a SQL expression giving the same 32 hex characters for the
    text value of `expression`, and the named parameters it needs (pass them with the query).

    HMAC-SHA256 written out (RFC 2104) with DuckDB's sha256 over BLOBs, so no Python call per row.
    The key's inner and outer pads travel as parameters, never in the SQL text (which DuckDB may
    log or show in errors). NULL gives NULL (pseudonymise would hash the text 'None')."""
    block = hashlib.sha256(key).digest() if len(key) > _HMAC_BLOCK else key
    block = block.ljust(_HMAC_BLOCK, b"\0")
    params = {
        f"{name}_ipad": bytes(b ^ 0x36 for b in block) + namespace.encode("utf-8"),
        f"{name}_opad": bytes(b ^ 0x5C for b in block),
    }
    inner = f"unhex(sha256(${name}_ipad || encode(CAST(({expression}) AS VARCHAR))))"
    return f"left(sha256(${name}_opad || {inner}), 32)", params


# Above this many distinct values, DuckDB computes the HMACs (pseudonym_sql) rather than Python's
# hmac module one value at a time: 1M pseudonyms take 0.7 s instead of 3.4 s on 2 cores.
SQL_FROM = 20_000


def pseudonymise(values: pd.Series, key: bytes, namespace: str = "") -> pd.Series:
    """HMAC-SHA256 of each value's text (prefixed by `namespace`), as 32 hex characters."""
    # As text first, so that None is 'None' and NaN 'nan', as str() makes them.
    codes, uniques = pd.factorize(values.astype(str), use_na_sentinel=False)
    texts = list(uniques)
    # DuckDB's strings cannot be trusted with a NUL character: such values stay in Python.
    if len(texts) > SQL_FROM and not any("\x00" in t for t in texts):
        hashed = _pseudonymise_in_duckdb(texts, key, namespace)
    else:
        prefix = namespace.encode("utf-8")
        hashed = [hmac.new(key, prefix + t.encode("utf-8"), hashlib.sha256).hexdigest()[:32] for t in texts]
    return pd.Series(np.asarray(hashed, dtype=object)[codes], index=values.index, dtype=object)


def _pseudonymise_in_duckdb(texts: list[str], key: bytes, namespace: str) -> list[str]:
    from tipipeline.warehouse import connect

    expression, params = pseudonym_sql("v", key, namespace)
    with connect(":memory:") as conn:
        conn.register("_values", pd.DataFrame({"i": np.arange(len(texts)), "v": texts}))
        rows = conn.execute(f"SELECT {expression} AS p FROM _values ORDER BY i", params).fetchnumpy()
    return list(rows["p"])
