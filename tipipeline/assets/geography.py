"""Boundary assets: borough shapes from a real boundary file, or the tile grid; BCUs and ICBs
dissolved from them. Geometry is stored as WKB (the DuckDB spatial extension is not needed: it is
downloaded at run time, which cannot be relied on), with the source file and its Crown copyright
attribution on every row. The maps read these tables (tipipeline.ingest.boundaries:
read_warehouse_boundaries), never the file again."""

from dagster import AssetExecutionContext, MetadataValue, multi_asset

from tipipeline.assets.failures import readable_failures
from tipipeline.assets.tables import TableAsset, asset_specs, check_specs, write_tables
from tipipeline.inputs import RAW_BOUNDARIES
from tipipeline.reference import load_reference
from tipipeline.resources import PathsResource, WarehouseResource

BOUNDARY_TABLES = [
    TableAsset("borough_boundaries"),
    TableAsset("bcu_boundaries"),
    TableAsset("icb_boundaries"),
]


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
    # Code version 2: the tables carry the source file and its attribution, which the maps read.
    specs=asset_specs(
        BOUNDARY_TABLES, "reference", [RAW_BOUNDARIES, "boroughs", "bcus", "icbs", "tile_grid"], code_version="2"
    ),
    check_specs=check_specs(BOUNDARY_TABLES),
    pool="duckdb_write",
)
def boundaries(context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource):
    """Borough, BCU and ICB shapes; a boundary file that is present but broken fails the run."""
    # geopandas is imported when the asset runs, not when the definitions load.
    from tipipeline.ingest.boundaries import boundary_tables, load_boundaries

    with readable_failures():
        result = load_boundaries(paths.settings.boundaries_dir, load_reference())
    frames = boundary_tables(result)
    source = _source_metadata(result)
    yield from write_tables(
        warehouse, BOUNDARY_TABLES, frames, extra_metadata={t.name: source for t in BOUNDARY_TABLES}
    )
    context.log.info(f"boundaries: {source.get('source_file') or source['source']}")


geography_assets = [boundaries]
