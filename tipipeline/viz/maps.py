"""Choropleth maps of London: councils by borough, police by BCU, health by ICB, and the three
side by side (the borough partnership). Geographic from a boundary file, or the tile grid.

Classes are fixed breaks on the 1-5 score scale (`BREAKS`), the same as the journey's stage
thresholds, so that a colour means the same on every map and wave. Suppressed and no-data areas are
hatched and have their own legend entries: never colour alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path

from tipipeline.viz.style import NO_DATA_STYLE, SEQUENTIAL, SUPPRESSED_STYLE, TEXT, figure

BREAKS = [1.0, 2.5, 3.0, 3.5, 4.0, 5.0]
CLASS_LABELS = ["below 2.5", "2.5 to under 3.0", "3.0 to under 3.5", "3.5 to under 4.0", "4.0 or more"]


@dataclass(frozen=True)
class Area:
    """What a map shows for one area."""

    value: float | None
    suppressed: bool = False


def classify(value: float | None) -> int | None:
    """The class (0-4) of a score, or None for no value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    for index, upper in enumerate(BREAKS[1:-1]):
        if value < upper:
            return index
    return len(BREAKS) - 2


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


def _draw_panel(ax, panel: Panel, show_title: bool = True) -> None:
    """Fill each area by its class, or hatch it (suppressed / no data); one plot call per style."""
    styles = []
    for row in panel.shapes.itertuples():
        area = panel.areas.get(row.code)
        if area is not None and area.suppressed:
            styles.append("suppressed")
        elif area is None or classify(area.value) is None:
            styles.append("no data")
        else:
            styles.append(classify(area.value))
    shapes = panel.shapes.assign(style=styles)
    ax.set_axis_off()
    for style, group in shapes.groupby("style", sort=False):
        if style == "suppressed":
            kwargs = {"linewidth": 0.5, **SUPPRESSED_STYLE}
        elif style == "no data":
            kwargs = {"linewidth": 0.5, **NO_DATA_STYLE}
        else:
            kwargs = {"facecolor": SEQUENTIAL[style], "edgecolor": "white", "linewidth": 0.6}
        ax.add_collection(PatchCollection([PathPatch(_path(g)) for g in group.geometry], **kwargs))
    minx, miny, maxx, maxy = panel.shapes.total_bounds
    pad = 0.02 * max(maxx - minx, maxy - miny)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    if panel.labels:
        for row, style in zip(shapes.itertuples(), styles):
            if row.code in panel.labels:
                point = row.geometry.representative_point()
                dark = isinstance(style, int) and style >= 2
                ax.annotate(
                    panel.labels[row.code],
                    (point.x, point.y),
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color="white" if dark else TEXT,
                )
    if show_title:
        ax.set_title(panel.title, fontsize=10, color=TEXT)
    ax.set_aspect("equal")


def draw_map(
    title: str,
    subtitle: str,
    panels: list[Panel],
    attribution: str | None,
    suppressed_label: str = "Suppressed: small numbers",
):
    """A figure of one or more panels with a shared legend, title, subtitle and attribution."""
    single = len(panels) == 1
    width = 5.2 * len(panels) + (1.8 if single else 1.0)
    fig = figure(width, 6.2 if single else 5.6)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, panel in zip(axes, panels):
        _draw_panel(ax, panel, show_title=not single)  # a single map's subtitle already names it
    handles = [
        Patch(facecolor=SEQUENTIAL[i], edgecolor="#707070", label=CLASS_LABELS[i]) for i in range(len(CLASS_LABELS))
    ]
    handles.append(Patch(label=suppressed_label, **SUPPRESSED_STYLE))
    handles.append(Patch(label="No data", **NO_DATA_STYLE))
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=3 if single else 7,
        frameon=False,
        fontsize=8,
        title="Mean score (1 = strongly disagree, 5 = strongly agree)",
        title_fontsize=8,
    )
    fig.suptitle(title, x=0.02, ha="left", fontsize=12, fontweight="bold", color=TEXT)
    fig.text(0.02, 0.905, subtitle, ha="left", fontsize=8.5, color=TEXT)
    if attribution:
        fig.text(0.02, 0.005, attribution, ha="left", fontsize=6, color="#505A5F")
    fig.subplots_adjust(left=0.02, right=0.98, top=0.86, bottom=0.24 if single else 0.2, wspace=0.05)
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
