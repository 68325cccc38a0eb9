"""Tables shown for reading: floats rounded, cells escaped, long text shortened, as markdown. Pure
(pandas only), so that schemas' failure reports and Dagster's previews format values alike."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

PREVIEW_ROWS = 10


def format_number(value: float) -> str:
    """A float for reading: 3 decimal places, or 4 significant figures below 1; trailing zeros
    dropped (2.9411764705882355 -> 2.941, 0.000123456 -> 0.0001235, 12.0 -> 12)."""
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0:
        return "0"
    if abs(value) >= 1:
        text = f"{value:.3f}"
    else:
        text = f"{value:.4g}"
        if "e" in text:
            return text
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def _cell(value, round_floats: bool) -> str:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        text = str(bool(value))
    elif isinstance(value, int | np.integer):
        text = str(int(value))
    elif round_floats and isinstance(value, float | np.floating):
        text = format_number(float(value))
    else:
        text = str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def markdown_preview(frame: pd.DataFrame, rows: int = PREVIEW_ROWS, round_floats: bool = True) -> str:
    """The first rows as a markdown table (cells escaped, long text shortened, floats rounded for
    reading unless `round_floats` is false, empty for missing values)."""
    head = frame.head(rows)
    lines = [
        "| " + " | ".join(_cell(c, False) for c in head.columns) + " |",
        "|" + "---|" * len(head.columns),
    ]
    lines += ["| " + " | ".join(_cell(v, round_floats) for v in row) + " |" for row in head.itertuples(index=False)]
    return "\n".join(lines)
