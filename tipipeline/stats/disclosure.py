"""Disclosure control of indicator cells: primary suppression of small cells, then secondary
suppression so that no suppressed cell can be worked out from a published total and its
published siblings.

The additive structure of the cells (per indicator and wave):
    London = councils + police + health                       (sector cells)
    councils = the 33 council organisations = the 33 boroughs
    police = the Metropolitan Police Service = its 12 BCUs (+ respondents with no BCU)
    health = the 5 ICB organisations = the 5 ICBs
A group (a parent and its children) leaks when the parent is published and exactly one part is
hidden, where the parts are the suppressed children and the unpublished remainder (parent n minus
the children's n, e.g. police respondents with no BCU) when it is not empty; or when the parent is
suppressed and every part is published. Each leak is closed by suppressing the smallest published
child (or, with none left, the parent), until nothing leaks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

PRIMARY = "primary: fewer than {threshold} respondents"
SECONDARY = "secondary: protects a suppressed cell in {parent}"

# (parent level, parent code or None for "the cell's sector", child level, which sector's children)
HIERARCHY = [
    ("london", None, "sector", None),
    ("sector", "council", "organisation", "council"),
    ("sector", "council", "borough", "council"),
    ("sector", "police", "organisation", "police"),
    ("sector", "police", "bcu", "police"),
    ("sector", "health", "organisation", "health"),
    ("sector", "health", "icb", "health"),
]


@dataclass(frozen=True)
class Group:
    parent: int  # row index
    children: tuple[int, ...]
    remainder: int  # parent n minus the children's n


def groups(cells: pd.DataFrame) -> list[Group]:
    """The additive groups among the cells of ONE indicator and wave (row indexes)."""
    found = []
    for parent_level, parent_code, child_level, child_sector in HIERARCHY:
        parents = cells[cells["geography_level"] == parent_level]
        if parent_code is not None:
            parents = parents[parents["geography_code"] == parent_code]
        for parent_index, parent in parents.iterrows():
            children = cells[cells["geography_level"] == child_level]
            if child_sector is not None:
                children = children[children["sector"] == child_sector]
            if children.empty:
                continue
            remainder = int(parent["n"]) - int(children["n"].sum())
            found.append(Group(parent_index, tuple(children.index), remainder))
    return found


def _leaks(group: Group, hidden: set[int]) -> bool:
    parts_hidden = sum(1 for c in group.children if c in hidden) + (1 if group.remainder > 0 else 0)
    if group.parent in hidden:
        return parts_hidden == 0
    return parts_hidden == 1 and any(c in hidden for c in group.children)


def suppress(cells: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Add `suppressed` and `suppression_reason`; blank the values of suppressed cells.

    `cells` are survey cells with at least indicator_id, wave, geography_level, geography_code,
    sector, n. Works per indicator and wave; the result keeps the input's row order.
    """
    cells = cells.copy()
    reasons: dict[int, str] = {}
    for _, block in cells.groupby(["indicator_id", "wave"], sort=False):
        reasons.update(_suppress_block(block, threshold))
    cells["suppressed"] = [i in reasons for i in cells.index]
    cells["suppression_reason"] = [reasons.get(i) for i in cells.index]
    hidden = cells["suppressed"].to_numpy()
    for column in ("value", "lower_ci", "upper_ci"):
        cells.loc[hidden, column] = float("nan")
    cells["n"] = cells["n"].astype("Int64")
    cells.loc[hidden, "n"] = pd.NA
    if "numerator" in cells:
        cells.loc[hidden, "numerator"] = pd.NA
    if "comparison" in cells:
        cells.loc[hidden, "comparison"] = "not compared"
    return cells


def _suppress_block(block: pd.DataFrame, threshold: int) -> dict[int, str]:
    reasons = {i: PRIMARY.format(threshold=threshold) for i in block.index[block["n"] < threshold]}
    block_groups = groups(block)
    changed = True
    while changed:
        changed = False
        for group in block_groups:
            if not _leaks(group, set(reasons)):
                continue
            parent_name = block.loc[group.parent, "geography_name"] or block.loc[group.parent, "geography_code"]
            published = [c for c in group.children if c not in reasons]
            if published:
                # The smallest published child hides the least; ties broken by code, for determinism.
                victim = min(published, key=lambda c: (int(block.loc[c, "n"]), str(block.loc[c, "geography_code"])))
            else:
                victim = group.parent
            reasons[victim] = SECONDARY.format(parent=parent_name)
            changed = True
    return reasons


def derivable_cells(cells: pd.DataFrame) -> list[tuple]:
    """(indicator, wave, parent code) of every group that would reveal a suppressed cell.

    `cells` must hold the true n of every cell (also the suppressed ones) and the `suppressed`
    flag that is to be published. Empty for a publishable table.
    """
    leaks = []
    for (indicator, wave), block in cells.groupby(["indicator_id", "wave"], sort=False):
        hidden = set(block.index[block["suppressed"].astype(bool)])
        for group in groups(block):
            if _leaks(group, hidden):
                leaks.append((indicator, wave, block.loc[group.parent, "geography_code"]))
    return leaks
