"""Charts for the report: the journey, change between waves, and the data-quality funnel.

Each returns (figure, alt text, data table); the table is shown beside the image in the report.
Colours are the Analysis Function palettes; categories are labelled, never told by colour alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tipipeline.viz.style import CATEGORICAL, NO_DATA_STYLE, SEQUENTIAL, TEXT, figure

STAGE_COLOURS = {0: "#ADD1F1", 1: "#6BACE6", 2: "#2073BC", 3: "#12436D", 4: "#092135"}


def journey_chart(summary: pd.DataFrame, wave: str, stages: pd.DataFrame, domain_names: dict[str, str]):
    """Stacked bars: organisations at each stage, per domain, one panel per sector."""
    data = summary[summary["wave"] == wave].copy()
    data["stage_level"] = data["stage_level"].astype("float")
    sectors = [s for s in ("council", "police", "health") if s in set(data["sector"])]
    sector_names = {"council": "Councils (33)", "police": "Metropolitan Police (1)", "health": "ICBs (5)"}
    domains = sorted(set(data["domain"]), key=lambda d: domain_names.get(d, d))
    fig = figure(11.5, 6.4)
    axes = fig.subplots(1, len(sectors), sharey=True, squeeze=False)[0]
    levels = [*stages["level"].tolist(), None]
    names = dict(zip(stages["level"], stages["name"]))
    for ax, sector in zip(axes, sectors):
        block = data[data["sector"] == sector]
        left = np.zeros(len(domains))
        for level in levels:
            counts = np.array(
                [
                    block[
                        (block["domain"] == d)
                        & ((block["stage_level"] == level) if level is not None else block["stage_level"].isna())
                    ]["organisations"].sum()
                    for d in domains
                ],
                dtype=float,
            )
            total = np.array([block[block["domain"] == d]["organisations"].sum() for d in domains], dtype=float)
            share = np.divide(counts, total, out=np.zeros_like(counts), where=total > 0) * 100
            style = (
                {"color": STAGE_COLOURS[level], "edgecolor": "white"}
                if level is not None
                else {"facecolor": NO_DATA_STYLE["facecolor"], "hatch": NO_DATA_STYLE["hatch"], "edgecolor": "#707070"}
            )
            ax.barh(
                range(len(domains)),
                share,
                left=left,
                height=0.7,
                label=names.get(level, "Insufficient evidence") if ax is axes[0] else None,
                linewidth=0.5,
                **style,
            )
            left += share
        ax.set_title(sector_names[sector], fontsize=10, color=TEXT)
        ax.set_xlim(0, 100)
        ax.set_xlabel("% of organisations")
        ax.invert_yaxis()
    axes[0].set_yticks(range(len(domains)), [domain_names.get(d, d) for d in domains])
    fig.legend(loc="lower center", ncol=6, frameon=False, fontsize=8)
    fig.suptitle(f"Journey stage by domain and sector, wave {wave}", x=0.01, ha="left", fontsize=12, fontweight="bold")
    fig.subplots_adjust(left=0.22, right=0.98, top=0.88, bottom=0.17, wspace=0.08)
    table = data.pivot_table(
        index=["sector", "domain"], columns="stage", values="organisations", aggfunc="sum", fill_value=0
    ).reset_index()
    table["domain"] = table["domain"].map(domain_names)
    furthest = data.dropna(subset=["stage_level"]).sort_values("stage_level")
    alt = (
        f"Stacked bar chart of the share of organisations at each journey stage, for each of the "
        f"{len(domains)} domains, in {len(sectors)} panels by sector, wave {wave}. The full counts are in the table below."
    )
    if len(furthest):
        top = furthest.iloc[-1]
        alt += f" The furthest stage reached is {names[int(top['stage_level'])]}."
    return fig, alt, table


def change_chart(changes: pd.DataFrame, indicators: pd.DataFrame, domain_names: dict[str, str]):
    """London's domain mean scores in each wave, with 95% CIs, and whether the change is significant."""
    london = indicators[
        (indicators["geography_level"] == "london")
        & indicators["indicator_id"].str.startswith("domain_mean_")
        & (indicators["wave"] != "policy_audit")
    ].copy()
    london["domain"] = london["indicator_id"].str.removeprefix("domain_mean_")
    waves = sorted(set(london["wave"]))
    domains = sorted(set(london["domain"]), key=lambda d: domain_names.get(d, d))
    fig = figure(9.5, 6.0)
    ax = fig.subplots()
    markers = ["o", "s", "^", "D", "v", "P"]
    for index, wave in enumerate(waves):
        rows = london[london["wave"] == wave].set_index("domain").reindex(domains)
        offset = (index - (len(waves) - 1) / 2) * 0.22
        y = np.arange(len(domains)) + offset
        ax.errorbar(
            rows["value"],
            y,
            xerr=[rows["value"] - rows["lower_ci"], rows["upper_ci"] - rows["value"]],
            fmt=markers[index % len(markers)],
            color=CATEGORICAL[index % len(CATEGORICAL)],
            capsize=2,
            label=f"Wave {wave}",
            markersize=5,
        )
    significance = changes[
        (changes["geography_level"] == "london") & changes["indicator_id"].str.startswith("domain_mean_")
    ]
    labels = []
    for domain in domains:
        rows = significance[significance["indicator_id"] == f"domain_mean_{domain}"]
        note = (
            ""
            if rows.empty
            else {"significant increase": " (up*)", "significant decrease": " (down*)"}.get(
                rows["significance"].iloc[-1], ""
            )
        )
        labels.append(domain_names.get(domain, domain) + note)
    ax.set_yticks(range(len(domains)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("Mean score, London (1 = strongly disagree, 5 = strongly agree), with 95% CI")
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(loc="lower right", frameon=False)
    fig.suptitle("Change between waves: London's domain scores", x=0.01, ha="left", fontsize=12, fontweight="bold")
    fig.text(0.01, 0.915, "* the 95% confidence interval of the change excludes zero (Welch's t).", fontsize=8)
    fig.subplots_adjust(left=0.32, right=0.97, top=0.88, bottom=0.1)
    table = london.pivot(index="domain", columns="wave", values="value").reindex(domains).round(2).reset_index()
    table["domain"] = table["domain"].map(domain_names)
    if len(significance):
        last = significance.sort_values("to_wave").drop_duplicates("indicator_id", keep="last")
        last = last.assign(domain=last["indicator_id"].str.removeprefix("domain_mean_").map(domain_names))
        table = table.merge(
            last[["domain", "change", "lower_ci", "upper_ci", "significance"]].round(3), on="domain", how="left"
        )
    ups = sum("(up*)" in label for label in labels)
    alt = (
        f"Dot plot of London's mean score in each of the {len(domains)} domains for waves {', '.join(waves)}, "
        f"with 95% confidence intervals. {ups} domain(s) increased significantly. The table below gives the values."
    )
    return fig, alt, table


def funnel_chart(quality: pd.DataFrame):
    """Rows read, then excluded, quarantined and accepted, per survey wave."""
    survey = (
        quality[quality["source"] == "survey"]
        .groupby("wave")[["rows_read", "rows_excluded", "rows_quarantined", "rows_accepted"]]
        .sum()
    )
    fig = figure(9.0, 1.4 + 1.1 * len(survey))
    ax = fig.subplots()
    steps = [
        ("rows_read", "Read", SEQUENTIAL[4]),
        ("rows_excluded", "Excluded by rule", CATEGORICAL[3]),
        ("rows_quarantined", "Quarantined", CATEGORICAL[2]),
        ("rows_accepted", "Accepted", CATEGORICAL[1]),
    ]
    height = 0.18
    for w, (_, row) in enumerate(survey.iterrows()):
        for s, (column, label, colour) in enumerate(steps):
            y = w + (s - 1.5) * height
            ax.barh(y, row[column], height=height * 0.9, color=colour, label=label if w == 0 else None)
            ax.annotate(
                f"{label}: {int(row[column]):,}",
                (row[column], y),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=7.5,
                color=TEXT,
            )
    ax.set_yticks(range(len(survey)), [f"Wave {w}" for w in survey.index])
    ax.invert_yaxis()
    ax.set_xlim(0, survey["rows_read"].max() * 1.35)
    ax.set_xlabel("Survey rows")
    fig.legend(loc="lower center", ncol=4, frameon=False, fontsize=7.5)
    fig.suptitle("From rows read to rows accepted", x=0.01, ha="left", fontsize=12, fontweight="bold")
    fig.subplots_adjust(left=0.14, right=0.97, top=0.85, bottom=0.3)
    table = survey.reset_index().rename(
        columns={
            "wave": "Wave",
            "rows_read": "Read",
            "rows_excluded": "Excluded",
            "rows_quarantined": "Quarantined",
            "rows_accepted": "Accepted",
        }
    )
    alt = (
        "Bar chart of survey rows read, excluded, quarantined and accepted per wave: "
        + "; ".join(
            f"wave {r.Wave}: {r.Read:,} read, {r.Excluded:,} excluded, {r.Quarantined:,} quarantined, {r.Accepted:,} accepted"
            for r in table.itertuples()
        )
        + "."
    )
    return fig, alt, table
