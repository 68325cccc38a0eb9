"""Tables derived from the disclosure-controlled cells: change between waves, journey stages,
the borough partnership view and promising practice. They only ever read published values, so
they inherit the cells' suppression."""

from __future__ import annotations

import json
import math

import pandas as pd

from tipipeline import registry
from tipipeline.framework import Framework
from tipipeline.indicators.periods import SURVEY
from tipipeline.reference import Reference
from tipipeline.stats.comparison import change_significance
from tipipeline.stats.exact import Moments, cronbach_alpha_exact
from tipipeline.stats.intervals import newcombe_difference, welch_difference
from tipipeline.warehouse import sql_literal

KEY = ["indicator_id", "geography_level", "geography_code"]


def wave_pairs(waves: list[str]) -> list[tuple[str, str]]:
    """(earlier, later) pairs compared: each wave with the one before it, and with the baseline (first) wave."""
    consecutive = list(zip(waves, waves[1:]))
    against_baseline = [(waves[0], later) for later in waves[2:]]
    return consecutive + against_baseline


def indicator_changes(cells: pd.DataFrame, catalogue: pd.DataFrame, waves: list[str]) -> pd.DataFrame:
    """Change per indicator and geography, with a 95% CI of the change, between consecutive waves and
    between the baseline (first) wave and every later wave: later waves are measured against the baseline.

    Means: Welch's t interval of the difference; proportions: Newcombe's hybrid score interval.
    Significant when the interval excludes 0. Suppressed when either wave's cell is suppressed.
    `cells` must carry `sd` (kept internal; only the change and its CI are published).
    """
    measures = catalogue.set_index("indicator_id")["measure"]
    rows = []
    # Rows as dicts keyed by (indicator, level, code): a lookup per cell, not a pandas .loc.
    by_wave = {
        wave: {tuple(r[k] for k in KEY): r for r in group.to_dict("records")}
        for wave, group in cells.groupby("wave", sort=False)
    }
    for before, after in wave_pairs(waves):
        first, second = by_wave.get(before, {}), by_wave.get(after, {})
        for key in [k for k in first if k in second]:
            a, b = first[key], second[key]
            row = {
                "indicator_id": key[0],
                "geography_level": key[1],
                "geography_code": key[2],
                "geography_name": b["geography_name"],
                "sector": b["sector"],
                "from_wave": before,
                "to_wave": after,
            }
            if a["suppressed"] or b["suppressed"]:
                which = before if a["suppressed"] else after
                rows.append(
                    {
                        **row,
                        "change": math.nan,
                        "lower_ci": math.nan,
                        "upper_ci": math.nan,
                        "significance": "not tested",
                        "suppressed": True,
                        "suppression_reason": f"the {which} value is suppressed",
                    }
                )
                continue
            if measures[key[0]] == "mean":
                diff, low, high = welch_difference(a["value"], a["sd"], int(a["n"]), b["value"], b["sd"], int(b["n"]))
            else:
                diff, low, high = newcombe_difference(
                    int(a["numerator"]), int(a["n"]), int(b["numerator"]), int(b["n"])
                )
                diff, low, high = 100 * diff, 100 * low, 100 * high
            rows.append(
                {
                    **row,
                    "change": diff,
                    "lower_ci": low,
                    "upper_ci": high,
                    "significance": change_significance(low, high),
                    "suppressed": False,
                    "suppression_reason": None,
                }
            )
    return pd.DataFrame(
        rows,
        columns=registry.table("indicator_changes").names,
    )


def reliability_sql(value_denominator: int = 1, responses: str = "stg_responses") -> str:
    """Whole-number sums for Cronbach's alpha per wave and domain, over respondents who answered every
    item of the domain: per item and for the total score, n, the sum and the sum of squares (item scores
    in units of 1 / value_denominator). One row per wave x domain x item, plus item_id NULL for the total."""
    unit = int(value_denominator)
    return f"""
    WITH answers AS (
        SELECT wave, domain, respondent_id, item_id, CAST(round(scored_value * {unit}) AS BIGINT) AS units
        FROM {responses}
    ), items AS (
        SELECT wave, domain, count(DISTINCT item_id) AS k FROM answers GROUP BY wave, domain
    ), complete AS (
        SELECT a.wave, a.domain, a.respondent_id, sum(a.units) AS total
        FROM answers AS a JOIN items AS i USING (wave, domain)
        GROUP BY a.wave, a.domain, a.respondent_id, i.k
        HAVING count(a.units) = i.k
    ), parts AS (
        SELECT a.wave, a.domain, a.item_id, a.units AS x
        FROM answers AS a JOIN complete AS c USING (wave, domain, respondent_id)
        UNION ALL
        SELECT wave, domain, NULL AS item_id, total AS x FROM complete
    )
    SELECT i.wave, i.domain, i.k AS items, p.item_id, count(p.x) AS n,
           CAST(coalesce(sum(p.x), 0) AS VARCHAR) AS numerator_sum,
           CAST(coalesce(sum(CAST(p.x AS HUGEINT) * p.x), 0) AS VARCHAR) AS square_sum
    FROM items AS i LEFT JOIN parts AS p USING (wave, domain)
    GROUP BY i.wave, i.domain, i.k, p.item_id
"""


