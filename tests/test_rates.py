"""Rates, funnel limits and the rank correlation against published reference values, peer
libraries and hand computation."""

import math

import numpy as np
import pytest
from scipy import stats

from tipipeline.stats.rates import crude_rate, funnel_limits, funnel_position, spearman_with_ci


@pytest.mark.parametrize(
    ("count", "population", "value", "lower", "upper", "method"),
    [
        # PHEindicatormethods' phe_rate reference values, per 1,000 (issue 13).
        (289, 271_523, 1.064367, 0.945174, 1.194428, "Byar's"),
        (7, 10_847, 0.645340, 0.259460, 1.329646, "exact Poisson"),
    ],
)
def test_rates_match_phe_rate_reference_values(count, population, value, lower, upper, method):
    rate = crude_rate(count, population, multiplier=1000)
    assert (rate.value, rate.lower, rate.upper) == pytest.approx((value, lower, upper), abs=5e-7)
    assert rate.method == method


def test_exact_below_ten_and_byars_from_ten():
    """9 events: Garwood's interval (gamma quantiles, an independent formula); 10: Byar's by hand."""
    nine = crude_rate(9, 1000, multiplier=1)
    assert nine.method == "exact Poisson"
    assert (nine.lower, nine.upper) == pytest.approx(
        (stats.gamma.ppf(0.025, 9) / 1000, stats.gamma.ppf(0.975, 10) / 1000), rel=1e-12
    )
    ten = crude_rate(10, 1000, multiplier=1)
    assert ten.method == "Byar's"
    z = 1.959963984540054
    byars_lower = 10 * (1 - 1 / 90 - z / (3 * math.sqrt(10))) ** 3
    byars_upper = 11 * (1 - 1 / 99 + z / (3 * math.sqrt(11))) ** 3
    assert (ten.lower, ten.upper) == pytest.approx((byars_lower / 1000, byars_upper / 1000), rel=1e-12)


def test_zero_events_has_a_lower_limit_of_zero_and_bad_inputs_are_refused():
    zero = crude_rate(0, 5000)
    assert zero.value == 0 and zero.lower == 0
    assert zero.upper == pytest.approx(stats.chi2.ppf(0.975, 2) / 2 / 5000 * 1000)
    with pytest.raises(ValueError, match="whole number"):
        crude_rate(2.5, 100)
    with pytest.raises(ValueError, match="population"):
        crude_rate(3, 0)


# Reference values from PHStatsMethods 0.1.16 (OHID's Python port of PHEindicatormethods), run in a
# throwaway environment on ten made-up areas (counts 289, 7, 1520, 930, 64, 410, 0, 260, 282, 100 over
# 271,523, 10,847, 340,000, 310,000, 150,000, 205,000, 9,000, 100,000, 100,000, 50,000 residents):
#   calculate_funnel_limits(df, "count", "rate", 1000, denom_col="pop", rate="rate",
#                           rate_type="crude", years_of_data=1)
# One row per number of events: (events, population of the lower line, lower limit per 1,000,
# population of the upper line, upper limit per 1,000) for 95% ("2s") and 99.8% ("3s").
FUNNEL_AVERAGE = 2.4974617976292866 / 1000  # the weighted average, per person
FUNNEL_REFERENCE = {
    0.95: [
        (1, 2230.9228476372, 0.4482449947, 10.1374516432, 98.6441203568),
        (11, 7880.8169702722, 1.3957943753, 2198.6962801418, 5.0029647566),
        (136, 64414.5201053420, 2.1113252071, 45688.1788589768, 2.9766999560),
        (900, 384699.7081602871, 2.3394870880, 337203.8401452107, 2.6690087504),
    ],
    0.998: [
        (1, 3697.1176705013, 0.2704809771, 0.4006255583, 2496.0963656905),
        (11, 10246.1221488056, 1.0735768948, 1398.0127921808, 7.8683114071),
        (136, 70485.9728531478, 1.9294619127, 41157.7901425001, 3.3043562234),
        (900, 399051.2224878480, 2.2553495624, 324383.3695400939, 2.7744948863),
    ],
}
# assign_funnel_significance(df, "count", "rate", denom_col="pop", rate="rate", rate_type="crude",
# multiplier=1000) on the same areas.
FUNNEL_SIGNIFICANCE = [
    (289, 271523, "Low (0.001)"),
    (7, 10847, "Low (0.001)"),
    (1520, 340000, "High (0.001)"),
    (930, 310000, "High (0.001)"),
    (64, 150000, "Low (0.001)"),
    (410, 205000, "Low (0.001)"),
    (0, 9000, "Low (0.001)"),
    (260, 100000, "Not significant"),
    (282, 100000, "High (0.025)"),
    (100, 50000, "Low (0.025)"),
]


