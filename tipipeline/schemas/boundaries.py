"""Schemas of the boundary tables (geometry stored as WKB)."""

from __future__ import annotations

from tipipeline.schemas.models import column_check, dataframe_check, model


@column_check
def geometry_present(series):
    return series.map(lambda g: isinstance(g, bytes) and len(g) > 0)


@dataframe_check
def one_source(df):
    """Every row comes from the same source: one mode, one file, one attribution."""
    return all(df[c].nunique(dropna=False) <= 1 for c in ("mode", "source_file", "attribution"))


@dataframe_check
def a_file_is_attributed(df):
    """Shapes from a file carry its attribution (printed on every map); the tile grid needs none."""
    return ((df["mode"] == "file") == df["attribution"].notna()).all()


@dataframe_check
def all_33_boroughs(df):
    return len(df) == 33


@dataframe_check
def twelve_bcus(df):
    return len(df) == 12


@dataframe_check
def five_icbs(df):
    return len(df) == 5


BoroughBoundaries = model("borough_boundaries")
BcuBoundaries = model("bcu_boundaries")
IcbBoundaries = model("icb_boundaries")