def wide_reliability_sql(answers: str, items: pd.DataFrame, value_denominator: int = 1) -> str:
    """`reliability_sql`'s rows from the wide answers (`v__<item>`, NULL when missing) in one
    aggregate pass: per wave, for each domain's complete respondents, each item's and the total's
    n, sum and sum of squares. `items`: item_id, domain, reverse, scale_min, scale_max."""
    unit = int(value_denominator)
    units, complete, columns, rows = {}, {}, [], []
    for item in items.itertuples():
        value = f'"v__{item.item_id}"'
        scored = f"({float(item.scale_min)!r} + {float(item.scale_max)!r} - {value})" if item.reverse else value
        units[item.item_id] = f"CAST(round({scored} * {unit}) AS BIGINT)"
    for d, (domain, group) in enumerate(items.groupby("domain", sort=True)):
        ids = list(group["item_id"])
        complete[domain] = " AND ".join(f'"v__{i}" IS NOT NULL' for i in ids)
        parts = [(None, " + ".join(units[i] for i in ids))] + [(i, units[i]) for i in ids]
        for p, (item_id, x) in enumerate(parts):
            name = f"d{d}_{p}"
            where = f"FILTER (WHERE {complete[domain]})"
            columns.append(
                f"count(*) {where} AS n_{name}, coalesce(sum({x}) {where}, 0) AS s_{name}, "
                f"coalesce(sum(CAST({x} AS HUGEINT) * ({x})) {where}, 0) AS q_{name}"
            )
            label = "NULL" if item_id is None else sql_literal(item_id)
            quoted_domain = sql_literal(domain)
            # An item's row only when the domain has complete respondents, as the long form's join gives.
            keep = "" if item_id is None else f" WHERE n_d{d}_0 > 0"
            rows.append(
                f"SELECT wave, {quoted_domain} AS domain, {len(ids)} AS items, {label} AS item_id, n_{name} AS n, "
                f"CAST(s_{name} AS VARCHAR) AS numerator_sum, CAST(q_{name} AS VARCHAR) AS square_sum FROM sums{keep}"
            )
    return f"WITH sums AS (SELECT wave, {', '.join(columns)} FROM {answers} GROUP BY wave)\n" + "\nUNION ALL ".join(
        rows
    )


def reliability(
    conn, value_denominator: int = 1, responses: str = "stg_responses", sums_sql: str | None = None
) -> pd.DataFrame:
    """Cronbach's alpha per domain per wave, from whole-number sums made in the warehouse (no item
    matrix in memory) and combined exactly (stats/exact.py): the same bits in any row order.
    `sums_sql`: the sums from the wide answers (`wide_reliability_sql`) instead of the long ones."""
    sums = conn.execute(sums_sql or reliability_sql(value_denominator, responses)).df()
    rows = []
    for (wave, domain, k), group in sums.groupby(["wave", "domain", "items"], sort=True):
        moments = {
            item: Moments().add(part.n, int(part.numerator_sum), int(part.square_sum))
            for item, part in zip(group["item_id"], group.itertuples())
        }
        total = next((m for item, m in moments.items() if item is None or pd.isna(item)), Moments())
        items = [m for item, m in moments.items() if not (item is None or pd.isna(item))]
        rows.append(
            {
                "wave": wave,
                "domain": domain,
                "items": int(k),
                "respondents_complete": total.n,
                "cronbach_alpha": cronbach_alpha_exact(int(k), items, total),
            }
        )
    frame = pd.DataFrame(rows, columns=registry.table("reliability").names)
    return frame.astype({"items": "int64", "respondents_complete": "int64", "cronbach_alpha": "float64"})


def policy_measures(policy_organisations: pd.DataFrame, framework: Framework) -> pd.DataFrame:
    """org_id -> the comprehensiveness and strength the stage rule uses (see stage_rule.policy_measure)."""
    if framework.stage_rule.policy_measure == "mean_document":
        columns = {
            "mean_document_comprehensiveness": "policy_comprehensiveness",
            "mean_document_strength": "policy_strength",
        }
    else:
        columns = {"comprehensiveness": "policy_comprehensiveness", "strength": "policy_strength"}
    return policy_organisations.rename(columns=columns)[["org_id", *columns.values()]].set_index("org_id")


