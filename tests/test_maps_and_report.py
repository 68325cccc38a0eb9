"""Maps in both modes with reproducible bytes (the report in Chromium: tests/test_report.py)."""

import duckdb
import pytest
from conftest import REPO, SHARED

from tipipeline.framework import load_framework
from tipipeline.framework.catalogue import load_indicator_catalogue
from tipipeline.ingest.boundaries import read_boundary_file, tile_grid_boundaries
from tipipeline.reference import load_reference
from tipipeline.viz.atlas import build_maps

LAD = SHARED / "boundaries" / "london-2021-lad22-gen20.shp"
ARTEFACTS = REPO / "tests" / "artefacts"


@pytest.fixture(scope="module")
def cells(built_sample):
    with duckdb.connect(str(built_sample.baseline_path), read_only=True) as conn:
        return conn.execute("SELECT * FROM indicators WHERE source = 'survey'").df()


def _draw(cells, boundaries, out):
    reference = load_reference()
    return build_maps(
        cells,
        load_indicator_catalogue(load_framework()),
        boundaries,
        reference,
        out,
        ["ti_index_mean", "domain_mean_staff_wellbeing"],
    )


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.png"))}


@pytest.mark.parametrize("mode", ["tile_grid", "file"])
def test_maps_are_drawn_and_byte_identical_across_builds(cells, tmp_path, mode):
    reference = load_reference()
    if mode == "file":
        if not LAD.exists():
            pytest.skip("shared boundary file is not present")
        boundaries = read_boundary_file(LAD, reference)
    else:
        boundaries = tile_grid_boundaries(reference)
    first = _draw(cells, boundaries, tmp_path / "a")
    _draw(cells, boundaries, tmp_path / "b")
    assert len(first) == 2 * 2 * 4  # 2 waves x 2 indicators x (councils, police, health, partnership)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys() and all(a[k] == b[k] for k in a)
    assert all(data[:8] == b"\x89PNG\r\n\x1a\n" for data in a.values())
    record = next(r for r in first if r.layer == "partnership")
    assert "suppressed" in record.alt_text or "Highest" in record.alt_text
    assert len(record.thumbnail) < min(len(record.png) / 2, 64_000)  # small enough for the event log
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / f"map_{mode}.png").write_bytes(record.png)
    if mode == "file":
        assert "Crown copyright" in boundaries.attribution and "2022" in boundaries.attribution


# --- maps drawn from the warehouse's boundary tables ----------------------------------------------


@pytest.fixture(scope="module")
def evidence(built_sample):
    from tipipeline.report.data import load_evidence_data

    with duckdb.connect(str(built_sample.baseline_path), read_only=True) as conn:
        return load_evidence_data(conn)


def _all_drawn(cells, evidence, boundaries):
    """The partnership maps of the latest wave and the outcome maps, as the report draws them."""
    from tipipeline.viz.outcome_maps import build_outcome_maps, measure_order

    latest = max(cells["wave"])
    records = build_maps(
        cells[cells["wave"] == latest],
        load_indicator_catalogue(load_framework()),
        boundaries,
        load_reference(),
        None,
        ["ti_index_mean", "domain_mean_policy"],
        layers=("partnership",),
    )
    outcome = evidence.cells[evidence.cells["indicator_id"] == "outcome_rate_robbery"]
    records += build_outcome_maps(
        evidence.cells, evidence.catalogue, boundaries, load_reference(), None, measure_order(), each=False
    )
    records += build_outcome_maps(outcome, evidence.catalogue, boundaries, load_reference(), None)
    return records


def _assert_same_maps(a, b):
    # 2 partnership maps; the all-ages outcomes side by side; robbery's map alone and "side by side" alone.
    assert len(a) == len(b) == 5
    for x, y in zip(a, b):
        assert (x.indicator_id, x.layer, x.title, x.alt_text, x.attribution) == (
            y.indicator_id, y.layer, y.title, y.alt_text, y.attribution,
        )  # fmt: skip
        assert x.png == y.png, (x.indicator_id, x.layer)
        assert x.data.equals(y.data)


def test_maps_from_the_sample_warehouse_are_the_tile_grid_maps_byte_for_byte(built_sample, cells, evidence):
    """The sample has no boundary file: the pipeline's boundary tables hold the tile grid, and the
    maps drawn from them are the ones drawn from the tile grid itself."""
    from tipipeline.ingest.boundaries import read_warehouse_boundaries

    with duckdb.connect(str(built_sample.warehouse_path), read_only=True) as conn:
        stored = read_warehouse_boundaries(conn)
    assert stored.mode == "tile_grid" and stored.attribution is None
    _assert_same_maps(
        _all_drawn(cells, evidence, stored), _all_drawn(cells, evidence, tile_grid_boundaries(load_reference()))
    )


