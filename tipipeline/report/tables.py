"""Tables as the report shows them: plain-English headers, numbers formatted by what they are.

A `Table` holds display strings only; the templates lay it out. Every column is declared with its
header and kind, so a count is never shown as "69.00" and a code never reaches a header.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
import yaml

LABELS = Path(__file__).with_name("labels.yaml")


@cache
def labels() -> dict:
    """The plain-English words for codes (labels.yaml)."""
    return yaml.safe_load(LABELS.read_text(encoding="utf-8"))


def suppressed_symbol() -> str:
    """The symbol for a value withheld by disclosure control ([c])."""
    return labels()["symbols"]["suppressed"]


def not_available_symbol() -> str:
    """The symbol for a value that does not exist ([x])."""
    return labels()["symbols"]["not_available"]


def show_withheld(values: pd.Series, withheld) -> pd.Series:
    """`values` as objects with every withheld one replaced by [c] (`withheld`: flags, None as False)."""
    flags = pd.Series(withheld, index=values.index).astype("boolean").fillna(False).to_numpy(dtype=bool)
    shown = values.astype(object).copy()
    shown[flags] = suppressed_symbol()
    return shown


def _missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _number(value, kind: str) -> str:
    number = float(value)
    if kind == "count":
        if number != int(number):
            raise ValueError(f"a count that is not a whole number: {value!r}")
        return f"{int(number):,}"
    if kind == "score":
        return f"{number:.2f}"
    if kind == "coefficient":
        return f"{number:.3f}"
    if kind == "percent":
        return f"{number:.1f}%"
    if kind == "whole percent":
        return f"{number:.0f}%"
    if kind == "change":
        return f"{number:+.2f}"
    raise ValueError(f"unknown column kind {kind!r}")


NUMERIC_KINDS = {"count", "score", "coefficient", "percent", "whole percent", "change"}


def format_value(value, kind: str) -> str:
    """One cell as text: numbers by kind, a missing number as [x]."""
    if kind == "text":
        return "" if _missing(value) else str(value)
    if _missing(value):
        return not_available_symbol()
    if isinstance(value, str):  # a symbol or note already in the cell (e.g. [c])
        return value
    return _number(value, kind)


@dataclass(frozen=True)
class Column:
    """A column of a report table: the frame's column, the header a reader sees, and its kind
    (text, count, score, coefficient, percent, whole percent or change)."""

    key: str
    header: str
    kind: str = "text"


@dataclass
class Table:
    """A table ready to show: its caption, headers, which columns are numbers, and the cells as text."""

    caption: str
    headers: list[str]
    numeric: list[bool]
    rows: list[list[str]]


def make_table(frame: pd.DataFrame, columns: list[Column], caption: str) -> Table:
    """A report table from the declared columns of `frame` (other columns are not shown)."""
    missing = [c.key for c in columns if c.key not in frame.columns]
    if missing:
        raise KeyError(f"table {caption!r} has no column(s) {missing}")
    rows = [
        [format_value(value, c.kind) for value, c in zip(record, columns)]
        for record in frame[[c.key for c in columns]].itertuples(index=False)
    ]
    return Table(caption, [c.header for c in columns], [c.kind in NUMERIC_KINDS for c in columns], rows)


def plain_reason(reason) -> str:
    """A published suppression reason in plain English ("primary: fewer than 10 respondents" ->
    "withheld: fewer than 10 respondents")."""
    if _missing(reason):
        return ""
    text = str(reason)
    for prefix, plain in labels()["suppression_prefixes"].items():
        if text.startswith(prefix):
            return plain + text.removeprefix(prefix)
    return text


def label(group: str, code) -> str:
    """The plain-English word for a code (labels.yaml). A code with no entry is an error: a reader
    would otherwise see it as it is (tests build the report on every code the pipeline emits)."""
    if _missing(code):
        return ""
    words = labels()[group]
    if code not in words:
        raise KeyError(f"labels.yaml has no entry for {code!r} under {group!r}: add one")
    return words[code]


def plain_note(note) -> str:
    """A partner's note: a comparison with London, or why its value is withheld, in plain English."""
    if _missing(note):
        return ""
    comparisons = labels()["comparisons"]
    return comparisons[note] if note in comparisons else plain_reason(note)


def _infer_kind(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "text"
    if pd.api.types.is_integer_dtype(series):
        return "count"
    if pd.api.types.is_float_dtype(series):
        return "score"
    return "text"


def frame_table(frame: pd.DataFrame, caption: str) -> Table:
    """A table of a chart's data frame: headers and kinds from labels.yaml's `chart_columns` where
    listed (else the column's name and its dtype); codes and notes in plain English. A boolean
    `withheld` column (not shown) marks rows whose blank numbers are withheld ([c]), not absent."""
    known = labels()["chart_columns"]
    withheld = frame["withheld"] if "withheld" in frame else pd.Series(False, index=frame.index)
    shown = frame.drop(columns=["withheld"], errors="ignore").copy()
    columns = []
    for key in shown.columns:
        spec = known.get(str(key), {})
        kind = spec.get("kind") or _infer_kind(shown[key])
        if spec.get("words") == "notes":
            shown[key] = shown[key].map(plain_note)
        elif spec.get("words"):
            shown[key] = shown[key].map(lambda code, group=spec["words"]: label(group, code))
        elif kind in NUMERIC_KINDS:
            blank = shown[key].isna().to_numpy()
            shown[key] = show_withheld(shown[key], withheld.to_numpy() & blank)
        columns.append(Column(key, spec.get("header", str(key)), kind))
    return make_table(shown, columns, caption)
