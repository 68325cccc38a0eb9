"""Charts for the report: the journey, change between waves, and the data-quality funnel.

Each returns (figure, alt text, data table); the table is shown beside the image in the report.
Colours are the Analysis Function palettes; categories are labelled, never told by colour alone.
Figures are `REPORT_WIDTH` wide with constrained layout: long category labels are wrapped and the
margins made from the labels' drawn size, legends sit outside the axes, and no text is below
`MIN_FONTSIZE` (see tipipeline.viz.style).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tipipeline.viz.style import (
    CATEGORICAL,
    MIN_FONTSIZE,
    NO_DATA_STYLE,
    REPORT_WIDTH,
    SEQUENTIAL,
    TEXT,
    figure,
    legend,
    styled,
    wrap_label,
)

STAGE_COLOURS = {0: "#ADD1F1", 1: "#6BACE6", 2: "#2073BC", 3: "#12436D", 4: "#092135"}
INSUFFICIENT = "Insufficient evidence"
SECTOR_NAMES = {"council": "Councils (33)", "police": "Metropolitan Police (1)", "health": "ICBs (5)"}
LABEL_WIDTH = 24  # characters per line of a category label


def _title(fig, text: str) -> None:
    fig.suptitle(text, x=0.01, ha="left", fontsize=12, fontweight="bold", color=TEXT)


def in_framework_order(domains: set[str], domain_names: dict[str, str]) -> list[str]:
    """Domains in the framework's order (the order of `domain_names`), any unknown ones after, by id."""
    known = [d for d in domain_names if d in domains]
    return known + sorted(domains - set(known))


def journey_chart(summary: pd.DataFrame, wave: str, stages: pd.DataFrame, domain_names: dict[str, str]):
    """Stacked bars: organisations at each stage, per domain, one panel per sector."""
    data = summary[summary["wave"] == wave].copy()
    data["stage_level"] = pd.to_numeric(data["stage_level"], errors="coerce").astype("float")
    sectors = [s for s in ("council", "police", "health") if s in set(data["sector"])]
    domains = in_framework_order(set(data["domain"]), domain_names)
    ordered = stages.assign(level=stages["level"].astype(int)).sort_values("level")
    names = dict(zip(ordered["level"], ordered["name"]))
    insufficient = data.loc[data["stage_level"].isna(), "stage"]
    insufficient_name = insufficient.iloc[0] if len(insufficient) else INSUFFICIENT
    levels = [*names, None]  # journey order, then insufficient evidence
    with styled():
        fig = figure(REPORT_WIDTH, 1.9 + 0.42 * len(domains), layout="constrained")
        axes = fig.subplots(1, max(len(sectors), 1), sharey=True, squeeze=False)[0]
        for ax, sector in zip(axes, sectors):
            block = data[data["sector"] == sector]
            left = np.zeros(len(domains))
            total = np.array([block[block["domain"] == d]["organisations"].sum() for d in domains], dtype=float)
            for level in levels:
                chosen = block["stage_level"].isna() if level is None else block["stage_level"] == level
                counts = np.array([block[chosen & (block["domain"] == d)]["organisations"].sum() for d in domains])
                share = np.divide(counts.astype(float), total, out=np.zeros(len(domains)), where=total > 0) * 100
                style = (
                    {"color": STAGE_COLOURS[level % len(STAGE_COLOURS)], "edgecolor": "white"}
                    if level is not None
                    else {
                        "facecolor": NO_DATA_STYLE["facecolor"],
                        "hatch": NO_DATA_STYLE["hatch"],
                        "edgecolor": "#707070",
                    }
                )
                ax.barh(
                    range(len(domains)),
                    share,
                    left=left,
                    height=0.7,
                    label=(names[level] if level is not None else insufficient_name) if ax is axes[0] else None,
                    linewidth=0.5,
                    **style,
                )
                left += share
            ax.set_title(SECTOR_NAMES.get(sector, sector), fontsize=10.5, color=TEXT)
            ax.set_xlim(0, 100)
            ax.set_xticks([0, 25, 50, 75, 100])  # room between panels: no '100' meeting the next '0'
            ax.set_xlabel("% of organisations")
        axes[0].set_yticks(range(len(domains)), [wrap_label(domain_names.get(d, d), LABEL_WIDTH) for d in domains])
        axes[0].set_ylim(len(domains) - 0.5, -0.5)  # first domain at the top
        fig.get_layout_engine().set(wspace=0.06)
        legend(fig, ncol=len(levels))
        _title(fig, f"Journey stage by domain and sector, wave {wave}")
    stage_columns = [names[level] for level in names] + [insufficient_name]
    stage_columns += sorted(set(data["stage"]) - set(stage_columns))
    table = (
        data.pivot_table(index=["sector", "domain"], columns="stage", values="organisations", aggfunc="sum")
        .reindex(columns=stage_columns)
        .fillna(0)
        .astype(int)
    )
    order = [(s, d) for s in sectors for d in domains if (s, d) in table.index]
    table = table.reindex(order).reset_index()  # rows in the chart's order: sector panels, then domains
    table.columns.name = None
    table["domain"] = table["domain"].map(lambda d: domain_names.get(d, d))
    furthest = data.dropna(subset=["stage_level"]).sort_values("stage_level")
    alt = (
        f"Stacked bar chart of the share of organisations at each journey stage, for each of the "
        f"{len(domains)} domains, in {len(sectors)} panels by sector, wave {wave}. The full counts are in the table below."
    )
    if len(furthest):
        top = furthest.iloc[-1]
        alt += f" The furthest stage reached is {names[int(top['stage_level'])]}."
    return fig, alt, table


