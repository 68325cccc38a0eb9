"""Schemas of the boundary tables (geometry stored as WKB)."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from tipipeline.schemas.base import StrictModel


class _Boundary(StrictModel):
    name: Series[str]
    mode: Series[str] = pa.Field(isin=["file", "tile_grid"])
    source_file: Series[str] = pa.Field(nullable=True)  # None on the tile grid
    attribution: Series[str] = pa.Field(nullable=True)  # Crown copyright; None on the tile grid
    geometry_wkb: Series[object]

    @pa.check("geometry_wkb")
    def geometry_present(cls, series):
        return series.map(lambda g: isinstance(g, bytes) and len(g) > 0)

    @pa.dataframe_check
    def one_source(cls, df):
        """Every row comes from the same source: one mode, one file, one attribution."""
        return all(df[c].nunique(dropna=False) <= 1 for c in ("mode", "source_file", "attribution"))

    @pa.dataframe_check
    def a_file_is_attributed(cls, df):
        """Shapes from a file carry its attribution (printed on every map); the tile grid needs none."""
        return ((df["mode"] == "file") == df["attribution"].notna()).all()


class BoroughBoundaries(_Boundary):
    gss_code: Series[str] = pa.Field(str_matches=r"^E09000\d{3}$", unique=True)
    bcu_code: Series[str] = pa.Field(nullable=True)
    icb_code: Series[str]
    area_km2: Series[float] = pa.Field(gt=0, nullable=True)  # None on the tile grid

    @pa.dataframe_check
    def all_33_boroughs(cls, df):
        return len(df) == 33


class BcuBoundaries(_Boundary):
    bcu_code: Series[str] = pa.Field(unique=True)
    area_km2: Series[float] = pa.Field(gt=0, nullable=True)  # None on the tile grid

    @pa.dataframe_check
    def twelve_bcus(cls, df):
        return len(df) == 12


class IcbBoundaries(_Boundary):
    icb_code: Series[str] = pa.Field(unique=True)
    area_km2: Series[float] = pa.Field(gt=0, nullable=True)  # None on the tile grid

    @pa.dataframe_check
    def five_icbs(cls, df):
        return len(df) == 5
