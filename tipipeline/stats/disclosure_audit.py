"""An independent audit of published indicator cells: what could a reader work out?

Written separately from the suppression code (disclosure.py), so that the blocking check does not
share its blind spots. For every published total and its children it computes, from the published
values alone, what subtraction reveals, and compares that with the true counts.
"""

from __future__ import annotations

import pandas as pd

CHILD_LEVELS = {"london": ["sector"], "sector": ["organisation", "borough", "bcu", "icb"]}


def audit(cells: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """One row per problem. `cells` hold the true `n` and `numerator` of every cell and the
    `suppressed` flag to be published. Problems: a small cell published; a hidden group (the
    suppressed children and any unpublished remainder of a published total) of fewer than
    `threshold` people, or a single suppressed cell alone; a hidden group whose percentage is 0% or
    100%; a suppressed total whose children are all published."""
    problems = []
    if "numerator" not in cells:
        cells = cells.assign(numerator=pd.NA)
    small = cells[(cells["n"] < threshold) & ~cells["suppressed"].astype(bool)]
    for row in small.itertuples():
        problems.append((row.indicator_id, row.wave, row.geography_code, "small cell published"))
    for (indicator, wave), block in cells.groupby(["indicator_id", "wave"]):
        for parent in block.itertuples():
            for level in CHILD_LEVELS.get(parent.geography_level, []):
                children = block[block["geography_level"] == level]
                if parent.geography_level == "sector":
                    children = children[children["sector"] == parent.geography_code]
                if children.empty:
                    continue
                shown = children[~children["suppressed"].astype(bool)]
                hidden = children[children["suppressed"].astype(bool)]
                hidden_n = int(parent.n) - int(shown["n"].sum())
                if parent.suppressed:
                    if hidden_n == 0 and hidden.empty:
                        problems.append((indicator, wave, parent.geography_code, "suppressed total equals its children"))
                    continue
                if hidden_n == 0:
                    continue
                remainder = hidden_n - int(hidden["n"].sum())
                if len(hidden) == 1 and remainder == 0:
                    problems.append((indicator, wave, parent.geography_code, "a single suppressed cell is revealed"))
                elif hidden_n < threshold:
                    problems.append((indicator, wave, parent.geography_code, f"hidden group of {hidden_n} revealed"))
                elif pd.notna(parent.numerator):
                    hidden_numerator = int(parent.numerator) - int(shown["numerator"].fillna(0).sum())
                    if hidden_numerator in (0, hidden_n):
                        problems.append((indicator, wave, parent.geography_code, "hidden group is all or nothing"))
    return pd.DataFrame(problems, columns=["indicator_id", "wave", "parent", "problem"])