def _pair(changes: pd.DataFrame, from_wave: str | None, to_wave: str) -> pd.DataFrame:
    """One row per indicator of the change from `from_wave` to `to_wave` (empty if not published)."""
    if from_wave is None or changes.empty:
        return changes.iloc[0:0].set_index("indicator_id")
    rows = changes[(changes["from_wave"] == from_wave) & (changes["to_wave"] == to_wave)]
    return rows.drop_duplicates("indicator_id", keep="last").set_index("indicator_id")


def _change_columns(pair: pd.DataFrame, domains: list[str], suffix: str = "") -> pd.DataFrame:
    """change, lower_ci, upper_ci and significance (each + `suffix`) of a pair, in `domains` order."""
    rows = pair.reindex([f"domain_mean_{d}" for d in domains])
    return pd.DataFrame(
        {
            f"change{suffix}": rows["change"].round(3).to_numpy(),
            f"lower_ci{suffix}": rows["lower_ci"].round(3).to_numpy(),
            f"upper_ci{suffix}": rows["upper_ci"].round(3).to_numpy(),
            f"significance{suffix}": rows["significance"].to_numpy(),
        }
    )


def _pair_withheld(pair: pd.DataFrame, domains: list[str]) -> np.ndarray:
    flags = pair.reindex([f"domain_mean_{d}" for d in domains])["suppressed"]
    return flags.fillna(False).astype(bool).to_numpy()


def change_chart(changes: pd.DataFrame, indicators: pd.DataFrame, domain_names: dict[str, str]):
    """London's domain mean scores in each wave, with 95% CIs, and whether the change is significant.

    The mark beside a domain is the change since the previous wave (previous wave -> latest); the
    table also gives the change since the first wave (the baseline) when there are three or more."""
    london = indicators[
        (indicators["geography_level"] == "london")
        & indicators["indicator_id"].str.startswith("domain_mean_")
        & (indicators["source"] == "survey")
    ].copy()
    london["domain"] = london["indicator_id"].str.removeprefix("domain_mean_")
    waves = sorted(set(london["wave"]))
    domains = in_framework_order(set(london["domain"]), domain_names)
    latest = waves[-1] if waves else None
    previous = waves[-2] if len(waves) > 1 else None
    first = waves[0] if len(waves) > 2 else None  # with two waves the baseline is the previous wave
    significance = changes[
        (changes["geography_level"] == "london") & changes["indicator_id"].str.startswith("domain_mean_")
    ]
    last_pair = _pair(significance, previous, latest)
    baseline_pair = _pair(significance, first, latest)
    marks = {"significant increase": " (up*)", "significant decrease": " (down*)"}
    labels = []
    for domain in domains:
        indicator = f"domain_mean_{domain}"
        note = marks.get(last_pair["significance"].get(indicator), "") if len(last_pair) else ""
        labels.append(domain_names.get(domain, domain) + note)
    with styled():
        fig = figure(REPORT_WIDTH, 1.9 + 0.42 * len(domains), layout="constrained")
        ax = fig.subplots()
        markers = ["o", "s", "^", "D", "v", "P"]
        for index, wave in enumerate(waves):
            rows = london[london["wave"] == wave].set_index("domain").reindex(domains)
            offset = (index - (len(waves) - 1) / 2) * min(0.22, 0.66 / len(waves))
            ax.errorbar(
                rows["value"],
                np.arange(len(domains)) + offset,
                xerr=[rows["value"] - rows["lower_ci"], rows["upper_ci"] - rows["value"]],
                fmt=markers[index % len(markers)],
                color=CATEGORICAL[index % len(CATEGORICAL)],
                capsize=2,
                label=f"Wave {wave}",
                markersize=5,
            )
        ax.set_yticks(range(len(domains)), [wrap_label(label, LABEL_WIDTH) for label in labels])
        ax.set_ylim(len(domains) - 0.5, -0.5)
        ax.set_xlabel("Mean score, London (1 = strongly disagree, 5 = strongly agree), with 95% CI")
        ax.grid(axis="x", color="#DDDDDD", linewidth=0.6)
        ax.set_axisbelow(True)
        legend(fig, ncol=max(len(waves), 1))  # below the plot, clear of the data
        _title(fig, "Change between waves: London's domain scores")
        if previous is not None:
            ax.set_title(
                f"* the 95% confidence interval of the change since wave {previous} excludes zero (Welch's t).",
                loc="left",
                fontsize=MIN_FONTSIZE + 0.5,
                color=TEXT,
            )
    table = london.pivot(index="domain", columns="wave", values="value").reindex(domains).round(2)
    withheld = london.pivot(index="domain", columns="wave", values="suppressed").reindex(domains)
    table = table.rename(columns=lambda w: f"Wave {w}").reset_index()
    table.columns.name = None
    table["domain"] = table["domain"].map(lambda d: domain_names.get(d, d))
    flags = withheld.fillna(False).astype(bool).any(axis=1).to_numpy()
    for pair, suffix in ((last_pair, ""), (baseline_pair, "_since_baseline")):
        # since the previous wave; then, with three or more waves, since the first (the baseline)
        if len(pair):
            table = pd.concat([table, _change_columns(pair, domains, suffix)], axis=1)
            flags = flags | _pair_withheld(pair, domains)
    table["withheld"] = flags  # a row with a withheld value: the report shows [c], not a blank
    ups = sum("(up*)" in label for label in labels)
    downs = sum("(down*)" in label for label in labels)
    alt = (
        f"Dot plot of London's mean score in each of the {len(domains)} domains for waves {', '.join(waves)}, "
        f"with 95% confidence intervals."
    )
    if previous is not None:
        alt += (
            f" Since wave {previous}, {ups} domain(s) increased and {downs} decreased significantly "
            f"(marked up* and down*)."
        )
    alt += " The table below gives the values."
    return fig, alt, table


