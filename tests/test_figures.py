"""Every figure the report shows fits the report: nothing clipped, no text under 9 pt as displayed,
no two texts on top of each other, legends clear of the data, and at most 1050 px wide.

The report's content column is 1050 CSS px and shows images at natural size, so a figure at most
1050 px wide at the dpi it is saved at is shown 1:1 and a matplotlib font size of 9 at 100 dpi
(12.5 px) is 9 pt on screen. Each check is shown to catch a deliberate breach. Every figure's PNG is
written to tests/artefacts/figures/ to be looked at.
"""

from __future__ import annotations

import struct

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import REPO, SHARED
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.path import Path
from matplotlib.text import Text

from tipipeline.framework import load_framework
from tipipeline.framework.catalogue import load_indicator_catalogue, score_indicators
from tipipeline.ingest.boundaries import read_boundary_file, tile_grid_boundaries
from tipipeline.reference import load_reference
from tipipeline.viz.atlas import build_maps
from tipipeline.viz.charts import change_chart, funnel_chart, journey_chart
from tipipeline.viz.maps import Area, Panel, draw_map, shapes_for
from tipipeline.viz.style import figure, png_bytes, render

ARTEFACTS = REPO / "tests" / "artefacts" / "figures"
LAD = SHARED / "boundaries" / "london-2021-lad22-gen20.shp"
REPORT_PX = 1050  # the report's content column, CSS px
MIN_POINTS = 9
TOLERANCE = 1.0  # px


# --- the checks -------------------------------------------------------------------------------


def drawn_texts(fig) -> list[Text]:
    """The Text artists a draw of `fig` actually draws (visible, non-empty, ticks in view), in
    `fig.findobj` order. Recorded during a draw: a tick label outside the view, or on an axes
    whose axis is off, is a Text that findobj walks but nothing draws."""
    drawn: set[int] = set()
    original = Text.draw

    def recording(self, renderer):
        drawn.add(id(self))
        return original(self, renderer)

    Text.draw = recording
    try:
        fig.canvas.draw()
    finally:
        Text.draw = original
    return [
        t for t in fig.findobj(Text) if id(t) in drawn and t.get_visible() and t.get_text().strip() and t.figure is fig
    ]


def _inside(inner, outer, tolerance: float = TOLERANCE) -> bool:
    return (
        inner.x0 >= outer.x0 - tolerance
        and inner.y0 >= outer.y0 - tolerance
        and inner.x1 <= outer.x1 + tolerance
        and inner.y1 <= outer.y1 + tolerance
    )


def _overlap(a, b, tolerance: float = TOLERANCE) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > tolerance and min(a.y1, b.y1) - max(a.y0, b.y0) > tolerance


def _data_paths(ax) -> list[tuple[str, Path, bool]]:
    """The axes' data artists as display-space paths: (what, path, filled)."""
    paths = []
    for line in ax.lines:
        xy = np.asarray(line.get_xydata(), dtype=float)
        xy = line.get_transform().transform(xy[np.isfinite(xy).all(axis=1)])
        if not len(xy):
            continue
        if line.get_marker() not in (None, "None", "", " ") and line.get_markersize() > 0:
            r = line.get_markersize() * ax.figure.dpi / 72 / 2
            for x, y in xy:  # each marker as its square
                paths.append((f"marker of {line.get_label()}", Path.unit_rectangle().transformed(_box(x, y, r)), True))
        if line.get_linestyle() not in ("None", "", " ") and len(xy) > 1:
            paths.append((f"line {line.get_label()}", Path(xy), False))
    for collection in ax.collections:
        transform = collection.get_transform()
        if isinstance(collection, LineCollection):
            for segment in collection.get_segments():
                paths.append(("error bar", Path(transform.transform(segment)), False))
        elif isinstance(collection, PatchCollection):
            for path in collection.get_paths():
                paths.append(("area", path.transformed(transform), True))
    for patch in ax.patches:
        paths.append(("bar", patch.get_path().transformed(patch.get_transform()), True))
    return paths