def stage_for(mean: float, agree: float, comprehensiveness: float, strength: float, framework: Framework) -> int:
    """The highest stage whose conditions, and every lower stage's, hold (0 when none does).

    The comparisons are exact: every value is the float nearest to an exact fraction (means and
    percentages from whole-number sums, stats/exact.py; policy percentages from counts), and a
    threshold is the float nearest to its decimal, so a value equal to a threshold compares equal,
    and one that differs from it does so by far more than rounding could bridge (denominators are
    counts of respondents and items)."""
    stage = 0
    for threshold in framework.stage_rule.thresholds:
        checks = [
            (threshold.min_mean_score, mean),
            (threshold.min_percent_agree, agree),
            (threshold.min_policy_comprehensiveness, comprehensiveness),
            (threshold.min_policy_strength, strength),
        ]
        if all(
            minimum is None or (value is not None and not math.isnan(value) and value >= minimum)
            for minimum, value in checks
        ):
            stage = threshold.level
        else:
            break
    return stage


def journey(
    cells: pd.DataFrame,
    policy_organisations: pd.DataFrame,
    framework: Framework,
    reference: Reference,
    waves: list[str],
) -> pd.DataFrame:
    """A stage per organisation x domain x wave, or 'Insufficient evidence', with the evidence."""
    stages = {s.level: s for s in framework.stages}
    rule = framework.stage_rule
    policy = policy_measures(policy_organisations, framework) if len(policy_organisations) else pd.DataFrame()
    org_cells = cells[cells["geography_level"] == "organisation"].set_index(["indicator_id", "geography_code", "wave"])
    rows = []
    for org in reference.organisations.itertuples():
        has_policy = org.org_id in policy.index
        comprehensiveness = float(policy.loc[org.org_id, "policy_comprehensiveness"]) if has_policy else math.nan
        strength = float(policy.loc[org.org_id, "policy_strength"]) if has_policy else math.nan
        for domain in framework.domains:
            for wave in waves:
                mean_cell = (
                    org_cells.loc[(f"domain_mean_{domain.id}", org.org_id, wave)]
                    if (f"domain_mean_{domain.id}", org.org_id, wave) in org_cells.index
                    else None
                )
                agree_cell = (
                    org_cells.loc[(f"domain_agree_{domain.id}", org.org_id, wave)]
                    if (f"domain_agree_{domain.id}", org.org_id, wave) in org_cells.index
                    else None
                )
                row = {
                    "org_id": org.org_id,
                    "organisation": org.name,
                    "sector": org.sector,
                    "domain": domain.id,
                    "domain_name": domain.name,
                    "wave": wave,
                    "policy_comprehensiveness": comprehensiveness,
                    "policy_strength": strength,
                }
                policy_text = (
                    f"policy comprehensiveness {comprehensiveness:.0f}%, strength {strength:.0f}%"
                    if has_policy
                    else "no policy audit"
                )
                if (
                    mean_cell is None
                    or agree_cell is None
                    or bool(mean_cell["suppressed"])
                    or bool(agree_cell["suppressed"])
                    or pd.isna(mean_cell["n"])
                    or int(mean_cell["n"]) < rule.min_respondents
                ):
                    why = _insufficient_reason(mean_cell, agree_cell, rule.min_respondents)
                    rows.append(
                        {
                            **row,
                            "stage_level": None,
                            "stage": rule.insufficient_evidence_label,
                            "score": math.nan,
                            "percent_agree": math.nan,
                            "n": None,
                            "evidence": f"{why}; {policy_text}",
                            "next_step": "Collect enough evidence: encourage staff to take part in the next wave.",
                        }
                    )
                    continue
                mean, agree, n = float(mean_cell["value"]), float(agree_cell["value"]), int(mean_cell["n"])
                level = stage_for(mean, agree, comprehensiveness, strength, framework)
                rows.append(
                    {
                        **row,
                        "stage_level": level,
                        "stage": stages[level].name,
                        "score": mean,
                        "percent_agree": agree,
                        "n": n,
                        "evidence": f"mean score {mean:.2f} (n={n}), {agree:.0f}% agreeing; {policy_text}",
                        "next_step": stages[level].next_step,
                    }
                )
    frame = pd.DataFrame(rows)
    frame["stage_level"] = frame["stage_level"].astype("Int64")
    frame["n"] = frame["n"].astype("Int64")
    return frame[registry.table("journey").names]


def _insufficient_reason(mean_cell, agree_cell, min_respondents: int) -> str:
    """Why a journey stage cannot be given, in words that match the published suppression reason."""
    if mean_cell is None or agree_cell is None:
        return "no survey responses"
    for cell in (mean_cell, agree_cell):
        if bool(cell["suppressed"]):
            return f"survey result suppressed ({cell['suppression_reason']})"
    return f"fewer than {min_respondents} respondents"


