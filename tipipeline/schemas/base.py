"""The base of every table schema."""

import pandera.pandas as pa
from pandera.typing import Series


class StrictModel(pa.DataFrameModel):
    """Strict: an unexpected column fails validation (it might be an identifier, or a mistake);
    no coercion: a column of the wrong type is a failure, not something to fix silently."""

    class Config:
        strict = True
        coerce = False


class RowAccounting(StrictModel):
    """A data-quality table: one row per input file, saying where every raw row went. Nothing is
    lost: rows read = accepted + quarantined + excluded (each excluded row by a documented rule,
    counted per rule in `excluded_by_rule`). Every reader's data-quality model extends this one."""

    source_file: Series[str]
    sha256: Series[str] = pa.Field(str_matches=r"^[0-9a-f]{64}$")
    rows_read: Series[int] = pa.Field(ge=0)
    rows_accepted: Series[int] = pa.Field(ge=0)
    rows_quarantined: Series[int] = pa.Field(ge=0)
    rows_excluded: Series[int] = pa.Field(ge=0)
    excluded_by_rule: Series[str]

    @pa.dataframe_check
    def every_row_accounted_for(cls, df):
        return df["rows_read"] == df["rows_accepted"] + df["rows_quarantined"] + df["rows_excluded"]
