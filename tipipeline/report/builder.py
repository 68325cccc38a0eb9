"""Build the baseline report (HTML, images embedded) from the published baseline and the drawings.

Every number comes from the published, disclosure-controlled tables; every image has alt text and
its data table beside it; headings go in order.
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pandas as pd

TEMPLATE = Path(__file__).with_name("template.html")


@dataclass
class Figure:
    png: bytes
    alt: str
    caption: str
    table: pd.DataFrame


def _cell(value) -> tuple[str, bool]:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "", False
    if isinstance(value, float):
        return f"{value:,.2f}", True
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}", True
    return str(value), False


def table_html(frame: pd.DataFrame, caption: str | None = None, limit: int | None = None) -> str:
    """An accessible HTML table (caption, column headers with scope)."""
    shown = frame.head(limit) if limit else frame
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in shown.columns)
    rows = []
    for row in shown.itertuples(index=False):
        cells = []
        for value in row:
            text, numeric = _cell(value)
            cells.append(f'<td class="num">{html.escape(text)}</td>' if numeric else f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (
        f'<p class="small">First {limit} of {len(frame)} rows; the exports hold all of them.</p>'
        if limit and len(frame) > limit
        else ""
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def figure_html(figure: Figure) -> str:
    data = base64.b64encode(figure.png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(figure.alt, quote=True)}">'
        f"<figcaption>{html.escape(figure.caption)}</figcaption>"
        f"<details><summary>Data table for this chart</summary>{table_html(figure.table)}</details></figure>"
    )


def paragraph(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def render_report(title: str, subtitle: str, sections: list[dict], synthetic: bool, provenance: str) -> str:
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = environment.from_string(TEMPLATE.read_text(encoding="utf-8"))
    safe = [{"id": s["id"], "title": s["title"], "html": jinja2.utils.markupsafe.Markup(s["html"])} for s in sections]
    return template.render(title=title, subtitle=subtitle, sections=safe, synthetic=synthetic, provenance=provenance)
