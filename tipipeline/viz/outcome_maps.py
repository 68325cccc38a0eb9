"""Outcome maps: each borough's rate of an outcome (offences per 1,000 residents) compared with
London's, one map per outcome indicator and, for the report, the all-ages measures as small
multiples. Geographic from the boundary tables, the tile grid otherwise (tipipeline.viz.maps).

Classes are the published comparison with London (the Fingertips rule: the borough's 95% confidence
interval against London's rate; a lower rate is better), not bands of the rate itself. Why:
- a colour then means a difference larger than chance, decided by the same published rule as the
  `comparison` column and the report's tables, and the same on every map, measure and wave;
- quantiles or Fisher-Jenks breaks on 32 boroughs move with every wave's data, cut between boroughs
  whose intervals overlap (so chance differences look like class differences) and need their own
  breaks per measure, because the rates of different measures differ tenfold;
- the rates themselves, with their intervals, are in the table beside every map.
The colours follow the Analysis Function's palettes, not Fingertips' red/amber/green, which readers
with red-green colour blindness cannot tell apart (docs/DESIGN.md: comparisons use labels, not
red/amber/green): better dark blue, similar grey, worse orange; they differ in lightness as well, so
they stay apart in greyscale print. City of London has no rate (its own police force, not the MPS):
it is hatched and "not covered" in the legend, never coloured as a rate of 0.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from tipipeline.viz.maps import Area, MapClass, Panel, Scheme, shapes_for
from tipipeline.viz.plates import MapRecord, PlannedMap, Plate, draw_planned
from tipipeline.viz.style import NO_DATA_STYLE, TEXT

NOT_COVERED = "not covered"
NO_DATA = "no data"
NOT_COVERED_STYLE = {"facecolor": "white", "hatch": "xxxx", "edgecolor": "#505A5F"}
# The classes a borough can fall in, in legend order: (label, fill colour, label colour on it).
COMPARISON_CLASSES = {
    "better": ("Better than London", "#12436D", "white"),
    "similar": ("Similar to London", "#BFBFBF", TEXT),
    "worse": ("Worse than London", "#F46A25", TEXT),
    # Indicators without a polarity are compared as lower or higher (none of the outcomes so far).
    "lower": ("Lower than London", "#ADD1F1", TEXT),
    "higher": ("Higher than London", "#2073BC", "white"),
    "not compared": ("Not compared (no confidence interval)", "white", TEXT),
}
ALWAYS_SHOWN = ("better", "similar", "worse")
NOT_COVERED_LABEL = "Not covered: policed by the City of London Police"
LEGEND_TITLE = "Rate compared with London's (95% confidence interval)"
PERIODS = {"before": "12 months before", "after": "12 months after"}
REPORT_COLUMNS = 3  # small multiples per row in the report


def outcome_areas(cells: pd.DataFrame) -> dict[str, Area]:
    """Map areas from the borough rows of one outcome indicator, wave and period: each borough's
    class is its published comparison; an area the MPS does not cover is 'not covered' (never 0)."""
    areas = {}
    for row in cells[cells["geography_level"] == "borough"].itertuples():
        value = None if pd.isna(row.value) else float(row.value)
        if row.coverage == NOT_COVERED:
            category = NOT_COVERED
        elif value is None:
            category = NO_DATA
        else:
            category = row.comparison if row.comparison in COMPARISON_CLASSES else "not compared"
        areas[row.geography_code] = Area(value, category=category)
    return areas


def _category(area: Area | None) -> str:
    return NO_DATA if area is None or area.category is None else area.category


def comparison_scheme(panels_areas: list[dict[str, Area]], codes: list[str]) -> Scheme:
    """Better, similar and worse always; the other classes only when an area of `codes` (the
    shapes drawn) falls in them, so the legend lists nothing the maps do not show."""
    present = {_category(areas.get(code)) for areas in panels_areas for code in codes}
    classes: dict = {}
    for key, (label, colour, label_colour) in COMPARISON_CLASSES.items():
        if key in ALWAYS_SHOWN or key in present:
            edge = "#707070" if colour == "white" else "white"
            classes[key] = MapClass(
                label,
                {"facecolor": colour, "edgecolor": edge, "linewidth": 0.6},
                {"facecolor": colour, "edgecolor": "#707070"},
                label_colour=label_colour,
            )
    if NOT_COVERED in present:
        classes[NOT_COVERED] = MapClass(
            NOT_COVERED_LABEL, {"linewidth": 0.5, **NOT_COVERED_STYLE}, NOT_COVERED_STYLE, hatched=True
        )
    if NO_DATA in present:
        classes[NO_DATA] = MapClass("No data", {"linewidth": 0.5, **NO_DATA_STYLE}, NO_DATA_STYLE, hatched=True)
    return Scheme(LEGEND_TITLE, classes, _category)


def _period_text(cells: pd.DataFrame) -> str:
    start, end = (pd.Timestamp(cells[c].dropna().iloc[0]) for c in ("period_start", "period_end"))
    return f"{start:%B %Y} to {end:%B %Y}"


def _london(cells: pd.DataFrame) -> float | None:
    london = cells.loc[cells["geography_level"] == "london", "value"].dropna()
    return float(london.iloc[0]) if len(london) else None


def _short_name(name: str) -> str:
    """'Robbery: rate per 1,000 residents' -> 'Robbery'."""
    return name.split(":")[0]


WORDS = {"worse": "worse than London", "similar": "similar", "better": "better", "higher": "higher than London",
         "lower": "lower", "not compared": "not compared"}  # fmt: skip


def _counts(areas: dict[str, Area]) -> str:
    """'13 boroughs worse than London, 5 similar, 14 better'."""
    counts = pd.Series([a.category for a in areas.values()], dtype=object).value_counts()
    parts = [f"{counts[k]} {WORDS[k]}" for k in WORDS if k in counts]
    if not parts:
        return "no borough rated"
    first, *others = parts
    number, words = first.split(" ", 1)
    return ", ".join([f"{number} {'borough' if number == '1' else 'boroughs'} {words}", *others])


def _summary(areas: dict[str, Area], names: dict[str, str]) -> str:
    """Boroughs per class and the highest and lowest rate, in words."""
    rated = {code: a.value for code, a in areas.items() if a.value is not None}
    text = _counts(areas)
    if rated:
        high, low = max(rated, key=rated.get), min(rated, key=rated.get)
        text += (
            f"; highest {names.get(high, high)} ({rated[high]:.2f} per 1,000), "
            f"lowest {names.get(low, low)} ({rated[low]:.2f})"
        )
    return text + "."


def _uncovered(areas: list[dict[str, Area]], names: dict[str, str]) -> str:
    codes = sorted({c for group in areas for c, a in group.items() if a.category == NOT_COVERED})
    if not codes:
        return ""
    listed = ", ".join(names.get(c, c) for c in codes)
    return f" {listed} {'is' if len(codes) == 1 else 'are'} not covered (policed by the City of London Police, not the MPS)."


def _table(cells: pd.DataFrame, outcome: str | None = None) -> pd.DataFrame:
    """The values drawn, for the report's table beside the map (headers: labels.yaml chart_columns)."""
    # London first (the maps' classes are against its rate), then the boroughs by name.
    rows = pd.concat(
        [
            cells[cells["geography_level"] == "london"],
            cells[cells["geography_level"] == "borough"].sort_values("geography_name"),
        ]
    )
    uncovered = (rows["coverage"] == NOT_COVERED).to_numpy()
    table = pd.DataFrame(
        {
            "Area": rows["geography_name"].to_numpy(),
            "Rate per 1,000": rows["value"].to_numpy(dtype=float),
            "Lower CI": rows["lower_ci"].to_numpy(dtype=float),
            "Upper CI": rows["upper_ci"].to_numpy(dtype=float),
            "Offences": rows["count"].astype("Int64").array,
            "Residents": rows["population"].astype("Int64").array,
            "Compared with London": [NOT_COVERED if u else c for u, c in zip(uncovered, rows["comparison"].to_numpy())],
            "withheld": False,  # nothing here is withheld: a blank is not available ([x])
        }
    )
    if outcome is not None:
        table.insert(0, "Outcome", outcome)
    return table


