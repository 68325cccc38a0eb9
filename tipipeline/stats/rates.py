"""Crude rates with confidence intervals, funnel-plot limits and a rank correlation with its interval:
the statistics of the outcome side of the evidence base (counts of offences over residents).

Rates follow PHEindicatormethods' `phe_rate` (OHID's Fingertips method): Byar's approximation to the
Poisson interval for 10 or more events, exact Poisson limits (from the chi-squared distribution)
below 10. Funnel limits and the funnel's verdict on each area are Fingertips' too (PHEindicatormethods'
`calculate_funnel_limits` and `assign_funnel_significance` for crude rates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize, stats

BYARS_FROM = 10  # PHEindicatormethods switches from exact Poisson to Byar's at 10 events


@dataclass(frozen=True)
class Rate:
    """A crude rate per `multiplier` people with its confidence interval and the method used."""

    count: int
    population: float
    value: float
    lower: float
    upper: float
    method: str


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(1 - (1 - confidence) / 2))


def byars_limits(count: int, confidence: float = 0.95) -> tuple[float, float]:
    """Byar's approximation to the exact Poisson interval of a count (Breslow and Day, 1987)."""
    z = _z(confidence)
    lower = count * (1 - 1 / (9 * count) - z / (3 * math.sqrt(count))) ** 3
    upper = (count + 1) * (1 - 1 / (9 * (count + 1)) + z / (3 * math.sqrt(count + 1))) ** 3
    return lower, upper


def exact_poisson_limits(count: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact (Garwood) Poisson interval of a count, from chi-squared quantiles; 0 events has lower 0."""
    alpha = 1 - confidence
    lower = float(stats.chi2.ppf(alpha / 2, 2 * count) / 2) if count > 0 else 0.0
    upper = float(stats.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2)
    return lower, upper


def crude_rate(count: int, population: float, multiplier: float = 1000, confidence: float = 0.95) -> Rate:
    """`count` per `multiplier` residents with its interval, as PHEindicatormethods' `phe_rate`."""
    if count < 0 or int(count) != count:
        raise ValueError(f"a count of events must be a whole number of 0 or more, not {count!r}")
    if not population > 0:
        raise ValueError(f"a rate needs a population above 0, not {population!r}")
    count = int(count)
    if count >= BYARS_FROM:
        lower, upper, method = *byars_limits(count, confidence), "Byar's"
    else:
        lower, upper, method = *exact_poisson_limits(count, confidence), "exact Poisson"
    scale = multiplier / population
    return Rate(count, population, count * scale, lower * scale, upper * scale, method)


def _events_at(expected: float, side: str, tail: float) -> float:
    """The (continuous) number of events x whose exact Poisson limit equals `expected`: for the
    lower funnel line the upper limit of x (chi-squared 2x + 2 degrees of freedom), for the upper
    line the lower limit of x (2x degrees of freedom). 0 where no x >= 0 reaches it."""
    if side == "lower":

        def gap(x: float) -> float:
            return float(stats.chi2.ppf(1 - tail, 2 * x + 2)) / 2 - expected
    else:

        def gap(x: float) -> float:
            return (float(stats.chi2.ppf(tail, 2 * x)) / 2 if x > 0 else 0.0) - expected

    if gap(0.0) >= 0:
        return 0.0
    high = expected + 10 * math.sqrt(expected) + 20  # beyond any root: the limits are x -/+ ~z*sqrt(x)
    return float(optimize.brentq(gap, 0.0, high, xtol=1e-10, rtol=1e-13, maxiter=500))


def funnel_limits(rate: float, population: float, probability: float) -> tuple[float, float]:
    """Funnel-plot control limits (as rates per person) for an area of `population` people around
    the average `rate` per person, at `probability` (0.95 or 0.998), as OHID's Fingertips draws them
    (PHEindicatormethods / PHStatsMethods `calculate_funnel_limits`, statistic 'rate'): a point on
    the lower line is x events over the population at which the exact (Garwood) upper limit of x
    equals the expected count; the upper line likewise with the exact lower limit. Solved for x at
    the given population, so the lines are smooth in the population."""
    expected = rate * population
    if expected <= 0:
        return 0.0, 0.0
    tail = (1 - probability) / 2
    lower = _events_at(expected, "lower", tail) / population
    upper = _events_at(expected, "upper", tail) / population
    return lower, upper


def funnel_position(count: int, population: float, rate: float, probability: float) -> str:
    """Where an area stands against the funnel at `probability`, as Fingertips decides it: 'above'
    when its rate's interval (`crude_rate`: Byar's from 10 events, exact below) lies wholly above
    the average `rate` per person, 'below' when wholly below, else 'inside'."""
    interval = crude_rate(count, population, multiplier=1, confidence=probability)
    if interval.lower > rate:
        return "above"
    if interval.upper < rate:
        return "below"
    return "inside"


@dataclass(frozen=True)
class Correlation:
    """Spearman's rank correlation across `n` areas with its confidence interval."""

    rho: float
    lower: float
    upper: float
    n: int
    method: str = "Spearman's rank correlation; 95% CI by Fisher's z with the Bonett-Wright variance"


def spearman_with_ci(x, y, confidence: float = 0.95) -> Correlation:
    """Spearman's rho of paired values with a Fisher-z interval using Bonett and Wright's (2000)
    variance (1 + rho^2 / 2) / (n - 3). Pairs with a missing value are left out; n counts the rest."""
    pairs = [(a, b) for a, b in zip(x, y) if not (_missing(a) or _missing(b))]
    n = len(pairs)
    if n < 4:
        return Correlation(math.nan, math.nan, math.nan, n)
    rho = float(stats.spearmanr([a for a, _ in pairs], [b for _, b in pairs]).statistic)
    if abs(rho) == 1:
        return Correlation(rho, rho, rho, n)
    half = _z(confidence) * math.sqrt((1 + rho**2 / 2) / (n - 3))
    centre = math.atanh(rho)
    return Correlation(rho, math.tanh(centre - half), math.tanh(centre + half), n)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
