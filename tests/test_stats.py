"""Statistical methods against the DESIGN.md reference values and statsmodels / scipy oracles."""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.proportion import proportion_confint

from tipipeline.stats.comparison import change_significance, compare_with_london
from tipipeline.stats.intervals import newcombe_difference, t_interval, welch_difference, wilson_interval
from tipipeline.stats.reliability import cronbach_alpha


@pytest.mark.parametrize(
    ("x", "n", "confidence", "expected"),
    [
        (7, 20, 0.95, (0.181192, 0.567146)),
        (0, 12, 0.95, (0.0, 0.242494)),
        (45, 60, 0.95, (0.627679, 0.842235)),
        (12, 12, 0.95, (0.757506, 1.0)),
        (1, 5, 0.95, (0.036224, 0.624465)),
        (7, 20, 0.998, (0.123028, 0.673923)),
    ],
)
def test_wilson_reference_values(x, n, confidence, expected):
    lower, upper = wilson_interval(x, n, confidence)
    assert lower == pytest.approx(expected[0], abs=1e-6) and upper == pytest.approx(expected[1], abs=1e-6)


@pytest.mark.parametrize("seed", range(25))
def test_wilson_equals_statsmodels(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 500))
    x = int(rng.integers(0, n + 1))
    expected = proportion_confint(x, n, alpha=0.05, method="wilson")
    assert wilson_interval(x, n) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([4, 5, 3, 4, 2, 5, 4, 3, 4, 5], (3.9, 3.188628, 4.611372)), ([30, 40, 50, 60], (45.0, 24.457397, 65.542603))],
)
def test_t_interval_reference_values(values, expected):
    assert t_interval(values) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("seed", range(10))
def test_t_interval_equals_scipy(seed):
    data = np.random.default_rng(seed).normal(3, 1, 50)
    low, high = scipy_stats.t.interval(0.95, len(data) - 1, loc=data.mean(), scale=scipy_stats.sem(data))
    mean, lower, upper = t_interval(data)
    assert (lower, upper) == pytest.approx((low, high), abs=1e-12)


def test_t_interval_needs_two_values():
    mean, lower, upper = t_interval([3.0])
    assert mean == 3.0 and math.isnan(lower) and math.isnan(upper)


def test_cronbach_alpha_reference_value():
    q1, q2, q3, q4 = [4, 5, 3, 4, 2, 5], [4, 4, 3, 5, 2, 4], [3, 5, 2, 4, 3, 5], [5, 4, 3, 4, 1, 5]
    assert cronbach_alpha(np.column_stack([q1, q2, q3, q4])) == pytest.approx(0.899824, abs=1e-6)


def test_cronbach_alpha_drops_incomplete_rows():
    matrix = np.array(
        [[4, 4, 3, 5], [5, 4, 5, 4], [3, 3, 2, 3], [4, 5, 4, 4], [2, 2, 3, 1], [5, 4, 5, 5], [np.nan, 1, 1, 1]]
    )
    assert cronbach_alpha(matrix) == pytest.approx(cronbach_alpha(matrix[:-1]))
    assert math.isnan(cronbach_alpha(np.array([[1, 2]])))


def test_welch_difference_equals_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(3.0, 1.0, 40), rng.normal(3.4, 1.3, 55)
    diff, low, high = welch_difference(a.mean(), a.std(ddof=1), len(a), b.mean(), b.std(ddof=1), len(b))
    result = scipy_stats.ttest_ind(b, a, equal_var=False)
    ci = result.confidence_interval(0.95)
    assert diff == pytest.approx(b.mean() - a.mean()) and (low, high) == pytest.approx((ci.low, ci.high), abs=1e-10)


def test_newcombe_difference_reference():
    # Newcombe (1998), Statistics in Medicine 17: 873-890, table II example (56/70 vs 48/80): method 10
    # gives 0.0524 to 0.3339 for p1 - p2.
    diff, low, high = newcombe_difference(48, 80, 56, 70)
    assert (
        diff == pytest.approx(0.2)
        and low == pytest.approx(0.0524, abs=5e-5)
        and high == pytest.approx(0.3339, abs=5e-5)
    )


@pytest.mark.parametrize(
    ("lower", "upper", "london", "polarity", "expected"),
    [
        (3.0, 3.4, 3.2, "higher_is_better", "similar"),
        (3.0, 3.4, 3.4, "higher_is_better", "similar"),  # inclusive
        (3.3, 3.6, 3.2, "higher_is_better", "better"),
        (3.3, 3.6, 3.2, "lower_is_better", "worse"),
        (2.0, 3.1, 3.2, "higher_is_better", "worse"),
        (3.3, 3.6, 3.2, "no_judgement", "higher"),
        (float("nan"), float("nan"), 3.2, "higher_is_better", "not compared"),
    ],
)
def test_comparison_with_london(lower, upper, london, polarity, expected):
    assert compare_with_london(lower, upper, london, polarity) == expected


def test_change_significance():
    assert change_significance(0.1, 0.5) == "significant increase"
    assert change_significance(-0.5, -0.1) == "significant decrease"
    assert change_significance(-0.1, 0.5) == "no significant change"
    assert change_significance(float("nan"), 1) == "not tested"


def test_welch_without_variation_is_not_tested():
    # Every respondent answered 3 in one wave and 4 in the next: Welch's df is 0/0, so no interval
    # (a zero-width one would call any change significant).
    diff, low, high = welch_difference(3.0, 0.0, 12, 4.0, 0.0, 15)
    assert diff == 1.0 and math.isnan(low) and math.isnan(high)
    assert change_significance(low, high) == "not tested"
    # One wave varying is enough for an interval (scipy agrees).
    b = np.array([3, 4, 5, 4, 4, 3, 5, 4])
    diff, low, high = welch_difference(3.0, 0.0, 12, b.mean(), b.std(ddof=1), len(b))
    expected = scipy_stats.ttest_ind(b, np.full(12, 3.0), equal_var=False).confidence_interval(0.95)
    assert (low, high) == pytest.approx((expected.low, expected.high), abs=1e-12)