def _box(x: float, y: float, r: float):
    from matplotlib.transforms import Affine2D

    return Affine2D().scale(2 * r).translate(x - r, y - r)


def figure_problems(fig, report: bool = True) -> list[str]:
    """What is wrong with `fig` as drawn at its own dpi: (a) its tight bounding box leaves the canvas;
    (b) a drawn text is under 9 pt or leaves the canvas; two drawn texts overlap; (c) a legend covers
    a data marker, error bar, line, bar or map area. `report`: also (d) wider than 1050 px."""
    texts = drawn_texts(fig)  # draws the figure (and runs its layout)
    renderer = fig.canvas.get_renderer()
    canvas = fig.bbox
    problems = []
    tight = fig.get_tightbbox(renderer).transformed(fig.dpi_scale_trans)  # inches to pixels
    if not _inside(tight, canvas):
        problems.append(f"tight bbox {np.round(tight.extents, 1).tolist()} outside canvas {canvas.extents.tolist()}")
    extents = []
    for text in texts:
        label = repr(text.get_text()[:40])
        if text.get_fontsize() < MIN_POINTS:
            problems.append(f"text {label} is {text.get_fontsize():g} pt, under {MIN_POINTS}")
        extent = text.get_window_extent(renderer)
        if not _inside(extent, canvas):
            problems.append(f"text {label} at {np.round(extent.extents, 1).tolist()} is outside the canvas")
        extents.append((label, extent))
    for i, (a, box_a) in enumerate(extents):
        for b, box_b in extents[i + 1 :]:
            if _overlap(box_a, box_b):
                problems.append(f"texts {a} and {b} overlap")
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            for what, path, filled in _data_paths(ax):
                if path.intersects_bbox(box, filled=filled):
                    problems.append(f"legend covers a {what}")
                    break
    if report and canvas.width > REPORT_PX:
        problems.append(f"{canvas.width:g} px wide at {fig.dpi:g} dpi, over {REPORT_PX}")
    return problems


def png_width(data: bytes) -> int:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">I", data[16:20])[0]


def check(fig, name: str, report: bool = True) -> bytes:
    """All the checks, then the figure saved as the report saves it (and as an artefact)."""
    problems = figure_problems(fig, report=report)
    assert not problems, f"{name}: {problems}"
    assert fig.dpi == 100  # the size checked is the size saved
    png = render(fig)
    if report:
        assert png_width(png) <= REPORT_PX, name
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / f"{name}.png").write_bytes(png)
    return png


# --- each check catches a breach -----------------------------------------------------------------


def _plain():
    fig = figure(8, 4, layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 1, 2], [0, 1, 0], "o-", label="series")
    ax.set_title("A chart that fits", fontsize=10)
    return fig, ax


def test_a_figure_that_fits_passes():
    fig, _ = _plain()
    assert figure_problems(fig) == []


def test_the_checks_catch_a_label_off_the_canvas():
    fig, _ = _plain()
    fig.text(0.97, 0.5, "a label that runs off the right edge", fontsize=10)
    problems = figure_problems(fig)
    assert any(p.startswith("tight bbox") for p in problems), problems
    assert any("is outside the canvas" in p for p in problems), problems


def test_the_checks_catch_a_clipped_tick_label():
    fig = figure(6, 3)
    ax = fig.subplots()
    ax.barh([0, 1], [1, 2])
    ax.set_yticks([0, 1], ["Physical and emotional environment", "Policy"])  # no room on the left
    problems = figure_problems(fig)
    assert any("'Physical and emotional" in p and "outside the canvas" in p for p in problems), problems


def test_the_checks_catch_small_text():
    fig, ax = _plain()
    ax.set_xlabel("a 6 pt label", fontsize=6)
    assert figure_problems(fig) == ["text 'a 6 pt label' is 6 pt, under 9"]
    fig, _ = _plain()
    fig.legend(loc="outside lower center", fontsize=8)
    assert figure_problems(fig) == ["text 'series' is 8 pt, under 9"]


