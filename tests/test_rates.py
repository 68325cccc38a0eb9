"""Rates, funnel limits and the rank correlation against published reference values, peer
libraries and hand computation."""

import math

import numpy as np
import pytest
from scipy import stats

from tipipeline.stats.rates import crude_rate, funnel_limits, spearman_with_ci


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


@pytest.mark.parametrize("probability", [0.95, 0.998])
def test_funnel_limits_are_poisson_quantiles_that_approach_the_normal_limits(probability):
    rate = 0.012  # per person
    tail = (1 - probability) / 2
    for population in (2_000, 10_000, 50_000, 300_000):
        lower, upper = funnel_limits(rate, population, probability)
        expected = rate * population
        # The interpolated limit lies between the Poisson quantile and the count below it.
        for limit, p in ((lower, tail), (upper, 1 - tail)):
            r = math.ceil(limit * population)
            assert stats.poisson.cdf(r - 1, expected) <= p + 1e-12 <= stats.poisson.cdf(r, expected) + 1e-12
    lower, upper = funnel_limits(rate, 5_000_000, probability)
    z = stats.norm.ppf(1 - tail)
    half = z * math.sqrt(rate / 5_000_000)
    assert (lower, upper) == pytest.approx((rate - half, rate + half), rel=2e-3)
    widths = [np.subtract(*funnel_limits(rate, p, probability)[::-1]) for p in (1e3, 1e4, 1e5, 1e6)]
    assert widths == sorted(widths, reverse=True)  # the funnel narrows as populations grow


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
