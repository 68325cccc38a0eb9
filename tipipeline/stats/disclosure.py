"""Disclosure control of indicator cells: primary suppression of small cells, then secondary
suppression so that nothing small can be worked out from what is published.

The additive structure of the cells (per indicator and wave):
    London = councils + police + health                       (sector cells)
    councils = the 33 council organisations = the 33 boroughs
    police = the Metropolitan Police Service = its 12 BCUs (+ respondents with no BCU)
    health = the 5 ICB organisations = the 5 ICBs
In a group (a parent and its children), the *hidden part* is the suppressed children plus the
unpublished remainder (parent n minus the children's n, e.g. police respondents with no BCU).
Subtracting the published children from a published parent reveals the hidden part's combined n,
numerator and mean. A group is safe when, with the parent published, its hidden part is empty, or
  - holds at least `threshold` respondents,
  - is not a single suppressed child alone (which subtraction would reveal exactly), and
  - for percentages, has a combined numerator that is neither 0 nor all of it (otherwise every
    hidden respondent is known to have answered the same way);
and, with the parent suppressed, has at least one part hidden (else the children add up to it).
Unsafe groups are fixed by suppressing one more child (one that makes the group safe if there is
one, the smallest such; otherwise the largest), or the parent when no child is left, until every
group is safe.
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
    remainder_n: int  # parent n minus the children's n
    remainder_numerator: int | None  # likewise for percentages (None for means)


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
            remainder_numerator = None
            if "numerator" in cells and pd.notna(parent.get("numerator")):
                remainder_numerator = int(parent["numerator"]) - int(children["numerator"].fillna(0).sum())
            found.append(Group(parent_index, tuple(children.index), int(parent["n"]) - int(children["n"].sum()),
                               remainder_numerator))
    return found


def _unsafe(group: Group, hidden: set[int], cells: pd.DataFrame, threshold: int) -> bool:
    hidden_children = [c for c in group.children if c in hidden]
    has_remainder = group.remainder_n > 0
    if group.parent in hidden:
        return not hidden_children and not has_remainder
    if not hidden_children and not has_remainder:
        return False
    if len(hidden_children) == 1 and not has_remainder:
        return True
    n = group.remainder_n + int(cells.loc[hidden_children, "n"].sum())
    if n < threshold:
        return True
    if group.remainder_numerator is not None:
        numerator = group.remainder_numerator + int(cells.loc[hidden_children, "numerator"].fillna(0).sum())
        if numerator == 0 or numerator == n:
            return True
    return False


def suppress(cells: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Add `suppressed` and `suppression_reason`; blank the values of suppressed cells.

    `cells` are survey cells with at least indicator_id, wave, geography_level, geography_code,
    sector, n (and numerator for percentages). Works per indicator and wave; the result keeps the
    input's row order.
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
            if not _unsafe(group, set(reasons), block, threshold):
                continue
            parent_name = block.loc[group.parent, "geography_name"] or block.loc[group.parent, "geography_code"]
            published = [c for c in group.children if c not in reasons]
            if not published:
                victim = group.parent
            else:
                def order(c):
                    return (int(block.loc[c, "n"]), str(block.loc[c, "geography_code"]))
                fixes = [c for c in published if not _unsafe(group, set(reasons) | {c}, block, threshold)]
                # The smallest child that makes the group safe; failing that the largest, which
                # adds most to the hidden part; ties broken by code, for determinism.
                victim = min(fixes, key=order) if fixes else max(published, key=order)
            reasons[victim] = SECONDARY.format(parent=parent_name)
            changed = True
    return reasons
