"""The London definition's chart: each round's ratings as diverging stacked bars.

One bar per statement: the share rating in the bottom band to the left of zero, the middle band
straddling it, the top band to the right, so agreement reads rightwards and disagreement leftwards.
Each bar is labelled with its consensus, so nothing is told by colour alone. No threshold line is
drawn: with the middle band centred, the top band starts at a different place on every bar, so a
line at 70% would not mark 70% of anyone's ratings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tipipeline.viz.style import CATEGORICAL, MIN_FONTSIZE, REPORT_WIDTH, TEXT, figure, legend, styled

BAND_COLOURS = {"bottom": CATEGORICAL[3], "middle": "#BFC1C3", "top": CATEGORICAL[0]}
CONSENSUS_LABELS = {"in": "consensus in", "out": "consensus out", "none": "no consensus"}


def consensus_chart(rows: pd.DataFrame, round_number: int, band_names: dict[str, str]):
    """(figure, alt text, data table) for one round's statements (rows of `definition_statements`
    for the whole panel). `band_names`: bottom, middle and top as the scale words them ("1-3")."""
    data = rows[rows["round"] == round_number].sort_values("statement_id").reset_index(drop=True)
    n = len(data)
    with styled():
        fig = figure(REPORT_WIDTH, 1.6 + 0.34 * max(n, 1), layout="constrained")
        ax = fig.subplots()
        y = np.arange(n)
        middle = data["pct_middle"].to_numpy(dtype=float)
        bottom = data["pct_bottom"].to_numpy(dtype=float)
        top = data["pct_top"].to_numpy(dtype=float)
        ax.barh(
            y,
            -bottom,
            left=-middle / 2,
            height=0.7,
            color=BAND_COLOURS["bottom"],
            label=f"Rated {band_names['bottom']}",
        )
        ax.barh(
            y, middle, left=-middle / 2, height=0.7, color=BAND_COLOURS["middle"], label=f"Rated {band_names['middle']}"
        )
        ax.barh(y, top, left=middle / 2, height=0.7, color=BAND_COLOURS["top"], label=f"Rated {band_names['top']}")
        for i, row in data.iterrows():
            ax.annotate(
                CONSENSUS_LABELS.get(row["consensus"], ""),
                (middle[i] / 2 + top[i], i),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=MIN_FONTSIZE,
                color=TEXT,
            )
        ax.axvline(0, color=TEXT, linewidth=0.6)
        ax.set_yticks(y, data["statement_id"].tolist())
        ax.set_ylim(n - 0.5, -0.5)
        ax.set_xlim(-100, 135)
        ticks = [-100, -50, 0, 50, 100]
        ax.set_xticks(ticks, [f"{abs(t)}%" for t in ticks])
        ax.set_xlabel("Share of panellists who rated the statement (disagreement left, agreement right)")
        legend(fig, 3)
        fig.suptitle(
            f"Round {round_number}: how the panel rated each statement",
            x=0.01,
            ha="left",
            fontsize=12,
            fontweight="bold",
            color=TEXT,
        )
    agreed = int((data["consensus"] == "in").sum())
    rejected = int((data["consensus"] == "out").sum())
    alt = (
        f"Diverging bar chart of round {round_number}: {n} statements; {agreed} reached consensus in, "
        f"{rejected} consensus out and {n - agreed - rejected} no consensus. The table below gives every share."
    )
    table = data[["statement_id", "n_rated", "pct_bottom", "pct_middle", "pct_top", "median", "consensus"]].rename(
        columns={
            "statement_id": "Statement",
            "n_rated": "Rated",
            "pct_bottom": "Bottom band",
            "pct_middle": "Middle band",
            "pct_top": "Top band",
            "median": "Median",
            "consensus": "Consensus",
        }
    )
    return fig, alt, table
