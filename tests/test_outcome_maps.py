"""Outcome maps: each borough's rate compared with London's, City of London "not covered" (never a
rate of 0), on constructed boroughs and on the built sample; the report's figure checks
(tests/test_figures.py) and reproducible bytes."""

import io

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import SHARED
from PIL import Image
from test_figures import check, drawn_figures, drawn_texts

from tipipeline.ingest.boundaries import read_boundary_file, tile_grid_boundaries
from tipipeline.reference import load_reference
from tipipeline.viz.outcome_maps import (
    COMPARISON_CLASSES,
    NOT_COVERED_LABEL,
    build_outcome_maps,
    measure_order,
    outcome_areas,
    outcome_map_plate,
    small_multiples_plate,
)
from tipipeline.viz.style import png_bytes

LAD = SHARED / "boundaries" / "london-2021-lad22-gen20.shp"
CITY, WESTMINSTER, CAMDEN, HACKNEY = "E09000001", "E09000033", "E09000007", "E09000012"
NAME = "Robbery: rate per 1,000 residents"
SOURCE = "Metropolitan Police Service, Recorded crime (London Datastore); ONS mid-year population estimates"


@pytest.fixture(scope="module")
def reference():
    return load_reference()


def _boundaries(mode: str, reference):
    if mode == "tile_grid":
        return tile_grid_boundaries(reference)
    if not LAD.exists():
        pytest.skip("shared boundary file is not present")
    return read_boundary_file(LAD, reference)


def constructed_cells(reference, indicator_id="outcome_rate_robbery", measure_id="robbery", drop=()) -> pd.DataFrame:
    """Every borough 'similar' to London's 5.0 per 1,000, but Westminster worse, Camden better, and
    the City not covered (no count, no rate), as outcome_indicators publishes it."""
    rows = []
    for row in reference.boroughs.itertuples():
        if row.gss_code in drop:
            continue
        value, comparison, coverage = 5.1, "similar", "covered"
        if row.gss_code == WESTMINSTER:
            value, comparison = 9.0, "worse"
        elif row.gss_code == CAMDEN:
            value, comparison = 2.0, "better"
        elif row.gss_code == CITY:
            value, comparison, coverage = np.nan, "not compared", "not covered"
        rows.append(("borough", row.gss_code, row.name, value, comparison, coverage))
    rows.append(("london", "E12000007", "London", 5.0, "London", "covered"))
    frame = pd.DataFrame(
        rows, columns=["geography_level", "geography_code", "geography_name", "value", "comparison", "coverage"]
    )
    covered = frame["coverage"] == "covered"
    return frame.assign(
        indicator_id=indicator_id,
        measure_id=measure_id,
        population_group="all_ages",
        wave="2025-w2",
        period="before",
        period_start=pd.Timestamp("2024-03-01"),
        period_end=pd.Timestamp("2025-02-28"),
        lower_ci=frame["value"] - 0.3,
        upper_ci=frame["value"] + 0.3,
        count=pd.array([500 if c else None for c in covered], dtype="Int64"),
        population=pd.array([100_000 if c else None for c in covered], dtype="Int64"),
    )


def _hex(rgb) -> str:
    return "#{:02X}{:02X}{:02X}".format(*rgb[:3])


def _pixels(fig, box_in_data, pad_px: int = 0):
    """The PNG's pixels inside a data-space box (x0, y0, x1, y1) of the map's axes, widened by
    `pad_px` pixels each side, as drawn at 100 dpi."""
    fig.canvas.draw()
    ax = fig.axes[0]
    (x0, y0), (x1, y1) = ax.transData.transform([box_in_data[:2], box_in_data[2:]])
    height = fig.bbox.height
    image = np.asarray(Image.open(io.BytesIO(png_bytes(fig, close=False))).convert("RGB"))
    rows = slice(int(round(height - max(y0, y1))) - pad_px, int(round(height - min(y0, y1))) + pad_px + 1)
    columns = slice(int(round(min(x0, x1))) - pad_px, int(round(max(x0, x1))) + pad_px + 1)
    return image[rows, columns].reshape(-1, 3)


