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
  - holds at least `threshold` - 1 respondents more than the least n a reader can prove for its
    hidden children together (1 each, or for a hidden total the sum of its published parts plus one
    per hidden part), so that each hidden child's n could be any of at least `threshold` values,
  - is not a single suppressed child alone (which subtraction would reveal exactly), and
  - for percentages, has a combined numerator that is neither 0 nor all of it (otherwise every
    hidden respondent is known to have answered the same way);
and, with the parent suppressed, has at least one part hidden (else the children add up to it).
Unsafe groups are fixed by suppressing one more child (one that makes the group safe if there is
one, the smallest such; otherwise the largest), or the parent when no child is left, until every
group is safe.

Indicators that share their respondents (a domain's mean score and its % agreeing have one n per
geography) form a *family* and are suppressed together: a cell hidden in one is hidden in all,
and a group is safe only when it is safe for every member's numerator. Otherwise a reader could
take a BCU's n from whichever table shows it and subtract.
"""

from __future__ import annotations

from collections.abc import Callable
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
    remainder_numerators: tuple[int | None, ...]  # likewise for each percentage's numerator


def groups(cells: pd.DataFrame, numerator_columns: list[str] | None = None) -> list[Group]:
    """The additive groups among the cells of ONE family and wave (one row per geography)."""
    if numerator_columns is None:
        numerator_columns = ["numerator"] if "numerator" in cells else []
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
            # One entry per numerator column, in order (None where the parent has no numerator).
            remainders = tuple(
                int(parent[c]) - int(children[c].fillna(0).sum()) if pd.notna(parent.get(c)) else None
                for c in numerator_columns
            )
            found.append(
                Group(parent_index, tuple(children.index), int(parent["n"]) - int(children["n"].sum()), remainders)
            )
    return found


def _unsafe(
    group: Group,
    hidden: set[int],
    cells: pd.DataFrame,
    threshold: int,
    numerator_columns: list[str],
    lower_bound: Callable[[int, set[int]], int],
) -> bool:
    hidden_children = [c for c in group.children if c in hidden]
    has_remainder = group.remainder_n > 0
    if group.parent in hidden:
        return not hidden_children and not has_remainder
    if not hidden_children and not has_remainder:
        return False
    if len(hidden_children) == 1 and not has_remainder:
        return True
    n = group.remainder_n + int(cells.loc[hidden_children, "n"].sum())
    # A reader knows each hidden child's least possible n (1, or more for a hidden total whose
    # published parts add up to more), so a child's n lies between its own least value and the
    # hidden part less the others' least values: that range must hold `threshold` values.
    least = sum(lower_bound(c, hidden) for c in hidden_children)
    if n - max(least - 1, 0) < threshold:
        return True
    for column, remainder in zip(numerator_columns, group.remainder_numerators, strict=True):
        if remainder is None:
            continue
        numerator = remainder + int(cells.loc[hidden_children, column].fillna(0).sum())
        if numerator == 0 or numerator == n:
            return True
    return False


def suppress(
    cells: pd.DataFrame, threshold: int, families: dict[str, str] | None = None, link_equal_n: bool = True
) -> pd.DataFrame:
    """Add `suppressed` and `suppression_reason`; blank the values of suppressed cells.

    `cells` are survey cells with at least indicator_id, wave, geography_level, geography_code,
    sector, n (and numerator for percentages). `families` maps indicator_id -> family (indicators
    sharing one n; default: each indicator alone). Decided per family and wave, families with the
    same n at every geography of a wave together (`link_equal_n`, off only to measure the old rule);
    the result keeps the input's row order.
    """
    cells = cells.copy()
    family = (
        shared_n_blocks(cells, families or {})
        if link_equal_n
        else (cells["indicator_id"].map(families or {}).fillna(cells["indicator_id"]))
    )
    reasons: dict[int, str] = {}
    for _, block in cells.groupby([family, cells["wave"]], sort=False):
        reasons.update(_suppress_family(block, threshold))
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


GEOGRAPHY = ["geography_level", "geography_code"]


def shared_n_blocks(cells: pd.DataFrame, families: dict[str, str]) -> pd.Series:
    """Per row, the block suppressed together: its family, merged within a wave with every other
    family that has the same n at every geography (as when every item must be answered). A reader
    who sees equal n's wherever both are published would take a hidden n from the other family."""
    family = cells["indicator_id"].map(families).fillna(cells["indicator_id"])
    block = family.copy()
    for _, rows in cells.groupby("wave", sort=False):
        signatures: dict[tuple, str] = {}
        for name, members in rows.groupby(family[rows.index], sort=True):
            signature = tuple(sorted(members.drop_duplicates(GEOGRAPHY)[[*GEOGRAPHY, "n"]].itertuples(index=False)))
            block[members.index] = signatures.setdefault(signature, name)
    return block