def funnel_chart(quality: pd.DataFrame):
    """Rows read, then excluded, quarantined and accepted, per survey wave.

    A wave any of whose files has its counts withheld (disclosure control) is shown as withheld,
    never as a total of the files that are left, nor as zero."""
    columns = ["rows_read", "rows_excluded", "rows_quarantined", "rows_accepted"]
    survey = quality[quality["source"] == "survey"]
    survey = survey.groupby("wave")[columns].agg(lambda s: s.sum() if s.notna().all() else pd.NA).astype("Int64")
    steps = [
        ("rows_read", "Read", SEQUENTIAL[4]),
        ("rows_excluded", "Excluded by rule", CATEGORICAL[3]),
        ("rows_quarantined", "Quarantined", CATEGORICAL[2]),
        ("rows_accepted", "Accepted", CATEGORICAL[1]),
    ]
    height = 0.2
    with styled():
        fig = figure(REPORT_WIDTH, 1.7 + 1.4 * max(len(survey), 1), layout="constrained")
        ax = fig.subplots()
        largest = survey["rows_read"].max() if survey["rows_read"].notna().any() else 1
        for w, (_, row) in enumerate(survey.iterrows()):
            if row.isna().any():
                ax.annotate(
                    "Counts withheld (disclosure control)",
                    (0, w),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=MIN_FONTSIZE + 0.5,
                    color=TEXT,
                )
                continue
            for s, (column, label, colour) in enumerate(steps):
                y = w + (s - 1.5) * height
                ax.barh(y, row[column], height=height * 0.9, color=colour, label=label if w == 0 else None)
                ax.annotate(
                    f"{label}: {int(row[column]):,}",
                    (row[column], y),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=MIN_FONTSIZE + 0.5,
                    color=TEXT,
                )
        ax.set_yticks(range(len(survey)), [f"Wave {w}" for w in survey.index])
        ax.set_ylim(len(survey) - 0.5, -0.5)
        ax.set_xlim(0, largest * 1.3)
        ax.set_xlabel("Survey rows")
        # Every bar is labelled with its step, so no legend is needed.
        _title(fig, "From rows read to rows accepted")
    table = survey.reset_index().rename(
        columns={
            "wave": "Wave",
            "rows_read": "Read",
            "rows_excluded": "Excluded",
            "rows_quarantined": "Quarantined",
            "rows_accepted": "Accepted",
        }
    )
    table.columns.name = None

    def describe(r) -> str:
        if pd.isna(r.Read) or pd.isna(r.Accepted):
            return f"wave {r.Wave}: counts withheld"
        return (
            f"wave {r.Wave}: {r.Read:,} read, {r.Excluded:,} excluded, {r.Quarantined:,} quarantined, "
            f"{r.Accepted:,} accepted"
        )

    alt = (
        "Bar chart of survey rows read, excluded, quarantined and accepted per wave: "
        + "; ".join(describe(r) for r in table.itertuples())
        + "."
    )
    table["withheld"] = table[["Read", "Excluded", "Quarantined", "Accepted"]].isna().any(axis=1)
    return fig, alt, table
