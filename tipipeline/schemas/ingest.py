"""Schemas of the ingest tables."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series


class WaveFiles(pa.DataFrameModel):
    wave: Series[str]
    file_name: Series[str]
    file_format: Series[str] = pa.Field(isin=["csv", "xlsx"])
    size_bytes: Series[int] = pa.Field(gt=0)
    sha256: Series[str] = pa.Field(str_matches=r"^[0-9a-f]{64}$")

    class Config:
        strict = True

    @pa.dataframe_check
    def one_row_per_file(cls, df):
        return ~df.duplicated(["wave", "file_name"], keep=False)
