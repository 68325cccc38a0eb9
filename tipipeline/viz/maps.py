"""Choropleth maps of London: councils by borough, police by BCU, health by ICB, and the three
side by side (the borough partnership). Geographic from a boundary file, or the tile grid.

Classes are fixed breaks on the 1-5 score scale (`BREAKS`), the same as the journey's stage
thresholds, so that a colour means the same on every map and wave. Suppressed and no-data areas are
hatched and have their own legend entries: never colour alone. Another kind of map (the outcome
maps, tipipeline.viz.outcome_maps) brings its own classes as a `Scheme`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path

from tipipeline.viz.style import (
    DPI,
    MIN_FONTSIZE,
    NO_DATA_STYLE,
    REPORT_WIDTH,
    SECONDARY_TEXT,
    SEQUENTIAL,
    SUPPRESSED_STYLE,
    TEXT,
    figure,
    legend,
    styled,
    wrap_to_width,
)

BREAKS = [1.0, 2.5, 3.0, 3.5, 4.0, 5.0]
CLASS_LABELS = ["below 2.5", "2.5 to under 3.0", "3.0 to under 3.5", "3.5 to under 4.0", "4.0 or more"]


@dataclass(frozen=True)
class Area:
    """What a map shows for one area. `category`: its class when decided outside the map (an
    outcome's comparison with London); survey maps class the value itself."""

    value: float | None
    suppressed: bool = False
    category: str | None = None


def classify(value: float | None) -> int | None:
    """The class (0-4) of a score, or None for no value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    for index, upper in enumerate(BREAKS[1:-1]):
        if value < upper:
            return index
    return len(BREAKS) - 2


@dataclass(frozen=True)
class MapClass:
    """One legend entry and how its areas are drawn."""

    label: str
    fill: dict  # PatchCollection keywords for its areas
    key: dict  # Patch keywords for its legend entry
    label_colour: str = TEXT  # tile-grid labels on it
    hatched: bool = False  # a tile-grid label on it sits on a white patch, clear of the hatching


@dataclass(frozen=True)
class Scheme:
    """A map's classes: the legend's title, its entries in order (key -> class) and which entry an
    area (None when the area has no row) belongs to."""

    title: str
    classes: dict
    class_of: Callable[[Area | None], object]


def _hatched(label: str, style: dict) -> MapClass:
    return MapClass(label, {"linewidth": 0.5, **style}, style, hatched=True)


def score_scheme(suppressed_label: str = "Suppressed: small numbers") -> Scheme:
    """The survey maps' classes: five fixed bands of the 1-5 mean score, suppressed, no data."""
    classes: dict = {
        i: MapClass(
            CLASS_LABELS[i],
            {"facecolor": SEQUENTIAL[i], "edgecolor": "white", "linewidth": 0.6},
            {"facecolor": SEQUENTIAL[i], "edgecolor": "#707070"},
            label_colour="white" if i >= 2 else TEXT,
        )
        for i in range(len(CLASS_LABELS))
    }
    classes["suppressed"] = _hatched(suppressed_label, SUPPRESSED_STYLE)
    classes["no data"] = _hatched("No data", NO_DATA_STYLE)
    return Scheme("Mean score (1 = strongly disagree, 5 = strongly agree)", classes, score_class)


def score_class(area: Area | None):
    """A survey map area's class: suppressed, no data or its band (a module-level function, so that
    a scheme can be sent to a drawing process)."""
    if area is not None and area.suppressed:
        return "suppressed"
    if area is None or classify(area.value) is None:
        return "no data"
    return classify(area.value)


@dataclass(frozen=True)
class Panel:
    title: str
    shapes: gpd.GeoDataFrame  # one row per area: `code`, geometry
    areas: dict[str, Area]
    labels: dict[str, str] | None = None  # tile-grid labels (three-letter codes)


def _path(geometry) -> Path:
    """A matplotlib Path of a (multi)polygon, holes included (drawn even-odd)."""
    polygons = getattr(geometry, "geoms", [geometry])
    vertices, codes = [], []
    for polygon in polygons:
        for ring in [polygon.exterior, *polygon.interiors]:
            coords = np.asarray(ring.coords)
            vertices.append(coords)
            codes.append([Path.MOVETO] + [Path.LINETO] * (len(coords) - 2) + [Path.CLOSEPOLY])
    return Path(np.concatenate(vertices), np.concatenate(codes))


def _draw_panel(ax, panel: Panel, scheme: Scheme, show_title: bool = True, label_size: float = MIN_FONTSIZE) -> None:
    """Fill each area by its class, or hatch it (suppressed / no data); one plot call per style."""
    styles = [scheme.class_of(panel.areas.get(row.code)) for row in panel.shapes.itertuples()]
    shapes = panel.shapes.assign(style=styles)
    ax.set_axis_off()
    for style, group in shapes.groupby("style", sort=False):
        kwargs = scheme.classes[style].fill
        ax.add_collection(PatchCollection([PathPatch(_path(g)) for g in group.geometry], **kwargs))
    (minx, maxx), (miny, maxy) = _limits(panel)
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    if panel.labels:
        for row, style in zip(shapes.itertuples(), styles):
            if row.code in panel.labels:
                point = row.geometry.representative_point()
                drawn = scheme.classes[style]
                # On a hatched area the label sits on a white patch, so the hatching never crosses it.
                backing = {"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none"} if drawn.hatched else None
                ax.annotate(
                    panel.labels[row.code],
                    (point.x, point.y),
                    ha="center",
                    va="center",
                    fontsize=label_size,
                    color=drawn.label_colour,
                    bbox=backing,
                )
    if show_title:
        ax.set_title(panel.title, fontsize=10, color=TEXT)
    ax.set_aspect("equal")


def _limits(panel: Panel) -> tuple[tuple[float, float], tuple[float, float]]:
    """The panel's x and y limits: its shapes' bounds with a 2% margin."""
    minx, miny, maxx, maxy = panel.shapes.total_bounds
    pad = 0.02 * max(maxx - minx, maxy - miny)
    return (minx - pad, maxx + pad), (miny - pad, maxy + pad)


def _aspect(panel: Panel) -> float:
    """Height over width of the panel's drawing."""
    (x0, x1), (y0, y1) = _limits(panel)
    return (y1 - y0) / (x1 - x0)


# Layout of a map figure, in inches (see draw_map).
MARGIN = 0.12
PANEL_GAP = 0.25
ROW_GAP = 0.16  # between rows of panels (small multiples)
SINGLE_WIDTH, SINGLE_PANEL = 7.0, 5.4  # a one-panel map: figure width and the map's width


def draw_map(
    title: str,
    subtitle: str,
    panels: list[Panel],
    attribution: str | None,
    suppressed_label: str = "Suppressed: small numbers",
    scheme: Scheme | None = None,
    columns: int | None = None,
):
    """A figure of one or more panels with a shared legend, title, subtitle and attribution.

    Several panels make a report figure, `REPORT_WIDTH` wide, in rows of `columns` (default: one
    row), the last row from the left; one panel makes a map of its own. `scheme`: the classes
    (default: the survey's mean-score bands, `score_scheme`). Every part is measured, then stacked
    top to bottom (title, subtitle, panel titles, maps (again per row), legend, attribution), and
    the figure is made exactly as tall as they are: no blank bands, nothing clipped.
    """
    scheme = scheme or score_scheme(suppressed_label)
    single = len(panels) == 1
    columns = 1 if single else min(columns or len(panels), len(panels))
    rows = [panels[i : i + columns] for i in range(0, len(panels), columns)]
    width = SINGLE_WIDTH if single else REPORT_WIDTH
    panel_width = SINGLE_PANEL if single else (width - 2 * MARGIN - PANEL_GAP * (columns - 1)) / columns
    lefts = [(width - panel_width) / 2] if single else [MARGIN + i * (panel_width + PANEL_GAP) for i in range(columns)]
    text_px = (width - 2 * MARGIN) * DPI
    with styled():
        fig = figure(width, 6.0)  # the height is set once every part is measured
        renderer = fig.canvas.get_renderer()

        def text(content: str, size: float, max_px: float, weight: str = "normal", **kwargs):
            wrapped = wrap_to_width(fig, content, size, max_px, weight)
            return fig.text(0, 0, wrapped, fontsize=size, fontweight=weight, va="top", **kwargs)

        def inches(artist) -> float:
            return artist.get_window_extent(renderer).height / DPI

        handles = [Patch(label=entry.label, **entry.key) for entry in scheme.classes.values()]
        key = legend(fig, ncol=len(handles), max_px=text_px, handles=handles, loc="upper center", title=scheme.title)
        # Rows from the top: (the artists of the row, their x positions in inches, its height, gap below).
        header = [
            ([text(title, 12, text_px, weight="bold", ha="left", color=TEXT)], [MARGIN], 0.08),
            ([text(subtitle, MIN_FONTSIZE + 0.5, text_px, ha="left", color=TEXT)], [MARGIN], 0.12),
        ]
        titles = []  # per row of panels: its panel titles (a single map's subtitle already names it)
        if not single:
            for row in rows:
                artists = [text(p.title, 10, panel_width * DPI, ha="center", color=TEXT) for p in row]
                titles.append((artists, [left + panel_width / 2 for left in lefts], 0.04))
            header.append(titles[0])
        footer = [([key], [width / 2], 0.08)]
        if attribution:
            footer.append(([text(attribution, MIN_FONTSIZE, text_px, ha="left", color=SECONDARY_TEXT)], [MARGIN], 0.0))
        map_height = panel_width * max(_aspect(p) for p in panels)
        row_height = lambda row: max(inches(a) for a in row[0]) + row[2]  # noqa: E731
        total = 2 * MARGIN + sum(map(row_height, header)) + map_height + 0.14 + sum(map(row_height, footer))
        if len(rows) > 1:
            total += sum(ROW_GAP + row_height(t) + map_height for t in titles[1:])
        fig.set_size_inches(width, total)

        def place(rows, top: float) -> float:
            for artists, xs, gap in rows:
                for artist, x in zip(artists, xs):
                    if artist is key:
                        key.set_bbox_to_anchor((x / width, top / total), transform=fig.transFigure)
                    else:
                        artist.set_position((x / width, top / total))
                top -= max(inches(a) for a in artists) + gap
            return top

        top = place(header, total - MARGIN)
        for index, row in enumerate(rows):
            if index:
                top = place([titles[index]], top - map_height - ROW_GAP)
            for left, panel in zip(lefts, row):
                ax = fig.add_axes((left / width, (top - map_height) / total, panel_width / width, map_height / total))
                _draw_panel(ax, panel, scheme, show_title=False, label_size=10 if single else MIN_FONTSIZE)
        place(footer, top - map_height - 0.14)
    return fig


def shapes_for(boundaries, level: str) -> gpd.GeoDataFrame:
    """Shapes of a level ('borough', 'bcu', 'icb') with a `code` column."""
    frame = {"borough": boundaries.boroughs, "bcu": boundaries.bcus, "icb": boundaries.icbs}[level]
    code = {"borough": "gss_code", "bcu": "bcu_code", "icb": "icb_code"}[level]
    return gpd.GeoDataFrame({"code": frame[code].to_numpy()}, geometry=frame.geometry.to_numpy())


def areas_from_cells(cells, level: str) -> dict[str, Area]:
    """Map areas from published indicator cells of one indicator and wave."""
    chosen = cells[cells["geography_level"] == level]
    return {
        row.geography_code: Area(None if row.suppressed else float(row.value), bool(row.suppressed))
        for row in chosen.itertuples()
    }
