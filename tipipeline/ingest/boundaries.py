"""Borough boundaries from any real file, or the London tile grid when there is none.

Any .shp (with sidecars), .gpkg or .geojson with the 33 London local authorities will do: the GSS
code column is found by its content (values E09000001-E09000033), not its name; a CRS equivalent
to British National Grid is kept even when its .prj has no EPSG code; any other CRS is reprojected
to EPSG:27700; invalid geometries are repaired. A file that is present but unusable is an error:
the tile grid is never used silently in place of a broken file.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyproj import CRS
from shapely import make_valid
from shapely.geometry import box

from tipipeline.errors import InputError
from tipipeline.files import BOUNDARY_SUFFIXES
from tipipeline.reference import Reference
from tipipeline.warehouse import table_exists

BRITISH_NATIONAL_GRID = CRS.from_epsg(27700)
GSS_LONDON = re.compile(r"^E09000\d{3}$")
# Greater London in British National Grid metres, with a margin: a sanity check on coordinates.
LONDON_BOUNDS = (490_000, 145_000, 575_000, 215_000)
ONS_ATTRIBUTION = (
    "Contains National Statistics data \u00a9 Crown copyright and database right{year}. "
    "Contains OS data \u00a9 Crown copyright and database right{year}."
)


@dataclass
class Boundaries:
    """Borough, BCU and ICB shapes, and where they came from."""

    mode: str  # "file" or "tile_grid"
    boroughs: gpd.GeoDataFrame  # gss_code, name, geometry
    bcus: gpd.GeoDataFrame  # bcu_code, name, geometry
    icbs: gpd.GeoDataFrame  # icb_code, name, geometry
    source_file: str | None = None
    sha256: str | None = None
    code_column: str | None = None
    layer: str | None = None
    source_crs: str | None = None
    notes: list[str] = field(default_factory=list)
    # Crown copyright attribution for ONS/OS boundaries (None for the tile grid): printed on every
    # map drawn from them and stored with the boundary tables in the warehouse.
    attribution: str | None = None


def ons_attribution(code_column: str | None) -> str:
    """The Crown copyright attribution of ONS/OS boundaries. The year is the boundaries' own
    (LAD22CD -> 2022), never today's: the same file gives the same maps."""
    match = re.fullmatch(r"[A-Z]+(\d{2})CD", code_column or "")
    return ONS_ATTRIBUTION.format(year=f" 20{match.group(1)}" if match else "")


def find_boundary_file(directory: str | Path) -> Path | None:
    """The one boundary file in `directory`, None if there is none; two or more is an error."""
    directory = Path(directory)
    if not directory.is_dir():
        return None
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in BOUNDARY_SUFFIXES)
    if len(files) > 1:
        raise InputError(directory, f"more than one boundary file: {', '.join(p.name for p in files)}; keep one")
    return files[0] if files else None


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    parts = [path] + (
        sorted(p for p in path.parent.glob(path.stem + ".*") if p != path) if path.suffix.lower() == ".shp" else []
    )
    for part in parts:
        digest.update(part.name.encode())
        digest.update(part.read_bytes())
    return digest.hexdigest()


