"""Figures as the report embeds them: PNG bytes, alt text, a caption and the data table beside it."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from tipipeline.report.tables import Table, frame_table
from tipipeline.viz.style import render


@dataclass
class Figure:
    png: bytes
    alt: str
    caption: str
    table: Table

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def chart_figure(fig_alt_table, caption: str) -> Figure:
    """A chart from tipipeline.viz.charts ((figure, alt text, data frame)) drawn to PNG."""
    fig, alt, frame = fig_alt_table
    png = render(fig)
    return Figure(png, alt, caption, frame_table(frame, f"Data for: {caption}"))


def map_figure(record, caption: str | None = None) -> Figure:
    """A drawn map (tipipeline.viz.atlas.MapRecord) with its values as a table. The caption
    (default: the partnership map's) ends with the boundaries' attribution, as the map does."""
    caption = caption or f"{record.title}: councils by borough, police by BCU, health by ICB."
    if record.attribution:
        caption = f"{caption} {record.attribution}"
    return Figure(record.png, record.alt_text, caption, frame_table(record.data, f"Data for: {record.title}"))