def _inside(fig, boundaries, code, mode):
    """The pixels of a small patch inside a borough, clear of its edges and (tile grid) of its label
    in the middle: near a tile's top-left corner, or 5 x 5 pixels around a shape's representative point."""
    shape = boundaries.boroughs.set_index("gss_code").geometry[code]
    if mode == "tile_grid":
        minx, _, _, maxy = shape.bounds  # a unit square: 0.08-0.22 inside its top-left corner
        return _pixels(fig, (minx + 0.08, maxy - 0.22, minx + 0.22, maxy - 0.08))
    point = shape.representative_point()
    return _pixels(fig, (point.x, point.y, point.x, point.y), pad_px=2)


# --- constructed boroughs ------------------------------------------------------------------------


def test_the_city_is_not_covered_never_zero(reference):
    areas = outcome_areas(constructed_cells(reference))
    assert areas[CITY].category == "not covered" and areas[CITY].value is None
    assert areas[WESTMINSTER].category == "worse" and areas[CAMDEN].category == "better"
    assert len(areas) == 33  # London is not an area of the map


@pytest.mark.parametrize("mode", ["tile_grid", "file"])
def test_a_worse_borough_gets_the_worse_colour_and_the_city_is_hatched(reference, mode):
    boundaries = _boundaries(mode, reference)
    plate, alt, table = outcome_map_plate(
        constructed_cells(reference), "outcome_rate_robbery", "2025-w2", "before", boundaries, reference, NAME, SOURCE
    )
    fig = plate.figure()
    colours = {key: colour for key, (_, colour, _) in COMPARISON_CLASSES.items()}
    for code, expected in ((WESTMINSTER, "worse"), (CAMDEN, "better"), (HACKNEY, "similar")):
        pixels = {_hex(p) for p in _inside(fig, boundaries, code, mode)}
        assert pixels == {colours[expected].upper()}, (code, pixels)
    if mode == "tile_grid":  # the City is too small to sample at the geographic map's scale
        city = {_hex(p) for p in _inside(fig, boundaries, CITY, mode)}
        assert "#FFFFFF" in city and len(city) > 1, city  # white with hatching
        assert not city & {c.upper() for c in colours.values() if c != "white"}, city  # no rate's colour
    legend = sorted(t.get_text() for t in fig.legends[0].get_texts())  # (matplotlib keeps them column by column)
    assert legend == sorted(["Better than London", "Similar to London", "Worse than London", NOT_COVERED_LABEL])
    assert "robbery, rate per 1,000 residents compared with London, 12 months before wave 2025-w2" in alt
    assert "1 borough worse than London, 30 similar, 1 better" in alt and "City of London is not covered" in alt
    assert "highest Westminster (9.00 per 1,000), lowest Camden (2.00)" in alt
    city_row = table[table["Area"] == "City of London"].iloc[0]
    assert city_row["Compared with London"] == "not covered" and pd.isna(city_row["Rate per 1,000"])
    assert table["Area"].iloc[0] == "London" and table["Compared with London"].iloc[0] == "London"
    texts = [t.get_text() for t in drawn_texts(fig)]
    assert any(SOURCE in t.replace("\n", " ") for t in texts)
    assert any("Crown copyright" in t for t in texts) == (mode == "file")
    check(fig, f"outcome_constructed_{mode}", report=False)


def test_a_missing_borough_is_no_data_with_its_own_legend_entry(reference):
    boundaries = tile_grid_boundaries(reference)
    cells = constructed_cells(reference, drop=(HACKNEY,))
    plate, alt, _ = outcome_map_plate(cells, "outcome_rate_robbery", "2025-w2", "before", boundaries, reference, NAME)
    fig = plate.figure()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "No data" in legend and NOT_COVERED_LABEL in legend and len(legend) == 5
    hackney = {_hex(p) for p in _inside(fig, boundaries, HACKNEY, "tile_grid")}
    assert "#F0F0F0" in hackney  # the no-data fill, dotted


