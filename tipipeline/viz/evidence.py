"""Charts of the evidence base: a funnel plot of outcome rates against residents, and the council's
trauma-informed practice index against the borough's rate.

Each returns (figure, alt text, data table), like tipipeline.viz.charts. Both are descriptive:
the scatter's subtitle says the correlation is ecological and never causal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from tipipeline.viz.outcome_maps import COMPARISON_CLASSES
from tipipeline.viz.style import CATEGORICAL, MIN_FONTSIZE, REPORT_WIDTH, TEXT, figure, legend, styled

# The outcome maps' colours, so one colour means one thing across the section: a rate below
# London's funnel is better (lower is better for violence), above it worse, inside it similar.
FUNNEL_CLASSES = [
    ("inside", "Inside the 95% limits", COMPARISON_CLASSES["similar"][1], "o"),
    ("below 95", "Below the 95% limits", COMPARISON_CLASSES["better"][1], "s"),
    ("below 998", "Below the 99.8% limits", COMPARISON_CLASSES["better"][1], "D"),
    ("above 95", "Above the 95% limits", COMPARISON_CLASSES["worse"][1], "s"),
    ("above 998", "Above the 99.8% limits", COMPARISON_CLASSES["worse"][1], "D"),
]


def _title(fig, ax, text: str, subtitle: str) -> None:
    """A bold title over the figure and a subtitle over the axes (constrained layout keeps them apart)."""
    fig.suptitle(text, x=0.01, ha="left", fontsize=12, fontweight="bold", color=TEXT)
    ax.set_title(subtitle, loc="left", fontsize=MIN_FONTSIZE + 0.5, color=TEXT)


# Where a label may go, in points from its marker: right, left, above, below, then the diagonals.
OFFSETS = [(5, -4), (-5, -4), (0, 6), (0, -14), (5, 6), (-5, 6), (5, -14), (-5, -14)]


def place_labels(fig, ax, xs, ys, texts) -> None:
    """Label each point, trying OFFSETS in turn for the first place that overlaps no label already
    placed and no other marker (else the first place); deterministic for the same inputs."""
    fig.canvas.draw()  # settle the layout first: places are measured in pixels
    renderer = fig.canvas.get_renderer()
    points = ax.transData.transform(np.column_stack([np.asarray(xs, float), np.asarray(ys, float)])).tolist()
    anchors = dict(zip(map(tuple, points), zip(xs, ys)))
    taken = []

    def put(anchor, text, dx, dy):
        ha = "right" if dx < 0 else ("center" if dx == 0 else "left")
        label = ax.annotate(
            text, anchor, xytext=(dx, dy), textcoords="offset points", fontsize=MIN_FONTSIZE, color=TEXT, ha=ha
        )
        return label, label.get_window_extent(renderer).expanded(1.05, 1.15)

    for (x, y), text in sorted(zip(map(tuple, points), texts), key=lambda item: (-item[0][1], item[0][0])):
        for dx, dy in OFFSETS:
            label, box = put(anchors[(x, y)], text, dx, dy)
            others = (p for p in points if tuple(p) != (x, y))
            inside = ax.bbox.contains(box.x0, box.y0) and ax.bbox.contains(box.x1, box.y1)
            if inside and not any(box.overlaps(t) for t in taken) and not any(box.contains(*p) for p in others):
                break
            label.remove()
        else:  # nowhere clear: the first place
            label, box = put(anchors[(x, y)], text, *OFFSETS[0])
        taken.append(box)


def funnel_status(points: pd.DataFrame) -> np.ndarray:
    """Each borough's place in the funnel: 'inside', or 'above'/'below' with '95' or '998' (the
    widest limits it lies beyond), from funnel_points' positions."""
    return np.where(
        points["position_998"] != "inside",
        points["position_998"] + " 998",
        np.where(points["position_95"] != "inside", points["position_95"] + " 95", "inside"),
    )