def _labels(boundaries, reference) -> dict[str, str] | None:
    if boundaries.mode != "tile_grid":
        return None
    return dict(zip(reference.boroughs["gss_code"], reference.boroughs["short_code"]))


def _notes(boundaries, london: float | None, period_text: str) -> str:
    london_text = f" London: {london:.2f} per 1,000." if london is not None else ""
    tile = " Tile-grid map: each square is a borough, equal in size." if boundaries.mode == "tile_grid" else ""
    return (
        f"{period_text}.{london_text} Each borough's 95% confidence interval against London's rate; a lower rate "
        f"is better. Offences recorded by the MPS where they happened.{tile}"
    )


def _attribution(source: str | None, boundaries) -> str | None:
    parts = [f"Source: {source.rstrip('.')}." if source else None, boundaries.attribution]
    return " ".join(p for p in parts if p) or None


def _title(name: str, period: str, wave: str) -> str:
    """'Robbery: rate per 1,000 residents compared with London, 12 months before wave 2025-w2'."""
    return f"{name} compared with London, {PERIODS.get(period, period)} wave {wave}"


def _block(cells: pd.DataFrame, indicator_id: str, wave: str, period: str) -> pd.DataFrame:
    return cells[(cells["indicator_id"] == indicator_id) & (cells["wave"] == wave) & (cells["period"] == period)]


