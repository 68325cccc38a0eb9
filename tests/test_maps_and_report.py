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
        return conn.execute("SELECT * FROM indicators").df()


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