def outcome_funnel_chart(points: pd.DataFrame, curve: pd.DataFrame, name: str, period_text: str):
    """Boroughs' rates per 1,000 against residents, inside the 95% and 99.8% limits around London.

    `points`: tipipeline.outcomes.indicators.funnel_points; `curve`: funnel_curve."""
    with styled():
        fig = figure(REPORT_WIDTH, 6.2, layout="constrained")
        ax = fig.subplots()
        london = float(curve["london_value"].iloc[0]) if len(curve) else float("nan")
        ax.plot(curve["population"], curve["london_value"], color=TEXT, linewidth=1, label="London")
        for label, style in (("95", "--"), ("998", ":")):
            words = "95% limits" if label == "95" else "99.8% limits"
            ax.plot(curve["population"], curve[f"lower_{label}"], style, color="#505A5F", linewidth=1, label=words)
            ax.plot(curve["population"], curve[f"upper_{label}"], style, color="#505A5F", linewidth=1)
        status = funnel_status(points)
        for value, words, colour, marker in FUNNEL_CLASSES:
            chosen = points[status == value]
            ax.scatter(
                chosen["population"],
                chosen["value"],
                color=colour,
                edgecolors="#505A5F",
                linewidths=0.6,
                marker=marker,
                s=30,
                zorder=3,
                label=words,
            )
        ax.set_xscale("log")
        # Residents as a reader writes them (200,000), not as powers of ten.
        residents = FuncFormatter(lambda value, _: f"{value:,.0f}")
        ax.xaxis.set_major_formatter(residents)
        ax.xaxis.set_minor_formatter(
            FuncFormatter(lambda value, _: f"{value:,.0f}" if str(int(value))[0] in "1235" else "")
        )
        ax.set_xlabel("Residents (log scale)")
        ax.set_ylabel("Offences per 1,000 residents")
        ax.grid(color="#DDDDDD", linewidth=0.6)
        ax.set_axisbelow(True)
        legend(fig, ncol=3, loc="outside lower center", frameon=False)
        _title(fig, ax, f"{name}: boroughs against London", f"{period_text}. London: {london:.2f} per 1,000.")
    words = {value: text for value, text, _, _ in FUNNEL_CLASSES}
    table = points.assign(position=[words[v] for v in status])[
        ["geography_name", "population", "count", "value", "lower_95", "upper_95", "position"]
    ]
    outside = int((status != "inside").sum())
    alt = (
        f"Funnel plot of {name.lower()} per 1,000 residents for {len(points)} boroughs against their residents, "
        f"with 95% and 99.8% limits around London's rate of {london:.2f}. {outside} borough(s) lie outside the 95% "
        "limits. The table below gives every borough's rate, limits and position."
    )
    return fig, alt, table.rename(columns={"geography_name": "Area"})


def index_rate_scatter(practice: pd.DataFrame, correlation: pd.Series | None, name: str, period_text: str):
    """Each borough's council index against its outcome rate, labelled, with Spearman's rho and CI.

    `practice`: the rows of partnership_outcomes for one wave and indicator; `correlation`: its row
    of partnership_outcome_correlations for the period (or None)."""
    shown = practice.dropna(subset=["council_index", "rate_before"])
    with styled():
        fig = figure(REPORT_WIDTH, 6.6, layout="constrained")
        ax = fig.subplots()
        ax.scatter(shown["council_index"], shown["rate_before"], color=CATEGORICAL[0], s=28, zorder=3)
        place_labels(fig, ax, shown["council_index"], shown["rate_before"], shown["borough_name"])
        ax.set_xlabel("Council's trauma-informed practice index (1 to 5)")
        ax.set_ylabel("Offences per 1,000 residents")
        ax.grid(color="#DDDDDD", linewidth=0.6)
        ax.set_axisbelow(True)
        rho = (
            f"Spearman's rho {correlation['rho']:+.2f} (95% CI {correlation['lower_ci']:+.2f} to "
            f"{correlation['upper_ci']:+.2f}), n = {int(correlation['n'])} boroughs"
            if correlation is not None and pd.notna(correlation["rho"])
            else "Too few boroughs with both values for a correlation"
        )
        _title(
            fig, ax, f"Practice and {name.lower()}", f"{period_text}. {rho}. Descriptive and ecological, never causal."
        )
    withheld = int(practice["council_index_suppressed"].sum())
    alt = (
        f"Scatter plot of {len(shown)} boroughs: the council's trauma-informed practice index against "
        f"{name.lower()} per 1,000 residents. {rho}. {withheld} council index(es) are withheld by disclosure "
        "control and not plotted. The table below gives every value."
    )
    table = practice[["borough_name", "council_index", "rate_before", "lower_ci_before", "upper_ci_before"]]
    return fig, alt, table.rename(columns={"borough_name": "Area"})