def test_the_checks_catch_overlapping_text():
    fig, _ = _plain()
    fig.suptitle("A figure title", x=0.01, ha="left", fontsize=12)
    fig.text(0.02, 0.985, "something over the title", va="top", fontsize=10)
    problems = figure_problems(fig)
    assert any("overlap" in p for p in problems), problems


def test_the_checks_catch_a_legend_over_the_data():
    fig = figure(8, 4, layout="constrained")
    ax = fig.subplots()
    ax.errorbar([1, 2, 3], [1, 2, 3], xerr=0.2, fmt="o", label="Wave 1")
    ax.legend(loc="center")  # over the middle point
    assert any(p.startswith("legend covers") for p in figure_problems(fig))
    fig = figure(8, 4, layout="constrained")
    ax = fig.subplots()
    ax.errorbar([1, 2, 3], [1, 2, 3], xerr=0.2, fmt="o", label="Wave 1")
    ax.legend(loc="upper left")  # clear of the points
    assert figure_problems(fig) == []


def test_the_checks_catch_a_figure_wider_than_the_report():
    fig, _ = _plain()
    fig.set_size_inches(12, 4)
    assert figure_problems(fig) == ["1200 px wide at 100 dpi, over 1050"]
    fig.set_size_inches(12, 4)
    assert figure_problems(fig, report=False) == []
    assert png_width(png_bytes(fig)) == 1200


# --- the report's figures, from the built sample ----------------------------------------------


@pytest.fixture(scope="module")
def baseline(built_sample):
    with duckdb.connect(str(built_sample.baseline_path), read_only=True) as conn:
        return {
            name: conn.execute(f"SELECT * FROM {name}").df()
            for name in ("indicators", "indicator_changes", "journey_summary", "data_quality")
        }


@pytest.fixture(scope="module")
def framework():
    return load_framework()


def _stages(framework) -> pd.DataFrame:
    return pd.DataFrame([{"level": s.level, "name": s.name} for s in framework.stages])


def _latest(indicators) -> str:
    return max(indicators.loc[indicators["source"] == "survey", "wave"])


def test_journey_chart_fits_and_its_stages_are_in_journey_order(baseline, framework):
    domain_names = {d.id: d.name for d in framework.domains}
    stages = _stages(framework)
    shuffled = stages.sample(frac=1, random_state=3)  # the order given must not matter
    fig, alt, table = journey_chart(
        baseline["journey_summary"], _latest(baseline["indicators"]), shuffled, domain_names
    )
    in_order = stages.sort_values("level")["name"].tolist()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [*in_order, "Insufficient evidence"]
    assert table.columns.tolist() == ["sector", "domain", *in_order, "Insufficient evidence"]
    assert all(pd.api.types.is_integer_dtype(table[c]) for c in [*in_order, "Insufficient evidence"])
    assert table["sector"].drop_duplicates().tolist() == ["council", "police", "health"]  # the panels' order
    assert "Trauma" in alt
    check(fig, "journey")


def test_change_chart_fits_with_its_legend_clear_of_the_data(baseline, framework):
    domain_names = {d.id: d.name for d in framework.domains}
    fig, alt, table = change_chart(baseline["indicator_changes"], baseline["indicators"], domain_names)
    assert fig.legends and not any(ax.get_legend() for ax in fig.axes)  # outside the axes
    assert {"change", "lower_ci", "upper_ci", "significance"} <= set(table.columns)
    check(fig, "change")


def test_funnel_chart_fits_and_counts_are_integers(baseline):
    fig, alt, table = funnel_chart(baseline["data_quality"])
    assert all(pd.api.types.is_integer_dtype(table[c]) for c in ("Read", "Excluded", "Quarantined", "Accepted"))
    assert "3,005 accepted" in alt
    check(fig, "funnel")


