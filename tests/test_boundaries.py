"""Borough boundaries from real files (and broken ones), and the tile-grid fallback."""

import shutil

import geopandas as gpd
import pytest
from conftest import SHARED
from shapely.geometry import Polygon

from tipipeline.check import check_files
from tipipeline.errors import InputError
from tipipeline.ingest.boundaries import find_boundary_file, load_boundaries, read_boundary_file, tile_grid_boundaries
from tipipeline.reference import load_reference

LAD = SHARED / "boundaries" / "london-2021-lad22-gen20.shp"
needs_lad = pytest.mark.skipif(not LAD.exists(), reason="shared boundary file is not present")


@pytest.fixture(scope="module")
def reference():
    return load_reference()


@pytest.fixture(scope="module")
def lad(reference):
    return gpd.read_file(LAD) if LAD.exists() else None


def _areas_add_up(result):
    boroughs = result.boroughs.set_index("gss_code")
    for row in result.bcus.itertuples():
        members = boroughs[boroughs["bcu_code"] == row.bcu_code]
        assert row.geometry.area == pytest.approx(members.geometry.area.sum(), rel=1e-6)
    for row in result.icbs.itertuples():
        members = boroughs[boroughs["icb_code"] == row.icb_code]
        assert row.geometry.area == pytest.approx(members.geometry.area.sum(), rel=1e-6)


@needs_lad
def test_shared_lad_file_loads(reference):
    result = read_boundary_file(LAD, reference)
    assert result.mode == "file" and result.code_column == "LAD22CD"
    assert sorted(result.boroughs["gss_code"]) == sorted(reference.boroughs["gss_code"])
    assert len(result.bcus) == 12 and len(result.icbs) == 5
    assert result.boroughs.crs.to_epsg() == 27700
    _areas_add_up(result)
    total = result.boroughs.geometry.area.sum() / 1e6
    assert 1500 < total < 1620  # Greater London is about 1,572 km2
    assert "Crown copyright" in result.attribution


@needs_lad
@pytest.mark.parametrize(
    ("suffix", "driver", "crs", "column"),
    [(".geojson", "GeoJSON", 4326, "code"), (".gpkg", "GPKG", 3857, "AREA_ID"), (".shp", None, 27700, "gsscode")],
)
def test_other_formats_columns_and_crs(tmp_path, reference, lad, suffix, driver, crs, column):
    frame = lad.rename(columns={"LAD22CD": column}).drop(columns="LAD22NM").to_crs(crs)
    path = tmp_path / f"london{suffix}"
    frame.to_file(path, driver=driver) if driver else frame.to_file(path)
    result = read_boundary_file(path, reference)
    assert result.code_column == column and len(result.boroughs) == 33
    assert result.boroughs.crs.to_epsg() == 27700
    assert result.boroughs.geometry.area.sum() / 1e6 == pytest.approx(1573.3, rel=0.01)
    if crs != 27700:
        assert any("reprojected" in note for note in result.notes)


@needs_lad
def test_esri_wkt_without_epsg_is_recognised_as_bng(tmp_path, reference):
    for part in LAD.parent.glob(LAD.stem + ".*"):
        shutil.copy(part, tmp_path / ("x" + part.suffix))
    prj = (tmp_path / "x.prj").read_text()
    (tmp_path / "x.prj").write_text(prj.replace("British_National_Grid", "My_Grid").replace("D_OSGB_1936", "D_Custom"))
    frame = gpd.read_file(tmp_path / "x.shp")
    assert frame.crs.to_epsg() is None  # the case to handle: no EPSG code
    result = read_boundary_file(tmp_path / "x.shp", reference)
    assert not any("reprojected" in n for n in result.notes)
    assert result.boroughs.geometry.area.sum() / 1e6 == pytest.approx(1573.3, rel=1e-3)


@needs_lad
def test_invalid_geometry_is_repaired(tmp_path, reference, lad):
    frame = lad.copy()
    minx, miny, maxx, maxy = frame.geometry.iloc[0].bounds
    frame.loc[0, "geometry"] = Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])  # a bow tie
    frame.to_file(tmp_path / "x.gpkg")
    result = read_boundary_file(tmp_path / "x.gpkg", reference)
    assert result.boroughs.geometry.is_valid.all()
    assert any("repaired" in n for n in result.notes)


@needs_lad
@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.iloc[:32], "32 of the 33 London local authorities; missing: E09000033"),
        (lambda f: f.drop(columns=["LAD22CD"]), "no column holds London GSS codes"),
        (lambda f: f.assign(LAD22CD=f["LAD22CD"].str.replace("E09", "E06")), "no column holds London GSS codes"),
        (
            lambda f: f.assign(LAD22CD=f["LAD22CD"].where(f.index != 5, "E09000099")),
            "codes that are not London local authorities: E09000099",
        ),
        (lambda f: f.set_crs(4326, allow_override=True), "not where London is"),
    ],
    ids=["32-features", "no-code-column", "non-london-layer", "extra-code", "wrong-crs"],
)
def test_broken_files_are_clear_errors(tmp_path, reference, lad, mutate, message):
    path = tmp_path / "broken.gpkg"
    mutate(lad).to_file(path)
    with pytest.raises(InputError, match=message):
        read_boundary_file(path, reference)
    # ...and the tile grid is never used in its place.
    boundaries_dir = tmp_path / "boundaries"
    boundaries_dir.mkdir()
    shutil.move(path, boundaries_dir / "broken.gpkg")
    with pytest.raises(InputError):
        load_boundaries(boundaries_dir, reference)


