"""Crude rates with confidence intervals, funnel-plot limits and a rank correlation with its interval:
the statistics of the outcome side of the evidence base (counts of offences over residents).

Rates follow PHEindicatormethods' `phe_rate` (OHID's Fingertips method): Byar's approximation to the
Poisson interval for 10 or more events, exact Poisson limits (from the chi-squared distribution)
below 10. Funnel limits are Spiegelhalter's (2005) exact Poisson limits around the London rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

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


def funnel_limits(rate: float, population: float, probability: float) -> tuple[float, float]:
    """Control limits (as rates per person) for an area of `population` people around a `rate` per
    person, containing `probability` (0.95 or 0.998) of areas if every area had that rate.

    Spiegelhalter (2005), Statistics in Medicine 24:1185: exact Poisson quantiles of the expected
    count, interpolated so the limits are smooth in the population."""
    expected = rate * population
    if expected <= 0:
        return 0.0, 0.0

    def limit(p: float) -> float:
        r = float(stats.poisson.ppf(p, expected))
        below = float(stats.poisson.cdf(r - 1, expected)) if r > 0 else 0.0
        at = float(stats.poisson.cdf(r, expected))
        step = (at - p) / (at - below) if at > below else 0.0
        return max(r - step, 0.0)

    tail = (1 - probability) / 2
    return limit(tail) / population, limit(1 - tail) / population


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
