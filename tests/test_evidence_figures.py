"""The evidence base's figures meet the report's figure rules (tests/test_figures.py's checks):
nothing clipped, text at least 9 pt, legends clear of the data, at most 1,050 px wide."""

import numpy as np
import pandas as pd
from test_figures import check

from tipipeline.stats.rates import funnel_limits
from tipipeline.viz.evidence import index_rate_scatter, outcome_funnel_chart
from tipipeline.viz.style import render

NAMES = [
    "Barnet", "Brent", "Camden", "Croydon", "Ealing", "Enfield", "Hackney", "Haringey", "Harrow",
    "Kensington and Chelsea", "Richmond upon Thames", "Waltham Forest", "Hammersmith and Fulham",
]  # fmt: skip


def _funnel_inputs():
    generator = np.random.default_rng(7)
    population = generator.integers(150_000, 420_000, len(NAMES))
    london = 0.009
    values = london * 1000 * generator.normal(1, 0.15, len(NAMES))
    rows = []
    for name, people, value in zip(NAMES, population, values):
        low95, high95 = (v * 1000 for v in funnel_limits(london, float(people), 0.95))
        low998, high998 = (v * 1000 for v in funnel_limits(london, float(people), 0.998))
        rows.append(
            {
                "geography_name": name,
                "population": int(people),
                "count": int(round(value * people / 1000)),
                "value": value,
                "lower_95": low95,
                "upper_95": high95,
                "inside_95": low95 <= value <= high95,
                "inside_998": low998 <= value <= high998,
                "position_95": "above" if value > high95 else "below" if value < low95 else "inside",
                "position_998": "above" if value > high998 else "below" if value < low998 else "inside",
            }
        )
    grid = np.geomspace(75_000, 630_000, 50)
    curve = pd.DataFrame(
        [
            {
                "population": p,
                "london_value": london * 1000,
                **dict(zip(("lower_95", "upper_95"), (v * 1000 for v in funnel_limits(london, p, 0.95)))),
                **dict(zip(("lower_998", "upper_998"), (v * 1000 for v in funnel_limits(london, p, 0.998)))),
            }
            for p in grid
        ]
    )
    return pd.DataFrame(rows), curve


def test_funnel_plot_fits_the_report_and_says_how_many_lie_outside():
    points, curve = _funnel_inputs()
    fig, alt, table = outcome_funnel_chart(points, curve, "Violence with injury", "12 months before wave 2024-w1")
    outside = int((~points["inside_95"]).sum())
    assert f"{outside} borough(s) lie outside the 95% limits" in alt
    expected = [
        "Inside the 95% limits"
        if row.inside_95
        else f"{'Above' if row.position_95 == 'above' else 'Below'} the {'95' if row.inside_998 else '99.8'}% limits"
        for row in points.itertuples()
    ]
    assert table["position"].tolist() == expected
    # One colour means one thing in the section: below London's funnel is the maps' "better" blue.
    below = [c for c in fig.axes[0].collections if c.get_label().startswith("Below")]
    assert below and all(tuple(c.get_facecolor()[0][:3]) == (0x12 / 255, 0x43 / 255, 0x6D / 255) for c in below)
    check(fig, "evidence_funnel")


def test_scatter_labels_every_borough_without_overlap_and_is_reproducible():
    generator = np.random.default_rng(11)
    practice = pd.DataFrame(
        {
            "borough_name": NAMES,
            "council_index": generator.normal(3.1, 0.3, len(NAMES)).round(2),
            "council_index_suppressed": [False] * (len(NAMES) - 1) + [True],
            "rate_before": generator.normal(9, 2, len(NAMES)),
            "lower_ci_before": 0.0,
            "upper_ci_before": 0.0,
        }
    )
    practice.loc[practice["council_index_suppressed"], "council_index"] = np.nan
    correlation = pd.Series({"rho": -0.12, "lower_ci": -0.6, "upper_ci": 0.44, "n": len(NAMES) - 1})
    draw = lambda: index_rate_scatter(practice, correlation, "Violence with injury", "12 months before")  # noqa: E731
    fig, alt, _ = draw()
    assert "1 council index(es) are withheld" in alt and "n = 12 boroughs" in alt
    labels = [t for t in fig.axes[0].texts]
    assert sorted(t.get_text() for t in labels) == sorted(NAMES[:-1])
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in labels]
    overlapping = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if a.overlaps(b)]
    assert not overlapping
    assert render(draw()[0]) == check(fig, "evidence_scatter")