def outcome_map_plate(
    cells: pd.DataFrame,
    indicator_id: str,
    wave: str,
    period: str,
    boundaries,
    reference,
    name: str,
    source: str | None = None,
) -> tuple[Plate, str, pd.DataFrame]:
    """One outcome indicator's borough map for a wave and period, planned: (plate, alt text, data
    table). `name`: the indicator's name in the catalogue; `source`: its data source (for the
    attribution). `Plate.figure` draws it."""
    block = _block(cells, indicator_id, wave, period)
    if block.empty:
        raise ValueError(f"no outcome cells for {indicator_id}, wave {wave}, period {period}")
    areas = outcome_areas(block)
    shapes = shapes_for(boundaries, "borough")
    scheme = comparison_scheme([areas], list(shapes["code"]))
    period_text = _period_text(block)
    title = _title(name, period, wave)
    panel = Panel(_short_name(name), shapes, areas, _labels(boundaries, reference))
    plate = Plate(
        f"{wave}/{LAYER}/{indicator_id}_{period}.png",
        title,
        _notes(boundaries, _london(block), period_text),
        (panel,),
        _attribution(source, boundaries),
        scheme,
    )
    names = dict(zip(reference.boroughs["gss_code"], reference.boroughs["name"]))
    alt = (
        f"Map of London boroughs: {(name[:1].lower() + name[1:]).replace(': ', ', ')} compared with London, "
        f"{PERIODS.get(period, period)} wave {wave} ({period_text}). {_summary(areas, names)}"
        f"{_uncovered([areas], names)} The table below gives every value."
    )
    return plate, alt, _table(block)


def small_multiples_title(period: str, wave: str) -> str:
    return f"Violence outcomes compared with London, {PERIODS.get(period, period)} wave {wave}"


def small_multiples_plate(
    cells: pd.DataFrame,
    indicator_ids: list[str],
    wave: str,
    period: str,
    boundaries,
    reference,
    names: dict[str, str],
    source: str | None = None,
    columns: int = REPORT_COLUMNS,
) -> tuple[Plate, str, pd.DataFrame]:
    """Several outcome indicators' borough maps side by side (rows of `columns`), with one legend,
    planned: (plate, alt text, data table). Indicators without cells for the wave and period are
    left out. `Plate.figure` draws it."""
    blocks = {i: _block(cells, i, wave, period) for i in indicator_ids}
    blocks = {i: b for i, b in blocks.items() if not b.empty}
    if not blocks:
        raise ValueError(f"no outcome cells for wave {wave}, period {period}")
    shapes = shapes_for(boundaries, "borough")
    labels = _labels(boundaries, reference)
    areas = {i: outcome_areas(b) for i, b in blocks.items()}
    panels = [Panel(_short_name(names.get(i, i)), shapes, areas[i], labels) for i in blocks]
    scheme = comparison_scheme(list(areas.values()), list(shapes["code"]))
    first = next(iter(blocks.values()))
    period_text = _period_text(first)
    title = small_multiples_title(period, wave)
    subtitle = (
        f"Offences recorded by the MPS per 1,000 residents, by borough, {period_text}. Each borough's 95% "
        "confidence interval against London's rate; a lower rate is better."
        + (" Tile-grid maps: each square is a borough, equal in size." if boundaries.mode == "tile_grid" else "")
    )
    plate = Plate(
        f"{wave}/{LAYER}/{SMALL_MULTIPLES}_{period}.png",
        title,
        subtitle,
        tuple(panels),
        _attribution(source, boundaries),
        scheme,
        columns,
    )
    borough_names = dict(zip(reference.boroughs["gss_code"], reference.boroughs["name"]))
    described = " ".join(f"{panel.title}: {_summary(areas[i], borough_names)}" for i, panel in zip(blocks, panels))
    alt = (
        f"Maps of London boroughs, one per outcome, each borough's rate per 1,000 residents compared with London's, "
        f"{PERIODS.get(period, period)} wave {wave} ({period_text}). {described}"
        f"{_uncovered(list(areas.values()), borough_names)} The table below gives every value."
    )
    table = pd.concat([_table(b, _short_name(names.get(i, i))) for i, b in blocks.items()], ignore_index=True)
    return plate, alt, table