def test_maps_from_stored_real_boundaries_are_the_file_maps_byte_for_byte(cells, evidence):
    """A real boundary file through the boundary tables (written and read as the assets do) draws
    the same maps as the file read directly, with its Crown copyright attribution."""
    from tipipeline.ingest.boundaries import boundary_tables, read_warehouse_boundaries
    from tipipeline.warehouse import replace_tables

    if not LAD.exists():
        pytest.skip("shared boundary file is not present")
    from_file = read_boundary_file(LAD, load_reference())
    with duckdb.connect() as conn:
        replace_tables(conn, boundary_tables(from_file))
        stored = read_warehouse_boundaries(conn)
    drawn = _all_drawn(cells, evidence, stored)
    _assert_same_maps(drawn, _all_drawn(cells, evidence, from_file))
    assert all("Crown copyright and database right 2022" in r.attribution for r in drawn)


# --- each picture drawn once: reused while its content is unchanged, on every core ---------------


def test_maps_are_drawn_again_only_where_their_content_changed(cells, tmp_path, monkeypatch):
    from tipipeline.viz.atlas import plan_maps
    from tipipeline.viz.plates import DRAWN_RECORD, draw_planned

    reference = load_reference()
    boundaries = tile_grid_boundaries(reference)
    catalogue = load_indicator_catalogue(load_framework())
    indicators = ["ti_index_mean", "domain_mean_staff_wellbeing", "domain_mean_policy"]
    planned = plan_maps(cells, catalogue, boundaries, reference, indicators)
    assert len(planned) == 2 * 3 * 4 >= 8  # enough to be drawn by worker processes
    folder = tmp_path / "maps"
    first, drawn = draw_planned(planned, folder)
    assert drawn == len(planned) and (folder / DRAWN_RECORD).is_file()
    # Drawn in worker processes or here, the bytes are the same.
    monkeypatch.setenv("TIPIPELINE_DRAW_WORKERS", "1")
    serial, _ = draw_planned(planned, None)
    assert [r.png for r in serial] == [r.png for r in first]
    # Nothing changed: nothing is drawn, and every picture is the file's bytes.
    again, drawn = draw_planned(planned, folder)
    assert drawn == 0 and [r.png for r in again] == [r.png for r in first]
    # One cell's value changes: that wave's maps of that indicator which show it are drawn again.
    changed = cells.copy()
    row = changed.index[
        (changed["indicator_id"] == "domain_mean_policy")
        & (changed["wave"] == changed["wave"].max())
        & (changed["geography_level"] == "borough")
        & ~changed["suppressed"].astype(bool)
    ][0]
    changed.loc[row, "value"] = 1.0 if changed.loc[row, "value"] >= 2.5 else 4.5  # another colour band
    replanned = plan_maps(changed, catalogue, boundaries, reference, indicators)
    redrawn = {p.plate.name for p in replanned} - {
        p.plate.name for p, q in zip(planned, replanned) if p.plate.key == q.plate.key
    }
    wave = changed.loc[row, "wave"]
    assert redrawn == {f"{wave}/domain_mean_policy_councils.png", f"{wave}/domain_mean_policy_partnership.png"}
    _, drawn = draw_planned(replanned, folder)
    assert drawn == 2
    # A picture edited or removed by hand is drawn again, never taken on trust.
    (folder / planned[0].plate.name).write_bytes(b"not a map")
    (folder / planned[1].plate.name).unlink()
    restored, drawn = draw_planned(planned, folder)
    assert drawn == 2 + 2  # the two above, and the two that changed back
    assert [r.png for r in restored] == [r.png for r in first]


def test_a_bad_number_of_drawing_workers_is_named(monkeypatch):
    from tipipeline.errors import TipipelineError
    from tipipeline.viz.plates import workers

    for value in ("two", "0", "-1", "1.5"):
        monkeypatch.setenv("TIPIPELINE_DRAW_WORKERS", value)
        with pytest.raises(TipipelineError, match=f"TIPIPELINE_DRAW_WORKERS='{value}'"):
            workers()
    monkeypatch.setenv("TIPIPELINE_DRAW_WORKERS", "1")
    assert workers() == 1
    monkeypatch.setenv("TIPIPELINE_DRAW_WORKERS", "64")
    assert 1 <= workers() <= 64  # never more than the cores this process may use