def test_unreadable_file_is_a_clear_error(tmp_path, reference):
    path = tmp_path / "london.shp"
    path.write_bytes(b"not a shapefile at all")
    with pytest.raises(InputError, match="unreadable boundary file"):
        read_boundary_file(path, reference)


def test_two_boundary_files_is_an_error(tmp_path):
    (tmp_path / "a.geojson").write_text("{}")
    (tmp_path / "b.gpkg").write_text("")
    with pytest.raises(InputError, match="more than one boundary file"):
        find_boundary_file(tmp_path)


def test_tile_grid_when_there_is_no_file(tmp_path, reference):
    result = load_boundaries(tmp_path, reference)
    assert result.mode == "tile_grid" and result.attribution is None
    assert len(result.boroughs) == 33 and len(result.bcus) == 12 and len(result.icbs) == 5
    assert result.boroughs.geometry.area.sum() == pytest.approx(33)
    _areas_add_up(result)
    assert tile_grid_boundaries(reference).boroughs.geometry.equals(result.boroughs.geometry)


@needs_lad
def test_check_reports_boundary_files(tmp_path, lad):
    [good] = check_files([LAD])
    assert good["kind"] == "boundary" and good["usable"] and good["code_column"] == "LAD22CD" and good["features"] == 33
    lad.iloc[:31].to_file(tmp_path / "short.gpkg")
    [short] = check_files([tmp_path / "short.gpkg"])
    assert not short["usable"] and short["codes_missing"] == ["E09000032", "E09000033"]


# --- the boundary tables of the working warehouse ------------------------------------------------


def _through_warehouse(boundaries):
    """The boundaries written as the `boundaries` assets write them (validated), read back."""
    import duckdb

    from tipipeline.ingest.boundaries import boundary_tables, read_warehouse_boundaries
    from tipipeline.schemas import boundaries as schemas
    from tipipeline.schemas.validation import validate
    from tipipeline.warehouse import replace_tables

    tables = boundary_tables(boundaries)
    models = {
        "borough_boundaries": schemas.BoroughBoundaries,
        "bcu_boundaries": schemas.BcuBoundaries,
        "icb_boundaries": schemas.IcbBoundaries,
    }
    for name, model in models.items():
        assert validate(model, tables[name]).passed, name
    with duckdb.connect() as conn:
        # Rows stored in another order must read back the same.
        replace_tables(conn, {name: table.iloc[::-1] for name, table in tables.items()})
        return tables, read_warehouse_boundaries(conn)


def _same(a, b):
    assert (a.mode, a.attribution, a.source_file) == (b.mode, b.attribution, b.source_file)
    for level in ("boroughs", "bcus", "icbs"):
        x, y = getattr(a, level), getattr(b, level)
        assert list(x.columns) == list(y.columns)
        assert x.drop(columns="geometry").equals(y.drop(columns="geometry")), level
        assert (x.geometry.to_wkb() == y.geometry.to_wkb()).all(), level  # the same coordinates, bit for bit
        assert x.crs == y.crs


def test_tile_grid_round_trips_through_the_warehouse(reference):
    tile = tile_grid_boundaries(reference)
    tables, back = _through_warehouse(tile)
    _same(tile, back)
    assert back.mode == "tile_grid" and back.attribution is None and back.boroughs.crs is None
    assert tables["borough_boundaries"]["attribution"].isna().all()


@needs_lad
def test_a_real_file_round_trips_through_the_warehouse_with_its_attribution(reference):
    from_file = read_boundary_file(LAD, reference)
    tables, back = _through_warehouse(from_file)
    _same(from_file, back)
    assert back.boroughs.crs.to_epsg() == 27700
    for table in tables.values():
        assert set(table["attribution"]) == {from_file.attribution}
        assert set(table["source_file"]) == {LAD.name}
    assert "Contains OS data \u00a9 Crown copyright and database right 2022" in back.attribution


def test_boundary_tables_that_would_lose_the_attribution_fail_their_schema(reference):
    from tipipeline.ingest.boundaries import boundary_tables
    from tipipeline.schemas.boundaries import BoroughBoundaries
    from tipipeline.schemas.validation import validate

    table = boundary_tables(tile_grid_boundaries(reference))["borough_boundaries"]
    file_without_attribution = table.assign(mode="file", source_file="london.gpkg", area_km2=1.0)
    assert not validate(BoroughBoundaries, file_without_attribution).passed
    mixed = table.copy()
    mixed.loc[0, "source_file"] = "another.gpkg"
    assert not validate(BoroughBoundaries, mixed).passed


def test_missing_or_older_boundary_tables_are_a_clear_error(reference):
    import duckdb

    from tipipeline.ingest.boundaries import boundary_tables, read_warehouse_boundaries

    with duckdb.connect() as conn:
        with pytest.raises(RuntimeError, match="no borough_boundaries, bcu_boundaries, icb_boundaries: materialise"):
            read_warehouse_boundaries(conn)
        for name, table in boundary_tables(tile_grid_boundaries(reference)).items():
            older = table.drop(columns=["source_file", "attribution"])  # as tipipeline wrote them before
            conn.register("t", older)
            conn.execute(f"CREATE TABLE {name} AS SELECT * FROM t")
            conn.unregister("t")
        with pytest.raises(RuntimeError, match="older tipipeline .*source_file, attribution.*materialise"):
            read_warehouse_boundaries(conn)