def _suppress_family(block: pd.DataFrame, threshold: int) -> dict[int, str]:
    """Suppression reasons for every row of one family and wave: one decision per geography."""
    geographies = block.drop_duplicates(GEOGRAPHY)[[*GEOGRAPHY, "geography_name", "sector", "n"]].reset_index(drop=True)
    shared = block.groupby(GEOGRAPHY)["n"].nunique()
    if (shared > 1).any():
        raise ValueError(
            f"a family's indicators disagree on n for {list(shared[shared > 1].index)}: "
            "they cannot be suppressed together"
        )
    numerator_columns = []
    if "numerator" in block:
        for indicator, rows in block[block["numerator"].notna()].groupby("indicator_id"):
            column = f"numerator:{indicator}"
            geographies = geographies.merge(
                rows[[*GEOGRAPHY, "numerator"]].rename(columns={"numerator": column}), on=GEOGRAPHY, how="left"
            )
            numerator_columns.append(column)
    decided = _suppress_block(geographies, threshold, numerator_columns)
    by_geography = {tuple(geographies.loc[i, GEOGRAPHY]): reason for i, reason in decided.items()}
    keys = list(zip(block["geography_level"], block["geography_code"]))
    return {index: by_geography[key] for index, key in zip(block.index, keys) if key in by_geography}


def _suppress_block(block: pd.DataFrame, threshold: int, numerator_columns: list[str]) -> dict[int, str]:
    reasons = {i: PRIMARY.format(threshold=threshold) for i in block.index[block["n"] < threshold]}
    block_groups = groups(block, numerator_columns)
    as_parent: dict[int, list[Group]] = {}
    for group in block_groups:
        as_parent.setdefault(group.parent, []).append(group)

    def lower_bound(cell: int, hidden) -> int:
        """The least n a reader can prove for a hidden cell: its published parts plus one per hidden part."""
        least = 1
        for group in as_parent.get(cell, []):
            parts = [int(block.loc[c, "n"]) if c not in hidden else 1 for c in group.children]
            least = max(least, sum(parts))
        return least

    def unsafe(group: Group, hidden) -> bool:
        return _unsafe(group, hidden, block, threshold, numerator_columns, lower_bound)

    changed = True
    while changed:
        changed = False
        for group in block_groups:
            if not unsafe(group, set(reasons)):
                continue
            parent_name = block.loc[group.parent, "geography_name"] or block.loc[group.parent, "geography_code"]
            published = [c for c in group.children if c not in reasons]
            if not published:
                victim = group.parent
            else:

                def order(c):
                    return (int(block.loc[c, "n"]), str(block.loc[c, "geography_code"]))

                fixes = [c for c in published if not unsafe(group, set(reasons) | {c})]
                # The smallest child that makes the group safe; failing that the largest, which
                # adds most to the hidden part; ties broken by code, for determinism.
                victim = min(fixes, key=order) if fixes else max(published, key=order)
            reasons[victim] = SECONDARY.format(parent=parent_name)
            changed = True
    return reasons