def _layers(path: Path) -> list[str | None]:
    if path.suffix.lower() != ".gpkg":
        return [None]
    import pyogrio

    try:
        return [name for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises its own DataSourceError family
        raise InputError(path, f"unreadable boundary file ({_short(exc)})") from exc


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


def _read(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    try:
        return gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:
        raise InputError(path, f"unreadable boundary file ({_short(exc)})") from exc


def find_code_column(frame: pd.DataFrame, reference_codes: set[str]) -> tuple[str | None, int]:
    """The column holding the most London GSS codes (by value), and how many it holds."""
    best, best_count = None, 0
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    for column in frame.columns:
        if column == geometry:
            continue
        values = frame[column].astype(str).str.strip()
        count = int(values.isin(reference_codes).sum())
        if count > best_count:
            best, best_count = column, count
    return best, best_count


# British National Grid's definition: what an ESRI .prj describes even when no EPSG code is found.
_BNG_PARAMETERS = {"proj": "tmerc", "lat_0": 49.0, "lon_0": -2.0, "k": 0.9996012717, "x_0": 400000.0, "y_0": -100000.0}
_AIRY_1830 = (6377563.396, 299.3249646)


def is_british_national_grid(crs: CRS) -> bool:
    """True for EPSG:27700 and for any CRS equivalent to it (ESRI WKT without an EPSG code, a
    renamed datum): compared by equivalence and then by projection parameters, never by name."""
    if crs.equals(BRITISH_NATIONAL_GRID, ignore_axis_order=True) or crs.to_epsg(min_confidence=70) == 27700:
        return True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "you will lose information": only parameters are read
        params = crs.to_dict()
    for key, value in _BNG_PARAMETERS.items():
        found = params.get(key)
        if found is None or (found != value if isinstance(value, str) else abs(float(found) - value) > 1e-9):
            return False
    if params.get("units", "m") != "m":
        return False
    ellipsoid = crs.ellipsoid
    return (
        ellipsoid is not None
        and abs(ellipsoid.semi_major_metre - _AIRY_1830[0]) < 1e-3
        and abs(ellipsoid.inverse_flattening - _AIRY_1830[1]) < 1e-6
    )


def _to_bng(path: Path, frame: gpd.GeoDataFrame, notes: list[str]) -> gpd.GeoDataFrame:
    """Put the frame in British National Grid, comparing CRSs by equivalence, not by EPSG code."""
    if frame.crs is None:
        minx, miny, maxx, maxy = frame.total_bounds
        if -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90:
            notes.append("the file has no CRS; its coordinates look like longitude/latitude, read as WGS 84")
            frame = frame.set_crs(4326)
        else:
            notes.append("the file has no CRS; its coordinates look like metres, read as British National Grid")
            return frame.set_crs(BRITISH_NATIONAL_GRID)
    crs = CRS(frame.crs)
    if is_british_national_grid(crs):
        return frame.set_crs(BRITISH_NATIONAL_GRID, allow_override=True)
    notes.append(f"reprojected from {crs.name} to British National Grid (EPSG:27700)")
    try:
        return frame.to_crs(BRITISH_NATIONAL_GRID)
    except Exception as exc:
        raise InputError(path, f"cannot reproject from {crs.name} to British National Grid ({_short(exc)})") from exc


def read_boundary_file(path: str | Path, reference: Reference) -> Boundaries:
    """Read a borough boundary file into borough, BCU and ICB shapes; InputError if unusable."""
    path = Path(path)
    codes = set(reference.boroughs["gss_code"])
    candidates = []
    for layer in _layers(path):
        frame = _read(path, layer)
        column, count = find_code_column(frame, codes)
        candidates.append((count, layer, frame, column))
    count, layer, frame, column = max(candidates, key=lambda c: c[0])
    if column is None:
        raise InputError(
            path, "no column holds London GSS codes (E09000001-E09000033); is this a London borough layer?"
        )
    notes: list[str] = []
    frame = gpd.GeoDataFrame({"gss_code": frame[column].to_numpy()}, geometry=frame.geometry.to_numpy(), crs=frame.crs)
    frame["gss_code"] = frame["gss_code"].astype(str).str.strip()
    outside = ~frame["gss_code"].isin(codes)
    if outside.any():
        extra = sorted(set(frame.loc[outside & frame["gss_code"].str.match(GSS_LONDON), "gss_code"]))
        if extra:
            raise InputError(path, f"codes that are not London local authorities: {', '.join(extra)}")
        notes.append(f"{int(outside.sum())} feature(s) outside London ignored")
        frame = frame[~outside]
    missing = sorted(codes - set(frame["gss_code"]))
    if missing:
        raise InputError(
            path, f"{len(set(frame['gss_code']))} of the 33 London local authorities; missing: {', '.join(missing)}"
        )
    empty = frame.geometry.isna() | frame.geometry.is_empty
    if empty.any():
        raise InputError(path, f"empty geometry for {', '.join(sorted(frame.loc[empty, 'gss_code']))}")
    frame = _to_bng(path, frame, notes)
    minx, miny, maxx, maxy = frame.total_bounds
    lo_x, lo_y, hi_x, hi_y = LONDON_BOUNDS
    if not (lo_x <= minx and lo_y <= miny and maxx <= hi_x and maxy <= hi_y):
        raise InputError(
            path,
            f"the shapes are not where London is (bounds {minx:.0f}, {miny:.0f}, {maxx:.0f}, {maxy:.0f} "
            "in British National Grid): is the CRS in the file right?",
        )
    invalid = ~frame.geometry.is_valid
    if invalid.any():
        frame.loc[invalid, "geometry"] = frame.loc[invalid, "geometry"].map(make_valid)
        notes.append(f"{int(invalid.sum())} invalid geometr{'y' if invalid.sum() == 1 else 'ies'} repaired")
    if frame.duplicated("gss_code").any():
        notes.append("several features for one code were dissolved into one")
    boroughs = frame.dissolve(by="gss_code", as_index=False)[["gss_code", "geometry"]]
    result = _with_groupings(boroughs, reference, mode="file")
    result.source_file, result.sha256, result.code_column = path.name, _file_sha256(path), column
    result.layer, result.source_crs, result.notes = layer, (CRS(frame.crs).name if frame.crs else None), notes
    result.attribution = ons_attribution(column)
    return result


def tile_grid_boundaries(reference: Reference) -> Boundaries:
    """Unit squares at the tile-grid positions (y grows downwards in the layout, so it is negated)."""
    grid = reference.tile_grid.merge(reference.boroughs[["short_code", "gss_code"]], on="short_code")
    shapes = (
        gpd.GeoDataFrame(
            {"gss_code": grid["gss_code"]},
            geometry=[box(x, -y - 1, x + 1, -y) for x, y in zip(grid["x"], grid["y"])],
            crs=None,
        )
        .sort_values("gss_code")
        .reset_index(drop=True)
    )
    return _with_groupings(shapes, reference, mode="tile_grid")


def _with_groupings(boroughs: gpd.GeoDataFrame, reference: Reference, mode: str) -> Boundaries:
    """Add names, and dissolve BCUs (12; not the City) and ICBs (5) from the boroughs."""
    info = reference.boroughs_at()[["gss_code", "name", "bcu_code", "icb_code"]]
    boroughs = boroughs.merge(info, on="gss_code", how="left").sort_values("gss_code").reset_index(drop=True)
    bcus = boroughs.dropna(subset=["bcu_code"]).dissolve(by="bcu_code", as_index=False)[["bcu_code", "geometry"]]
    bcus = bcus.merge(reference.bcus, on="bcu_code").sort_values("bcu_code").reset_index(drop=True)
    icbs = boroughs.dissolve(by="icb_code", as_index=False)[["icb_code", "geometry"]]
    icbs = (
        icbs.merge(reference.icbs[["icb_code", "name"]], on="icb_code").sort_values("icb_code").reset_index(drop=True)
    )
    return Boundaries(
        mode=mode,
        boroughs=boroughs[["gss_code", "name", "bcu_code", "icb_code", "geometry"]],
        bcus=bcus[["bcu_code", "name", "geometry"]],
        icbs=icbs[["icb_code", "name", "geometry"]],
    )


def load_boundaries(directory: str | Path, reference: Reference) -> Boundaries:
    """The boundary file in `directory` if there is one, else the tile grid."""
    path = find_boundary_file(directory)
    return read_boundary_file(path, reference) if path else tile_grid_boundaries(reference)


# --- the boundary tables of the working warehouse ------------------------------------------------

# Warehouse table -> (the Boundaries attribute it holds, its code column, its other attributes).
BOUNDARY_TABLE_LEVELS = {
    "borough_boundaries": ("boroughs", "gss_code", ["name", "bcu_code", "icb_code"]),
    "bcu_boundaries": ("bcus", "bcu_code", ["name"]),
    "icb_boundaries": ("icbs", "icb_code", ["name"]),
}


def boundary_tables(boundaries: Boundaries) -> dict[str, pd.DataFrame]:
    """The boundaries as the warehouse stores them: one plain table per level (attributes, then on
    every row the mode, the area in km2 (real files only), the source file and the attribution,
    then the geometry as WKB). `boundaries_from_tables` turns them back into the same Boundaries."""
    tables = {}
    for table_name, (attribute, code, columns) in BOUNDARY_TABLE_LEVELS.items():
        shapes = getattr(boundaries, attribute)
        table = pd.DataFrame(shapes[[code, *columns]]).reset_index(drop=True)
        table["mode"] = boundaries.mode
        areas = shapes.geometry.area.to_numpy() / 1e6 if boundaries.mode == "file" else None
        table["area_km2"] = pd.Series(areas, index=table.index, dtype="float64")
        table["source_file"] = pd.Series(boundaries.source_file, index=table.index, dtype=object)
        table["attribution"] = pd.Series(boundaries.attribution, index=table.index, dtype=object)
        table["geometry_wkb"] = shapes.geometry.to_wkb().to_numpy()
        tables[table_name] = table
    return tables


def _single(tables: dict[str, pd.DataFrame], column: str) -> str | None:
    """The one value of `column` on every row of every table (None when it is empty)."""
    values = {None if pd.isna(v) else v for table in tables.values() for v in table[column]}
    if len(values) != 1:
        raise ValueError(f"the boundary tables disagree on {column}: {sorted(map(str, values))}")
    return values.pop()


def boundaries_from_tables(tables: dict[str, pd.DataFrame]) -> Boundaries:
    """Boundaries from the warehouse's boundary tables (as `boundary_tables` writes them): the same
    shapes, names, order and attribution as the file or tile grid they were made from, so maps drawn
    from either are byte-identical. Rows may come in any order: each level is sorted by its code."""
    missing = sorted(set(BOUNDARY_TABLE_LEVELS) - set(tables))
    if missing:
        raise ValueError(f"boundary tables missing: {', '.join(missing)}")
    mode = _single(tables, "mode")
    # Real files are put in British National Grid when they are read; the tile grid has no CRS.
    crs = BRITISH_NATIONAL_GRID if mode == "file" else None
    levels = {}
    for table_name, (attribute, code, columns) in BOUNDARY_TABLE_LEVELS.items():
        table = tables[table_name].sort_values(code).reset_index(drop=True)
        attributes = table[[code, *columns]].astype(object)
        attributes = attributes.where(attributes.notna(), None)  # SQL NULL (City of London's BCU) as None
        geometry = gpd.GeoSeries.from_wkb([bytes(g) for g in table["geometry_wkb"]], crs=crs)
        levels[attribute] = gpd.GeoDataFrame(attributes, geometry=geometry, crs=crs)
    return Boundaries(
        mode=mode,
        **levels,
        source_file=_single(tables, "source_file"),
        attribution=_single(tables, "attribution"),
    )


def read_warehouse_boundaries(conn) -> Boundaries:
    """The boundaries the `boundaries` assets stored in the working warehouse (`conn`)."""
    rebuild = "materialise the boundaries assets (`tipipeline run` builds them)"
    missing = [name for name in BOUNDARY_TABLE_LEVELS if not table_exists(conn, name)]
    if missing:
        raise RuntimeError(f"the warehouse has no {', '.join(missing)}: {rebuild}")
    tables = {name: conn.execute(f"SELECT * FROM {name}").df() for name in BOUNDARY_TABLE_LEVELS}
    for name, table in tables.items():
        absent = [c for c in ("mode", "source_file", "attribution", "geometry_wkb") if c not in table.columns]
        if absent:
            raise RuntimeError(f"{name} was written by an older tipipeline (no {', '.join(absent)}): {rebuild}")
    return boundaries_from_tables(tables)