def test_charts_are_byte_identical_when_drawn_twice(baseline, framework):
    domain_names = {d.id: d.name for d in framework.domains}
    draws = [
        lambda: change_chart(baseline["indicator_changes"], baseline["indicators"], domain_names)[0],
        lambda: journey_chart(
            baseline["journey_summary"], _latest(baseline["indicators"]), _stages(framework), domain_names
        )[0],
        lambda: funnel_chart(baseline["data_quality"])[0],
    ]
    for draw in draws:
        assert render(draw()) == render(draw())


def drawn_figures(monkeypatch) -> list:
    """Every map figure drawn from now on, in order, kept (not saved) so that tests can measure it."""
    from tipipeline.viz.plates import Plate

    figures = []
    monkeypatch.setenv("TIPIPELINE_DRAW_WORKERS", "1")  # drawn in this process, where the patch holds
    monkeypatch.setattr(Plate, "draw", lambda plate: figures.append(plate.figure()) or b"")
    return figures


def _maps(baseline, boundaries, layers, indicator_ids=("ti_index_mean", "domain_mean_staff_wellbeing")):
    indicators = baseline["indicators"]
    return build_maps(
        indicators[(indicators["source"] == "survey") & (indicators["wave"] == _latest(indicators))],
        load_indicator_catalogue(load_framework()),
        boundaries,
        load_reference(),
        None,
        list(indicator_ids),
        layers=layers,
    )


def _boundaries(mode: str):
    reference = load_reference()
    if mode == "tile_grid":
        return tile_grid_boundaries(reference)
    if not LAD.exists():
        pytest.skip("shared boundary file is not present")
    return read_boundary_file(LAD, reference)


@pytest.mark.parametrize("mode", ["tile_grid", "file"])
def test_partnership_maps_fit_the_report(baseline, mode, monkeypatch):
    boundaries = _boundaries(mode)
    figures = drawn_figures(monkeypatch)  # keep the figures to check them
    # Every map the report shows (titles differ in length by indicator); geographic mode: two of them.
    shown = score_indicators(load_framework()) if mode == "tile_grid" else ["ti_index_mean", "domain_mean_policy"]
    records = _maps(baseline, boundaries, ("partnership",), shown)
    assert len(records) == len(figures) == len(shown)
    for record, fig in zip(records, figures):
        labels = [t for t in drawn_texts(fig) if t.axes is not None]
        if mode == "tile_grid":
            assert len(labels) == 33 + 12 + 5  # a label on every borough, BCU and ICB
            councils = fig.axes[0]
            tile = councils.transData.transform((1, 0))[0] - councils.transData.transform((0, 0))[0]
            renderer = fig.canvas.get_renderer()
            widest = max(t.get_window_extent(renderer).width for t in labels if t.axes is councils)
            assert widest <= tile - 4, (widest, tile)  # each borough's code fits inside its square
        else:
            assert not labels
        fig_height = fig.get_figheight() * fig.dpi
        maps_height = sum(ax.bbox.height for ax in fig.axes[:1])
        assert maps_height / fig_height > 0.55  # the maps fill the figure: no blank band
        check(fig, f"partnership_{mode}_{record.indicator_id}")


@pytest.mark.parametrize("mode", ["tile_grid", "file"])
def test_single_layer_maps_fit_at_their_own_size(baseline, mode, monkeypatch):
    boundaries = _boundaries(mode)
    figures = drawn_figures(monkeypatch)
    records = _maps(baseline, boundaries, ("councils", "police", "health"))
    assert len(records) == len(figures) == 6
    for record, fig in zip(records, figures):
        check(fig, f"{record.layer}_{mode}_{record.indicator_id}", report=False)


# --- constructed inputs ------------------------------------------------------------------------


