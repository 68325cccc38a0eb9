"""The Analysis Function palettes and the settings that make PNG bytes reproducible."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display; the same rendering everywhere

import matplotlib.pyplot as plt  # noqa: E402

# Analysis Function (GSS) palettes: https://analysisfunction.civilservice.gov.uk/policy-store/data-visualisation-colours-in-charts/
SEQUENTIAL = ["#ADD1F1", "#6BACE6", "#2073BC", "#12436D", "#092135"]  # light (low) to dark (high)
CATEGORICAL = ["#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1"]
SUPPRESSED_STYLE = {"facecolor": "white", "hatch": "////", "edgecolor": "#3D3D3D"}
NO_DATA_STYLE = {"facecolor": "#F0F0F0", "hatch": "....", "edgecolor": "#707070"}
TEXT = "#0B0C0C"

RC = {
    "font.family": "DejaVu Sans",  # bundled with matplotlib: the same glyphs on every machine
    "font.size": 9,
    "axes.titlesize": 11,
    "svg.hashsalt": "tipipeline",
    "path.simplify": False,
    "hatch.linewidth": 0.6,
}


def figure(width: float, height: float):
    """A figure with the project's style. Not managed by pyplot: nothing redraws it until saved."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with plt.rc_context(RC):
        fig = Figure(figsize=(width, height), dpi=100)
        FigureCanvasAgg(fig)
    return fig


def png_bytes(fig, dpi: int = 100, close: bool = True) -> bytes:
    """PNG bytes that depend only on the drawing: no timestamps, a fixed software tag."""
    buffer = io.BytesIO()
    with plt.rc_context(RC):
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": "tipipeline (matplotlib)"}, facecolor="white")
    if close:
        fig.clear()
    return buffer.getvalue()


def render(fig, dpi: int = 100, thumbnail_dpi: int = 36) -> tuple[bytes, bytes]:
    """(full-size PNG, thumbnail PNG) of a figure; the thumbnail is small enough for Dagster metadata."""
    full = png_bytes(fig, dpi, close=False)
    small = png_bytes(fig, thumbnail_dpi, close=True)
    return full, small


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
