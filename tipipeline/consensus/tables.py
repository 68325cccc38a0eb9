"""The London definition's published tables, from the panel's pseudonymised ratings (issue 15).

- `definition_statements`: per statement x round x panel (everyone, then each stakeholder group):
  ratings, median and IQR, the share in each band, the disagreement index, the consensus status and
  its stability since the round before.
- `panel_flow`: panellists invited and responding per round and group (attrition, ACCORD-style).
- `london_definition`: the statements with consensus "in" in the final round, ordered by the
  framework's principles, then its domains, then the rest.
- `definition_framework_links`: each framework principle and domain with the agreed statements
  behind it (or none), and agreed statements with no place in the framework.

Disclosure control, per statement and round: a group with fewer than `min_group_panellists`
ratings of the statement has no values in its row (`suppressed`, with the reason); while the
withheld groups hold fewer ratings than that together, or are one group, the smallest published
group is withheld too, so that the whole panel's figures minus the published groups never reveal
a small group; the whole panel's row is withheld when it has fewer ratings than that. A withheld
result is never the base of the next round's stability.
"""

from __future__ import annotations

from fractions import Fraction

import pandas as pd

from tipipeline import registry
from tipipeline.consensus.config import DefinitionProtocol, Statements
from tipipeline.consensus.statistics import (
    Distribution,
    classify_bands,
    classify_ipras,
    ipras,
    stable_by_percent_change,
    stable_by_wilcoxon,
)
from tipipeline.framework import Framework

ALL = "all"
STATEMENT_COLUMNS = registry.table("definition_statements").names
# What a row is about and whether it is withheld; every other column is a result, blanked when
# the row is withheld (named by exclusion, so a result column added to the registry is blanked too).
LABEL_COLUMNS = ["statement_id", "round", "panel_group", "panellists", "suppressed", "suppression_reason"]
VALUE_COLUMNS = [c for c in STATEMENT_COLUMNS if c not in LABEL_COLUMNS]
FLOAT_COLUMNS = ["median", "q1", "q3", "iqr", "pct_bottom", "pct_middle", "pct_top", "ipr", "ipras", "stability_p"]
STATEMENT_DTYPES = {"n_rated": "Int64", "n_unable_to_rate": "Int64", "disagreement": "boolean", "stable": "boolean"} | {
    c: "float64" for c in FLOAT_COLUMNS
}


def _float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def withheld_groups(sizes: dict[str, int], threshold: int, what: str = "responded") -> dict[str, str]:
    """group -> why its figures are withheld, from each group's number of panellists (who responded,
    or who rated a statement: `what`). A group with some but fewer than `threshold` is withheld;
    while the withheld groups hold fewer than `threshold` together, or are one group, the smallest
    published group is withheld too, so the whole panel minus the published groups reveals no one."""
    withheld = {
        g: f"fewer than {threshold} panellists in this group {what}" for g, n in sizes.items() if 0 < n < threshold
    }
    published = sorted((n, g) for g, n in sizes.items() if n >= threshold)
    while withheld and published:
        hidden = sum(sizes[g] for g in withheld)
        if hidden >= threshold and len([g for g in withheld if sizes[g] > 0]) >= 2:
            break
        _, smallest = published.pop(0)
        withheld[smallest] = "withheld so that a smaller group cannot be worked out from the overall figures"
    return withheld


def statement_results(
    ratings: pd.DataFrame, panellists: pd.DataFrame, protocol: DefinitionProtocol, statements: Statements
) -> pd.DataFrame:
    """`definition_statements` from the accepted ratings (round, panellist_id, statement_id, rating,
    missing_reason) and the panel (panellist_id, stakeholder_group)."""
    scale = protocol.scale.scale()
    threshold = protocol.panel.min_group_panellists
    groups = dict(zip(panellists["panellist_id"], panellists["stakeholder_group"], strict=True))
    frame = ratings.assign(panel_group=ratings["panellist_id"].map(groups))
    rows = []
    # A group's ratings in the round before, kept only where they were published: a result withheld
    # in one round must not show through the next round's stability.
    previous: dict[tuple[str, str], pd.DataFrame] = {}
    for round_number in sorted(frame["round"].unique()):
        in_round = frame[frame["round"] == round_number]
        responders = in_round.drop_duplicates("panellist_id")
        sizes = {g: int((responders["panel_group"] == g).sum()) for g in protocol.panel.groups}
        current: dict[tuple[str, str], pd.DataFrame] = {}
        for statement_id in sorted(in_round["statement_id"].unique()):
            one = in_round[in_round["statement_id"] == statement_id]
            rated = one.dropna(subset=["rating"])
            # Decided per statement on the ratings it has: "unable to rate" answers make a group's
            # ratings of one statement fewer than its panellists.
            counts = {g: int((rated["panel_group"] == g).sum()) for g in protocol.panel.groups}
            withheld = withheld_groups(counts, threshold, "rated this statement")
            if len(rated) < threshold:
                withheld[ALL] = f"fewer than {threshold} panellists rated this statement"
            for group in [ALL, *protocol.panel.groups]:
                subset = one if group == ALL else one[one["panel_group"] == group]
                size = responders.shape[0] if group == ALL else sizes[group]
                if group != ALL and size == 0:
                    continue
                row = {
                    "statement_id": statement_id,
                    "round": int(round_number),
                    "panel_group": group,
                    "panellists": size,
                }
                if group in withheld:
                    row.update({c: None for c in VALUE_COLUMNS}, suppressed=True, suppression_reason=withheld[group])
                else:
                    current[(statement_id, group)] = subset
                    row.update(_values(subset, scale, protocol, previous.get((statement_id, group))))
                    row.update(suppressed=False, suppression_reason="")
                rows.append(row)
        previous = current
    frame = pd.DataFrame(rows, columns=STATEMENT_COLUMNS).astype(STATEMENT_DTYPES)
    return frame.sort_values(["statement_id", "round", "panel_group"]).reset_index(drop=True)


