"""A dot plot as inline SVG: each row's value with its 95% CI beside two comparators (London and
the sector), on the survey's 1-5 scale. Text, not pixels, so it prints sharply, scales with the
page and its bytes depend only on the numbers. The report puts the same numbers in a table beside
it; the chart is the picture of that table, never the only place a value is shown."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from tipipeline.viz.style import CATEGORICAL, SECONDARY_TEXT

WIDTH, LABEL_WIDTH, ROW, TOP, RIGHT = 720, 270, 28, 44, 24
SCALE = (1.0, 5.0)


@dataclass(frozen=True)
class DotRow:
    label: str
    value: float | None  # None: withheld or not published
    lower: float | None
    upper: float | None
    sector: float | None
    london: float | None
    note: str = ""  # shown instead of a dot when there is no value ("[c] withheld")
    key: str = ""  # the row's indicator id, on its group (data-indicator) so a test can find it
    withheld: bool = False


def _x(value: float) -> float:
    low, high = SCALE
    return LABEL_WIDTH + (value - low) / (high - low) * (WIDTH - LABEL_WIDTH - RIGHT)


def _f(number: float) -> str:
    return f"{number:.1f}"


def dot_plot_svg(rows: list[DotRow], title: str, own_label: str, sector_label: str) -> str:
    """The SVG markup (role img, named by `title`)."""
    height = TOP + ROW * len(rows) + 30
    dark, teal, orange, grey = CATEGORICAL[0], CATEGORICAL[1], CATEGORICAL[3], SECONDARY_TEXT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" font-family="Arial, Helvetica, sans-serif" font-size="13">',
        f"<title>{escape(title)}</title>",
        f'<circle cx="{LABEL_WIDTH + 6}" cy="14" r="6" fill="{dark}"/>'
        f'<text x="{LABEL_WIDTH + 16}" y="18">{escape(own_label)} (line: 95% CI)</text>',
        f'<rect x="{LABEL_WIDTH + 6}" y="24" width="4" height="14" fill="{teal}"/>'
        f'<text x="{LABEL_WIDTH + 16}" y="36">{escape(sector_label)}</text>',
        f'<path d="M{_f(LABEL_WIDTH + 246)} 24 l6 7 l-6 7 l-6 -7 z" fill="{orange}"/>'
        f'<text x="{LABEL_WIDTH + 258}" y="36">London</text>',
    ]
    axis_y = TOP + ROW * len(rows)
    for tick in range(int(SCALE[0]), int(SCALE[1]) + 1):
        x = _f(_x(tick))
        parts.append(f'<line x1="{x}" y1="{TOP}" x2="{x}" y2="{axis_y}" stroke="#dddddd"/>')
        parts.append(f'<text x="{x}" y="{axis_y + 18}" text-anchor="middle" fill="{grey}">{tick}</text>')
    for i, row in enumerate(rows):
        y = TOP + ROW * i + ROW / 2
        withheld = "true" if row.withheld else "false"
        parts.append(f'<g data-indicator="{escape(row.key)}" data-suppressed="{withheld}">')
        parts.append(f'<text x="0" y="{_f(y + 4)}">{escape(row.label)}</text>')
        if row.sector is not None:
            parts.append(f'<rect x="{_f(_x(row.sector) - 2)}" y="{_f(y - 8)}" width="4" height="16" fill="{teal}"/>')
        if row.london is not None:
            parts.append(f'<path d="M{_f(_x(row.london))} {_f(y - 7)} l6 7 l-6 7 l-6 -7 z" fill="{orange}"/>')
        if row.value is None:
            parts.append(f'<text x="{_f(_x(SCALE[0]) + 6)}" y="{_f(y + 4)}" fill="{grey}">{escape(row.note)}</text>')
        else:
            if row.lower is not None and row.upper is not None:
                parts.append(
                    f'<line x1="{_f(_x(row.lower))}" y1="{_f(y)}" x2="{_f(_x(row.upper))}" y2="{_f(y)}" '
                    f'stroke="{dark}" stroke-width="2"/>'
                )
            parts.append(f'<circle cx="{_f(_x(row.value))}" cy="{_f(y)}" r="6" fill="{dark}"/>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