def journey_summary(journey_table: pd.DataFrame) -> pd.DataFrame:
    """How many organisations are at each stage, per wave, sector and domain (counts of organisations)."""
    summary = (
        journey_table.groupby(["wave", "sector", "domain", "stage_level", "stage"], dropna=False)
        .size()
        .rename("organisations")
        .reset_index()
    )
    return summary.sort_values(["wave", "sector", "domain", "stage_level"], na_position="first").reset_index(drop=True)


def borough_partnership(cells: pd.DataFrame, reference: Reference, indicator_ids: list[str]) -> pd.DataFrame:
    """Per borough, wave and indicator: its council's, its BCU's and its ICB's values side by side.

    `cells`: survey cells (a wave's `survey_indicators`; rows of the `indicators` table are taken
    only where source = 'survey')."""
    if "source" in cells.columns:
        cells = cells[cells["source"] == SURVEY]
    boroughs = reference.boroughs_at()
    lookup = cells.set_index(["indicator_id", "geography_level", "geography_code", "wave"])
    waves = sorted(set(cells["wave"]))
    rows = []

    def side(indicator, level, code, wave, prefix):
        key = (indicator, level, code, wave)
        if code is None or (isinstance(code, float) and math.isnan(code)):
            return {
                f"{prefix}_value": math.nan,
                f"{prefix}_n": None,
                f"{prefix}_suppressed": False,
                f"{prefix}_note": "not applicable",
            }
        if key not in lookup.index:
            return {
                f"{prefix}_value": math.nan,
                f"{prefix}_n": None,
                f"{prefix}_suppressed": False,
                f"{prefix}_note": "no data",
            }
        cell = lookup.loc[key]
        return {
            f"{prefix}_value": cell["value"],
            f"{prefix}_n": cell["n"],
            f"{prefix}_suppressed": bool(cell["suppressed"]),
            f"{prefix}_note": cell["suppression_reason"] if bool(cell["suppressed"]) else cell["comparison"],
        }

    for borough in boroughs.itertuples():
        bcu = borough.bcu_code if isinstance(borough.bcu_code, str) else None
        for wave in waves:
            for indicator in indicator_ids:
                row = {
                    "borough_code": borough.gss_code,
                    "borough_name": borough.name,
                    "wave": wave,
                    "indicator_id": indicator,
                    "bcu_code": bcu,
                    "icb_code": borough.icb_code,
                }
                row.update(side(indicator, "borough", borough.gss_code, wave, "council"))
                row.update(side(indicator, "bcu", bcu, wave, "police"))
                if bcu is None:
                    row["police_note"] = "City of London Police (not in scope)"
                row.update(side(indicator, "icb", borough.icb_code, wave, "health"))
                rows.append(row)
    frame = pd.DataFrame(rows)
    for prefix in ("council", "police", "health"):
        frame[f"{prefix}_n"] = frame[f"{prefix}_n"].astype("Int64")
    return frame


def promising_practice(
    cells: pd.DataFrame, documents: pd.DataFrame, framework: Framework, reference: Reference, waves: list[str]
) -> pd.DataFrame:
    """Per organisation: candidate policy documents and the latest wave's % willing to share."""
    rule = framework.promising_practice
    latest = waves[-1] if waves else None
    share = cells[
        (cells["indicator_id"] == "willing_to_share")
        & (cells["geography_level"] == "organisation")
        & (cells["wave"] == latest)
    ].set_index("geography_code")
    rows = []
    for org in reference.organisations.itertuples():
        docs = (
            documents[(documents["org_id"] == org.org_id) & documents["promising_practice_candidate"]]
            if len(documents)
            else documents
        )
        titles = sorted(docs["document_title"].tolist()) if len(docs) else []
        cell = share.loc[org.org_id] if org.org_id in share.index else None
        suppressed = bool(cell["suppressed"]) if cell is not None else False
        percent = float(cell["value"]) if cell is not None and not suppressed else math.nan
        candidate = (
            len(titles) >= rule.min_candidate_documents
            and not math.isnan(percent)
            and percent >= rule.min_percent_willing_to_share
        )
        if candidate:
            reason = (
                f"{len(titles)} candidate document(s) and {percent:.0f}% of staff willing to share "
                f"(thresholds {rule.min_candidate_documents} and {rule.min_percent_willing_to_share:g}%)"
            )
        elif suppressed:
            reason = "willingness to share is suppressed (disclosure control)"
        elif cell is None:
            reason = "no survey responses in the latest wave"
        else:
            reason = "below the thresholds"
        rows.append(
            {
                "org_id": org.org_id,
                "organisation": org.name,
                "sector": org.sector,
                "wave": latest,
                "candidate_documents": len(titles),
                "candidate_document_titles": json.dumps(titles),
                "percent_willing_to_share": percent,
                "willing_to_share_suppressed": suppressed,
                "promising_practice_candidate": bool(candidate),
                "reason": reason,
            }
        )
    return pd.DataFrame(rows)