def _values(subset: pd.DataFrame, scale, protocol: DefinitionProtocol, before: pd.DataFrame | None) -> dict:
    rated = subset.dropna(subset=["rating"])
    distribution = Distribution.of(rated["rating"].astype(int).tolist(), scale)
    if protocol.consensus.method == "bands":
        consensus = classify_bands(distribution, protocol.consensus.band_rule())
    else:
        consensus = classify_ipras(distribution)
    test = ipras(distribution) if (scale.minimum, scale.maximum) == (1, 9) else None
    stable, p = _stability(rated, before, scale, protocol)
    percent = lambda share: None if share is None else float(share * 100)  # noqa: E731
    return {
        "n_rated": distribution.n,
        "n_unable_to_rate": int((subset["missing_reason"] == "unable_to_rate").sum()),
        "median": _float(distribution.median),
        "q1": _float(distribution.percentile(Fraction(1, 4))),
        "q3": _float(distribution.percentile(Fraction(3, 4))),
        "iqr": _float(distribution.iqr),
        "pct_bottom": percent(distribution.share_bottom),
        "pct_middle": percent(distribution.share_middle),
        "pct_top": percent(distribution.share_top),
        "ipr": None if test is None else float(test.ipr),
        "ipras": None if test is None else float(test.ipras),
        "disagreement": None if test is None else bool(test.disagreement),
        "consensus": consensus,
        "stable": stable,
        "stability_p": p,
    }


def _stability(rated: pd.DataFrame, before: pd.DataFrame | None, scale, protocol: DefinitionProtocol):
    """(stable, p) against the same statement and group in the round before; (None, None) in the
    round a statement is introduced."""
    if before is None:
        return None, None
    earlier = before.dropna(subset=["rating"])
    if protocol.stability.method == "percent_change":
        stable = stable_by_percent_change(
            Distribution.of(earlier["rating"].astype(int).tolist(), scale),
            Distribution.of(rated["rating"].astype(int).tolist(), scale),
            Fraction(repr(float(protocol.stability.max_change_points))),
        )
        return stable, None
    pairs = earlier.merge(rated, on="panellist_id", suffixes=("_before", "_after"))
    return stable_by_wilcoxon(
        list(zip(pairs["rating_before"].astype(int), pairs["rating_after"].astype(int), strict=True)),
        protocol.stability.alpha,
    )


def panel_flow(
    invited: dict[int, set[str]], responded: dict[int, set[str]], panellists: pd.DataFrame, groups: list[str]
) -> pd.DataFrame:
    """`panel_flow`: per round and group (and everyone), panellists invited, responding, the
    response rate, and those who also responded to the round before."""
    group_of = dict(zip(panellists["panellist_id"], panellists["stakeholder_group"], strict=True))
    rows = []
    for round_number in sorted(invited):
        for group in [ALL, *groups]:
            members = (
                (lambda ids: ids) if group == ALL else (lambda ids, g=group: {i for i in ids if group_of.get(i) == g})
            )  # noqa: E731
            inv = members(invited[round_number])
            resp = members(responded.get(round_number, set()))
            earlier = members(responded.get(round_number - 1, set())) if round_number > 1 else None
            rows.append(
                {
                    "round": round_number,
                    "panel_group": group,
                    "invited": len(inv),
                    "responded": len(resp),
                    "response_rate_pct": float(Fraction(len(resp), len(inv)) * 100) if inv else None,
                    "responded_previous_round": None if earlier is None else len(resp & earlier),
                }
            )
    columns = registry.table("panel_flow").names
    return pd.DataFrame(rows, columns=columns).astype(
        {"responded_previous_round": "Int64", "response_rate_pct": "float64"}
    )