@pytest.mark.parametrize("probability", [0.95, 0.998])
def test_funnel_limits_match_fingertips_published_method(probability):
    # 1e-5: PHStatsMethods finds each limit by bisection, stopping when its step is below 1e-7.
    for events, lower_population, lower, upper_population, upper in FUNNEL_REFERENCE[probability]:
        assert funnel_limits(FUNNEL_AVERAGE, lower_population, probability)[0] * 1000 == pytest.approx(lower, rel=1e-5)
        assert funnel_limits(FUNNEL_AVERAGE, upper_population, probability)[1] * 1000 == pytest.approx(upper, rel=1e-5)
        # A point on either line is a whole number of events over the population it is drawn at.
        assert funnel_limits(FUNNEL_AVERAGE, upper_population, probability)[1] * upper_population == pytest.approx(
            events, rel=1e-5
        )
    widths = [np.subtract(*funnel_limits(FUNNEL_AVERAGE, p, probability)[::-1]) for p in (1e3, 1e4, 1e5, 1e6)]
    assert widths == sorted(widths, reverse=True)  # the funnel narrows as populations grow
    # Too few residents to expect enough events for a lower limit above 0 at this probability.
    assert funnel_limits(FUNNEL_AVERAGE, 500, probability)[0] == 0


def test_funnel_position_matches_fingertips_significance():
    for count, population, expected in FUNNEL_SIGNIFICANCE:
        p998 = funnel_position(count, population, FUNNEL_AVERAGE, 0.998)
        p95 = funnel_position(count, population, FUNNEL_AVERAGE, 0.95)
        side = {"above": "High", "below": "Low"}
        found = (
            f"{side[p998]} (0.001)"
            if p998 != "inside"
            else f"{side[p95]} (0.025)"
            if p95 != "inside"
            else "Not significant"
        )
        assert found == expected, (count, population)


def test_spearman_rho_and_interval_by_hand():
    x = [3.1, 2.7, 3.6, 2.9, 3.3, 3.0, 2.5, 3.8, 3.4, 2.8]
    y = [14.2, 18.1, 9.9, 16.0, 15.5, 12.7, 21.3, 8.8, 13.1, 17.4]
    result = spearman_with_ci(x, y)
    rank_x, rank_y = stats.rankdata(x), stats.rankdata(y)
    rho = float(np.corrcoef(rank_x, rank_y)[0, 1])  # Pearson on ranks, no ties here
    half = 1.959963984540054 * math.sqrt((1 + rho**2 / 2) / (len(x) - 3))
    assert result.n == 10
    assert result.rho == pytest.approx(rho, abs=1e-12)
    assert (result.lower, result.upper) == pytest.approx(
        (math.tanh(math.atanh(rho) - half), math.tanh(math.atanh(rho) + half)), abs=1e-12
    )


def test_spearman_leaves_out_missing_pairs_and_refuses_too_few():
    assert spearman_with_ci([1, 2, None, 4, 5, 6], [2, 1, 3, float("nan"), 5, 7]).n == 4
    assert math.isnan(spearman_with_ci([1, 2, 3], [3, 2, 1]).rho)


def test_spearman_interval_covers_about_95_percent_of_the_time():
    """Seeded simulation: bivariate normal, rho_s of 0.45 (Pearson 0.466), 33 boroughs."""
    generator = np.random.default_rng(20261126)
    pearson = 2 * math.sin(math.pi * 0.45 / 6)  # the Pearson r whose Spearman rho is 0.45
    covariance = [[1, pearson], [pearson, 1]]
    covered = 0
    trials = 2000
    for _ in range(trials):
        sample = generator.multivariate_normal([0, 0], covariance, size=33)
        result = spearman_with_ci(sample[:, 0].tolist(), sample[:, 1].tolist())
        covered += result.lower <= 0.45 <= result.upper
    assert 0.93 <= covered / trials <= 0.97
