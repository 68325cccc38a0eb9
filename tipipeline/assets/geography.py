"""Boundary assets: borough shapes from a real boundary file, or the tile grid; BCUs and ICBs
dissolved from them. Geometry is stored as WKB (the DuckDB spatial extension is not needed)."""

import pandas as pd
from dagster import AssetExecutionContext, MetadataValue, multi_asset

from tipipeline.assets.failures import readable_failures
from tipipeline.assets.tables import TableAsset, asset_specs, check_specs, write_tables
from tipipeline.inputs import RAW_BOUNDARIES
from tipipeline.reference import load_reference
from tipipeline.resources import PathsResource, WarehouseResource
from tipipeline.schemas import boundaries as schemas

BOUNDARY_TABLES = [
    TableAsset(
        "borough_boundaries",
        "The 33 borough shapes in British National Grid (from the boundary file in "
        "data/boundaries/, or tile-grid squares when there is none), as WKB.",
        schemas.BoroughBoundaries,
    ),
    TableAsset(
        "bcu_boundaries",
        "The 12 MPS BCU shapes, dissolved from their boroughs (the City is in no BCU).",
        schemas.BcuBoundaries,
    ),
    TableAsset("icb_boundaries", "The 5 ICB shapes, dissolved from their boroughs.", schemas.IcbBoundaries),
]


def boundary_table(shapes, mode: str) -> pd.DataFrame:
    """A GeoDataFrame as a plain table: attributes, mode, area (km2, real files only) and WKB."""
    table = pd.DataFrame(shapes.drop(columns="geometry"))
    table["mode"] = mode
    table["area_km2"] = shapes.geometry.area.to_numpy() / 1e6 if mode == "file" else None
    table["area_km2"] = table["area_km2"].astype("float64")
    table["geometry_wkb"] = shapes.geometry.to_wkb().to_numpy()
    return table


def _source_metadata(result) -> dict:
    if result.mode == "tile_grid":
        return {"mode": "tile_grid", "source": "built-in London tile grid (no boundary file in data/boundaries/)"}
    return {
        "mode": "file",
        "source_file": result.source_file,
        "source_sha256": result.sha256,
        "code_column": result.code_column,
        "layer": result.layer or "",
        "source_crs": result.source_crs or "",
        "notes": MetadataValue.md("\n".join(f"- {n}" for n in result.notes) or "none"),
        "attribution": result.attribution,
    }


@multi_asset(
    name="boundaries",
    specs=asset_specs(BOUNDARY_TABLES, "reference", [RAW_BOUNDARIES, "boroughs", "bcus", "icbs", "tile_grid"]),
    check_specs=check_specs(BOUNDARY_TABLES),
    pool="duckdb_write",
)
def boundaries(context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource):
    """Borough, BCU and ICB shapes; a boundary file that is present but broken fails the run."""
    # geopandas is imported when the asset runs, not when the definitions load.
    from tipipeline.ingest.boundaries import load_boundaries

    with readable_failures():
        result = load_boundaries(paths.settings.boundaries_dir, load_reference())
    frames = {
        "borough_boundaries": boundary_table(result.boroughs, result.mode),
        "bcu_boundaries": boundary_table(result.bcus, result.mode),
        "icb_boundaries": boundary_table(result.icbs, result.mode),
    }
    source = _source_metadata(result)
    yield from write_tables(
        warehouse, BOUNDARY_TABLES, frames, extra_metadata={t.name: source for t in BOUNDARY_TABLES}
    )
    context.log.info(f"boundaries: {source.get('source_file') or source['source']}")


geography_assets = [boundaries]