def latest_wave(cells: pd.DataFrame, period: str = "before") -> str | None:
    """The latest wave with published outcome cells for `period`, None when there is none."""
    waves = cells.loc[(cells["period"] == period) & cells["value"].notna(), "wave"]
    return None if waves.empty else max(waves)


def measure_order() -> list[str]:
    """The outcome measures in the order outcomes.yaml lists them."""
    from tipipeline.outcomes.crime import load_outcome_mapping

    return [measure.id for measure in load_outcome_mapping().measures]


def all_ages(cells: pd.DataFrame, measure_order: list[str] | None = None) -> list[str]:
    """The all-ages outcome indicators in `cells`, in the order of their measures (outcomes.yaml)
    when given, else by id."""
    rows = cells[cells["population_group"] == "all_ages"][["indicator_id", "measure_id"]].drop_duplicates()
    order = {m: i for i, m in enumerate(measure_order or [])}
    rows = rows.assign(rank=rows["measure_id"].map(lambda m: order.get(m, math.inf)))
    return rows.sort_values(["rank", "indicator_id"])["indicator_id"].tolist()


SMALL_MULTIPLES = "all_measures"  # the record id of the small-multiple figure
LAYER = "outcomes"


def build_outcome_maps(
    cells: pd.DataFrame,
    catalogue: pd.DataFrame,
    boundaries,
    reference,
    out_dir: Path | None,
    measure_order: list[str] | None = None,
    period: str = "before",
    each: bool = True,
) -> list[MapRecord]:
    """The latest wave's outcome maps for `period`: one per outcome indicator (with `each`) and the
    all-ages measures as small multiples. With `out_dir`, also written as
    out_dir/<wave>/outcomes/<indicator>_<period>.png and all_measures_<period>.png.
    `catalogue`: indicator_id, name, data_source of the outcome indicators."""
    planned = plan_outcome_maps(cells, catalogue, boundaries, reference, measure_order, period, each)
    return draw_planned(planned, out_dir)[0]


def plan_outcome_maps(
    cells: pd.DataFrame,
    catalogue: pd.DataFrame,
    boundaries,
    reference,
    measure_order: list[str] | None = None,
    period: str = "before",
    each: bool = True,
) -> list[PlannedMap]:
    """`build_outcome_maps` planned, not drawn."""
    wave = latest_wave(cells, period) if not cells.empty else None
    if wave is None:
        return []
    names = dict(zip(catalogue["indicator_id"], catalogue["name"]))
    sources = dict(zip(catalogue["indicator_id"], catalogue["data_source"]))
    planned = []

    def plan(indicator_id: str, title: str, made) -> None:
        plate, alt, table = made
        planned.append(PlannedMap(plate, indicator_id, wave, LAYER, title, alt, table, boundaries.attribution))

    present = sorted(set(cells.loc[(cells["wave"] == wave) & (cells["period"] == period), "indicator_id"]))
    if each:
        for indicator_id in present:
            name = names.get(indicator_id, indicator_id)
            made = outcome_map_plate(
                cells, indicator_id, wave, period, boundaries, reference, name, sources.get(indicator_id)
            )
            plan(indicator_id, _title(name, period, wave), made)
    shown = [i for i in all_ages(cells, measure_order) if i in present]
    if shown:
        made = small_multiples_plate(cells, shown, wave, period, boundaries, reference, names, sources.get(shown[0]))
        plan(SMALL_MULTIPLES, small_multiples_title(period, wave), made)
    return planned
