"""Schemas of the boundary tables (geometry stored as WKB)."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from tipipeline.schemas.base import StrictModel


class _Boundary(StrictModel):
    name: Series[str]
    mode: Series[str] = pa.Field(isin=["file", "tile_grid"])
    geometry_wkb: Series[object]

    @pa.check("geometry_wkb")
    def geometry_present(cls, series):
        return series.map(lambda g: isinstance(g, bytes) and len(g) > 0)


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