def test_change_chart_marks_the_last_wave_and_tables_the_baseline():
    """Changes hold (first, w) for every later wave as well as consecutive pairs: the mark is the
    change since the previous wave, the table has it and the change since the baseline."""
    waves = ["2024-w1", "2025-w2", "2026-w3"]
    indicators = pd.DataFrame(
        [
            {
                "indicator_id": f"domain_mean_{d}",
                "source": "survey",
                "wave": w,
                "geography_level": "london",
                "value": 3.0 + 0.1 * i,
                "lower_ci": 2.9 + 0.1 * i,
                "upper_ci": 3.1 + 0.1 * i,
                "suppressed": False,
            }
            for d in ("policy", "evaluation")
            for i, w in enumerate(waves)
        ]
    )
    pairs = [
        ("2024-w1", "2026-w3", "significant increase"),  # vs the baseline
        ("2025-w2", "2026-w3", "significant decrease"),  # since the last wave
        ("2024-w1", "2025-w2", "no significant change"),
    ]
    changes = pd.DataFrame(
        [
            {
                "indicator_id": f"domain_mean_{d}",
                "geography_level": "london",
                "from_wave": a,
                "to_wave": b,
                "change": 0.1,
                "lower_ci": 0.05,
                "upper_ci": 0.15,
                "significance": s,
                "suppressed": False,
            }
            for d in ("policy", "evaluation")
            for a, b, s in pairs
        ]
    )
    names = {"policy": "Policy", "evaluation": "Evaluation"}
    fig, alt, table = change_chart(changes, indicators, names)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["Policy (down*)", "Evaluation (down*)"]  # the framework's order (names' order)
    assert not table["withheld"].any()
    assert table["significance"].tolist() == ["significant decrease"] * 2
    assert table["significance_since_baseline"].tolist() == ["significant increase"] * 2
    assert "2 decreased" in alt
    check(fig, "change_three_waves")


def test_funnel_chart_shows_withheld_counts_as_withheld():
    quality = pd.DataFrame(
        [
            {"source": "survey", "wave": "2024-w1", "rows_read": 100, "rows_excluded": 2, "rows_quarantined": 1}
            | {"rows_accepted": 97},
            {"source": "survey", "wave": "2025-w2", "rows_read": 50, "rows_excluded": 0, "rows_quarantined": 0}
            | {"rows_accepted": 50},
            {"source": "survey", "wave": "2025-w2", "rows_read": None, "rows_excluded": None}
            | {"rows_quarantined": None, "rows_accepted": None},
        ]
    )
    fig, alt, table = funnel_chart(quality)
    assert table["Read"].tolist()[0] == 100 and pd.isna(table["Read"].tolist()[1])  # never 50, never 0
    assert "wave 2025-w2: counts withheld" in alt
    check(fig, "funnel_withheld")


def test_long_names_wrap_instead_of_clipping():
    """A map with a long title, subtitle and attribution, and a journey with long domain names."""
    reference = load_reference()
    boundaries = tile_grid_boundaries(reference)
    shapes = {level: shapes_for(boundaries, level) for level in ("borough", "bcu", "icb")}
    panels = [
        Panel(f"A deliberately long panel title for {level} that cannot fit one line", s, {"x": Area(3.2)})
        for level, s in shapes.items()
    ]
    fig = draw_map("A title " * 12, "A subtitle that goes on " * 10, panels, "Attribution text, " * 12)
    check(fig, "map_long_text")
    summary = pd.DataFrame(
        [
            {"wave": "w", "sector": "council", "domain": d, "stage_level": level, "stage": n, "organisations": 3}
            for d in ("a", "b")
            for level, n in [(0, "Not yet started"), (1, "Trauma-aware"), (pd.NA, "Insufficient evidence")]
        ]
    )
    stages = pd.DataFrame({"level": [0, 1], "name": ["Not yet started", "Trauma-aware"]})
    names = {"a": "An implementation domain with a very long name indeed", "b": "Policy"}
    fig, _, table = journey_chart(summary, "w", stages, names)
    assert table.columns.tolist()[2:] == ["Not yet started", "Trauma-aware", "Insufficient evidence"]
    check(fig, "journey_long_names")
