"""Answers decided once per distinct value (issue 14): a categorical column, as the readers give it,
is decided from its categories without touching its cells, with the same result as the plain text
read cell by cell. The oracle is a per-cell loop written here from the codebook rules."""

import numpy as np
import pandas as pd

from tipipeline.ingest.codebook import Scale
from tipipeline.ingest.surveys import distinct_values, scale_values

SCALE = Scale(
    values={"Strongly disagree": 1, "Disagree": 2, "Neither": 3, "Agree": 4, "Strongly agree": 5},
    missing=["Don't know"],
)
CELLS = ["Agree", "", None, " strongly AGREE ", "Don’t know", "3", "7", "Agree", "maybe", None, "5.0"]


def _by_hand(cell):
    """(value, missing reason, invalid) of one cell, from the codebook's rules as documented."""
    text = "" if cell is None else " ".join(cell.replace("’", "'").split()).casefold()
    labels = {k.casefold(): float(v) for k, v in SCALE.values.items()}
    if text == "":
        return (np.nan, "not_answered", False)
    if text in labels:
        return (labels[text], None, False)
    if text == "don't know":
        return (np.nan, "Don't know", False)
    try:
        number = float(text)
    except ValueError:
        return (np.nan, None, True)
    return (number, None, False) if number in labels.values() else (np.nan, None, True)


def _decided(values):
    value, reason, invalid = scale_values(values, SCALE)
    return list(zip(value.tolist(), reason.tolist(), invalid.tolist()))


def _same(got, expected):
    assert len(got) == len(expected)
    for (v, r, i), (ev, er, ei) in zip(got, expected):
        assert (np.isnan(v) and np.isnan(ev)) or v == ev
        assert (r, i) == (er, ei)


def test_categorical_and_text_columns_are_decided_alike():
    expected = [_by_hand(c) for c in CELLS]
    text = pd.Series(CELLS, dtype=object)
    # Unused categories and an empty-string category beside missing cells: both read as blank.
    categorical = pd.Series(pd.Categorical(CELLS, categories=sorted({c for c in CELLS if c is not None} | {"unused"})))
    _same(_decided(text), expected)
    _same(_decided(categorical), expected)


def test_distinct_values_of_a_categorical_need_no_cell_work():
    values = pd.Series(pd.Categorical(["b", None, "a", "b"], categories=["a", "b", "c"]))
    positions, uniques = distinct_values(values)
    assert uniques == ["a", "b", "c", ""]
    assert [uniques[p] for p in positions] == ["b", "", "a", "b"]