@pytest.mark.parametrize("mode", ["tile_grid", "file"])
def test_small_multiples_fit_the_report_and_share_one_legend(reference, mode):
    boundaries = _boundaries(mode, reference)
    measures = [
        "violence_against_the_person",
        "violence_with_injury",
        "robbery",
        "possession_of_weapons",
        "sexual_offences",
    ]
    cells = pd.concat([constructed_cells(reference, f"outcome_rate_{m}", m) for m in measures], ignore_index=True)
    names = {f"outcome_rate_{m}": f"{m.replace('_', ' ').capitalize()}: rate per 1,000 residents" for m in measures}
    ids = [f"outcome_rate_{m}" for m in measures]
    plate, alt, table = small_multiples_plate(cells, ids, "2025-w2", "before", boundaries, reference, names, SOURCE)
    fig = plate.figure()
    assert len(fig.axes) == 5 and len(fig.legends) == 1
    # Three to a row: the first three panels share a top, the last two sit below them, from the left.
    lefts = [round(ax.get_position().x0, 3) for ax in fig.axes]
    tops = [round(ax.get_position().y1, 3) for ax in fig.axes]
    assert lefts[:3] == sorted(set(lefts)) and lefts[3:] == lefts[:2]
    assert tops[0] == tops[1] == tops[2] > tops[3] == tops[4]
    assert fig.get_figwidth() * fig.dpi == 1050
    assert alt.count("highest Westminster") == 5 and alt.count("not covered") == 1
    assert table["Outcome"].drop_duplicates().tolist() == [n.split(":")[0] for n in names.values()]
    check(fig, f"outcome_small_multiples_constructed_{mode}")


def test_outcome_maps_are_byte_identical_when_drawn_twice(reference, tmp_path):
    cells = constructed_cells(reference)
    catalogue = pd.DataFrame({"indicator_id": ["outcome_rate_robbery"], "name": [NAME], "data_source": [SOURCE]})
    boundaries = tile_grid_boundaries(reference)
    first = build_outcome_maps(cells, catalogue, boundaries, reference, tmp_path / "a")
    second = build_outcome_maps(cells, catalogue, boundaries, reference, tmp_path / "b")
    assert [r.path.relative_to(tmp_path / "a").as_posix() for r in first] == [
        "2025-w2/outcomes/outcome_rate_robbery_before.png",
        "2025-w2/outcomes/all_measures_before.png",
    ]
    assert [r.png for r in first] == [r.png for r in second]
    assert all(r.path.read_bytes() == r.png for r in first)


# --- on the built sample -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def evidence(built_sample):
    from tipipeline.report.data import load_evidence_data

    with duckdb.connect(str(built_sample.baseline_path), read_only=True) as conn:
        return load_evidence_data(conn)


@pytest.mark.parametrize("mode", ["tile_grid", "file"])
def test_the_samples_outcome_maps_fit_and_name_every_outcome(evidence, reference, mode, monkeypatch):
    boundaries = _boundaries(mode, reference)
    figures = drawn_figures(monkeypatch)
    records = build_outcome_maps(evidence.cells, evidence.catalogue, boundaries, reference, None, measure_order())
    latest = max(evidence.cells["wave"])
    outcomes = sorted(set(evidence.cells["indicator_id"]))
    assert [r.indicator_id for r in records] == [*outcomes, "all_measures"]
    assert {r.wave for r in records} == {latest}
    for record, fig in zip(records, figures):
        assert "not covered" in record.alt_text and "City of London" in record.alt_text
        city = record.data[record.data["Area"] == "City of London"]
        assert city["Compared with London"].tolist() == ["not covered"] * len(city)
        assert city["Rate per 1,000"].isna().all()
        if record.indicator_id == "all_measures" or mode == "tile_grid":
            check(fig, f"outcome_{mode}_{record.indicator_id}", report=record.indicator_id == "all_measures")
    small = records[-1].data
    assert small["Outcome"].drop_duplicates().tolist() == [
        "Violence against the person",
        "Violence with injury",
        "Robbery",
        "Possession of weapons",
        "Sexual offences",
    ]  # all ages, in outcomes.yaml's order; the 10-24 rates are mapped on their own
