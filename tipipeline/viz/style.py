"""The Analysis Function palettes, the figure factory, text fitting and the settings that make PNG
bytes reproducible.

Report figures are drawn at most `REPORT_WIDTH` inches wide at `DPI` dots per inch, so that the
report (a 1050 CSS px content column, images at natural size) shows them 1:1; at that size a
matplotlib font size of 9 is 12.5 px, i.e. 9 pt as displayed, the smallest text any figure uses
(`MIN_FONTSIZE`). Layout is computed, never guessed: charts use constrained layout and maps place
every part from its measured size, so nothing is clipped and the same inputs give the same bytes.
"""

from __future__ import annotations

import io
import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display; the same rendering everywhere

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402

# Analysis Function (GSS) palettes: https://analysisfunction.civilservice.gov.uk/policy-store/data-visualisation-colours-in-charts/
SEQUENTIAL = ["#ADD1F1", "#6BACE6", "#2073BC", "#12436D", "#092135"]  # light (low) to dark (high)
CATEGORICAL = ["#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1"]
SUPPRESSED_STYLE = {"facecolor": "white", "hatch": "////", "edgecolor": "#3D3D3D"}
NO_DATA_STYLE = {"facecolor": "#F0F0F0", "hatch": "....", "edgecolor": "#707070"}
TEXT = "#0B0C0C"
SECONDARY_TEXT = "#505A5F"

DPI = 100
REPORT_WIDTH = 10.5  # inches: 1050 px at DPI, the report's content column
MIN_FONTSIZE = 9  # points at DPI: 12.5 px

RC = {
    "font.family": "DejaVu Sans",  # bundled with matplotlib: the same glyphs on every machine
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9.5,
    "legend.title_fontsize": 9.5,
    "figure.titlesize": 12,
    "svg.hashsalt": "tipipeline",
    "path.simplify": False,
    "hatch.linewidth": 0.6,
}


def styled():
    """A context in which text and axes take the project's style: draw inside it."""
    return plt.rc_context(RC)


def figure(width: float, height: float, layout: str | None = None):
    """A figure with the project's style. Not managed by pyplot: nothing redraws it until saved.

    `layout="constrained"` makes room for tick labels, titles and `loc="outside ..."` legends."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with plt.rc_context(RC):
        fig = Figure(figsize=(width, height), dpi=DPI, layout=layout)
        FigureCanvasAgg(fig)
    return fig


def wrap_label(text: str, width: int = 24) -> str:
    """A category label on lines of at most `width` characters (words are never broken)."""
    return textwrap.fill(text, width=width, break_long_words=False, break_on_hyphens=False)


def text_extent(fig, text: str, fontsize: float, weight: str = "normal") -> tuple[float, float]:
    """(width, height) in pixels at the figure's dpi of `text` drawn in the project's font."""
    # The font is named, not taken from rcParams, so no rc_context is entered per measurement (a
    # map measures thousands of candidate lines while wrapping; entering one each time cost 5 s a build).
    renderer = fig.canvas.get_renderer()
    font = FontProperties(family=RC["font.family"], size=fontsize, weight=weight)
    widths, heights = [], []
    for line in text.split("\n"):
        w, h, _ = renderer.get_text_width_height_descent(line or " ", font, ismath=False)
        widths.append(w)
        heights.append(h)
    return max(widths), sum(heights) * 1.2  # matplotlib's default line spacing


def wrap_to_width(fig, text: str, fontsize: float, max_px: float, weight: str = "normal") -> str:
    """`text` broken between words into lines that each fit `max_px` pixels (measured, not guessed)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and text_extent(fig, candidate, fontsize, weight)[0] > max_px:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return "\n".join(lines)


def legend(fig, ncol: int, max_px: float | None = None, handles=None, **kwargs):
    """A figure legend, by default below the axes (constrained layout makes room for it), of `ncol`
    entries in one row, or in as few balanced rows (7 entries: 4 + 3) as it takes to be at most
    `max_px` wide (default: the figure's width). Entries read across the rows, in their order.
    `handles` default to the labelled artists of the figure's axes."""
    if handles is None:
        pairs = [pair for ax in fig.axes for pair in zip(*ax.get_legend_handles_labels())]
        handles, labels = [h for h, _ in pairs], [label for _, label in pairs]
    else:
        labels = [h.get_label() for h in handles]
    limit = max_px if max_px is not None else fig.get_figwidth() * fig.dpi - 8
    options = {"loc": "outside lower center", "frameon": False, "fontsize": MIN_FONTSIZE + 0.5, **kwargs}
    count = max(len(handles), 1)
    for columns in sorted({math.ceil(count / rows) for rows in range(1, min(ncol, count) + 1)}, reverse=True):
        # matplotlib fills columns first (the longer columns first): this order fills rows first.
        order = [i * columns + j for j in range(columns) for i in range(math.ceil(count / columns))]
        order = [k for k in order if k < len(handles)]
        with plt.rc_context(RC):
            drawn = fig.legend([handles[k] for k in order], [labels[k] for k in order], ncol=columns, **options)
            fits = drawn.get_window_extent(fig.canvas.get_renderer()).width <= limit
        if fits or columns == 1:
            return drawn
        drawn.remove()
    return None


def png_bytes(fig, dpi: int = DPI, close: bool = True) -> bytes:
    """PNG bytes that depend only on the drawing: no timestamps, a fixed software tag."""
    buffer = io.BytesIO()
    with plt.rc_context(RC):
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": "tipipeline (matplotlib)"}, facecolor="white")
    if close:
        fig.clear()
    return buffer.getvalue()


def render(fig, dpi: int = DPI) -> bytes:
    """The figure's PNG at `dpi`; the figure is cleared (drawn once: see `thumbnail`)."""
    return png_bytes(fig, dpi, close=True)


def thumbnail(png: bytes, scale: float = 36 / DPI) -> bytes:
    """A small copy of a PNG for Dagster metadata, scaled from the drawn image (not drawn again)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        # A map or chart is mostly flat colour: 128 colours keep it legible at a fifth of the bytes.
        small = image.convert("RGB").resize(size, Image.Resampling.LANCZOS).quantize(colors=128)
    buffer = io.BytesIO()
    small.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
