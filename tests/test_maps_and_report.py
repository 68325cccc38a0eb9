"""Maps in both modes with reproducible bytes, and the report as a person sees it in Chromium."""

import duckdb
import pytest
from browser import browser_page, chromium_path
from conftest import REPO, SHARED
from dagster import DagsterInstance

from tipipeline.framework import load_framework
from tipipeline.framework.catalogue import load_indicator_catalogue
from tipipeline.ingest.boundaries import read_boundary_file, tile_grid_boundaries
from tipipeline.pipeline import run_pipeline
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


def test_report_in_headless_chromium(built_sample):
    chromium_path()
    with DagsterInstance.ephemeral() as instance:
        run_pipeline(built_sample, selection="key:maps or key:baseline_report", instance=instance)
    maps = sorted((built_sample.output_dir / "maps").rglob("*.png"))
    assert len(maps) == 2 * 12 * 4  # 2 waves x (index + 11 domains) x 4 layers
    report = built_sample.output_dir / "report" / "baseline.html"
    html = report.read_text(encoding="utf-8")
    assert "http://" not in html.replace("http://www.w3.org", "") and "<script" not in html  # self-contained
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    failed_requests = []
    with browser_page(width=1280, height=900) as page:
        page.on("requestfailed", lambda request: failed_requests.append(request.url[:80]))
        page.goto(report.as_uri(), wait_until="load")
        images = page.evaluate(
            """() => [...document.images].map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0}))"""
        )
        headings = page.evaluate(
            """() => [...document.querySelectorAll('h1,h2,h3,h4')].map(h => Number(h.tagName[1]))"""
        )
        sections = page.evaluate("""() => [...document.querySelectorAll('h2')].map(h => h.textContent)""")
        page.screenshot(path=str(ARTEFACTS / "report.png"), full_page=True)
        errors = list(page.console_errors)
    assert not errors, errors
    assert not failed_requests, failed_requests
    assert len(images) >= 15 and all(i["ok"] for i in images), [i for i in images if not i["ok"]][:3]
    assert all(len(i["alt"]) > 30 for i in images)
    assert headings[0] == 1 and headings.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(headings, headings[1:])), headings  # no skipped levels
    for title in [
        "Summary",
        "Definition and framework",
        "Data and methods",
        "Indicators by domain",
        "Journey and roadmap",
        "Borough partnership profiles",
        "Promising practice",
        "Caveats",
    ]:
        assert title in sections
    assert html.count("<details>") == len(images)  # a data table beside every image