def london_definition(results: pd.DataFrame, statements: Statements | None, framework: Framework) -> pd.DataFrame:
    """The statements agreed ("in", everyone) in the final round, in the framework's order (no
    results: an empty table, and `statements` may be None)."""
    columns = registry.table("london_definition").names
    if results.empty or statements is None:
        return pd.DataFrame(columns=columns)
    final = int(results["round"].max())
    agreed = results[(results["round"] == final) & (results["panel_group"] == ALL) & (results["consensus"] == "in")]
    principle_order = {p.id: i for i, p in enumerate(framework.principles)}
    domain_order = {d.id: i for i, d in enumerate(framework.domains)}
    principle_names = {p.id: p.name for p in framework.principles}
    domain_names = {d.id: d.name for d in framework.domains}
    by_id = {s.id: s for s in statements.statements}
    rows = []
    for result in agreed.itertuples():
        statement = by_id[result.statement_id]
        rows.append(
            {
                "statement_id": statement.id,
                "statement_text": statement.text,
                "kind": statement.kind,
                "principle": statement.principle,
                "principle_name": principle_names.get(statement.principle),
                "domain": statement.domain,
                "domain_name": domain_names.get(statement.domain),
                "round": final,
                "n_rated": int(result.n_rated),
                "pct_top": result.pct_top,
                "median": result.median,
                "iqr": result.iqr,
                "stable": result.stable,
                "rewords": statement.rewords,
                "_order": (
                    0 if statement.principle else 1 if statement.domain else 2,
                    principle_order.get(statement.principle, domain_order.get(statement.domain, 0)),
                    statement.id,
                ),
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    order = sorted(range(len(frame)), key=lambda i: frame["_order"].iloc[i])
    frame = frame.iloc[order].drop(columns="_order").reset_index(drop=True)
    frame.insert(0, "position", range(1, len(frame) + 1))
    return frame[columns].astype({"stable": "boolean"})


def framework_links(agreed: pd.DataFrame, framework: Framework) -> pd.DataFrame:
    """`definition_framework_links`: framework items with their agreed statements (or none), and
    agreed statements that name no framework item."""
    rows = []
    for item_type, items, column in (
        ("principle", framework.principles, "principle"),
        ("domain", framework.domains, "domain"),
    ):
        for item in items:
            ids = sorted(agreed.loc[agreed[column] == item.id, "statement_id"]) if len(agreed) else []
            rows.append(
                {
                    "item_type": item_type,
                    "item_id": item.id,
                    "item_name": item.name,
                    "agreed_statements": ", ".join(ids),
                    "finding": "supported" if ids else "no agreed statement",
                }
            )
    if len(agreed):
        unplaced = agreed[agreed["principle"].isna() & agreed["domain"].isna()]
        for statement in unplaced.itertuples():
            rows.append(
                {
                    "item_type": "statement",
                    "item_id": statement.statement_id,
                    "item_name": statement.statement_text,
                    "agreed_statements": statement.statement_id,
                    "finding": "agreed statement with no place in the framework",
                }
            )
    return pd.DataFrame(rows, columns=registry.table("definition_framework_links").names)


def protocol_table(protocol: DefinitionProtocol) -> pd.DataFrame:
    """`definition_protocol`: the rules the results were judged by, one setting per row."""
    scale = protocol.scale
    consensus = protocol.consensus
    top = f"{scale.top[0]}-{scale.top[1]}"
    bottom = f"{scale.bottom[0]}-{scale.bottom[1]}"
    threshold = None
    if consensus.method == "bands":
        rule = consensus.band_rule()
        threshold = _plain(rule.in_top_min)
        agreed = f"at least {threshold}% rate it {top}" + (
            f" and at most {_plain(rule.in_bottom_max)}% rate it {bottom}" if rule.in_bottom_max is not None else ""
        )
        rejected = f"at least {_plain(rule.out_bottom_min)}% rate it {bottom}" + (
            f" and at most {_plain(rule.out_top_max)}% rate it {top}" if rule.out_top_max is not None else ""
        )
    else:
        agreed = f"the median rating is {top} and the panel does not disagree (RAND/UCLA: IPR not above IPRAS)"
        rejected = f"the median rating is {bottom} and the panel does not disagree"
    stability = (
        f"a result is stable when the top band's share moved by less than {_plain(protocol.stability.max_change_points)} "
        "percentage points since the round before"
        if protocol.stability.method == "percent_change"
        else f"a result is stable when Wilcoxon's signed-rank test (exact, two-sided) finds no shift at alpha = {protocol.stability.alpha}"
    )
    rows = [
        ("title", protocol.title),
        ("scale", f"{scale.minimum}-{scale.maximum}"),
        ("bottom_band", f"{scale.bottom[0]}-{scale.bottom[1]}"),
        ("middle_band", f"{scale.bottom[1] + 1}-{scale.top[0] - 1}"),
        ("top_band", f"{scale.top[0]}-{scale.top[1]}"),
        ("consensus_method", consensus.method),
        ("consensus_in", agreed),
        ("consensus_out", rejected),
        ("consensus_in_top_min_percent", threshold or ""),
        ("stability_method", protocol.stability.method),
        ("stability_rule", stability),
        ("min_group_panellists", str(protocol.panel.min_group_panellists)),
        ("invite", protocol.panel.invite),
        ("protocol_sha256", protocol.sha256),
    ]
    return pd.DataFrame(rows, columns=["setting", "value"])


def _plain(number) -> str:
    """70.0 -> 70, 66.7 -> 66.7."""
    value = float(number)
    return str(int(value)) if value == int(value) else str(value)
