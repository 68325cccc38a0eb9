"""Confidence intervals: Wilson score for proportions (OHID's method), Student's t for means,
and intervals for the change between two waves."""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson_interval(successes: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for successes/n; (nan, nan) when n is 0."""
    if n <= 0:
        return (math.nan, math.nan)
    z = _z(confidence)
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    return (max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator))


def t_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, lower, upper) by Student's t; the interval is (nan, nan) with fewer than 2 values."""
    data = np.asarray(
        [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))], dtype=float
    )
    if data.size == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(data.mean())
    if data.size < 2:
        return (mean, math.nan, math.nan)
    half = t_half_width(float(data.std(ddof=1)), data.size, confidence)
    return (mean, mean - half, mean + half)


def t_quantile(q: float, df: float) -> float:
    """Student's t quantile: the ufunc behind `scipy.stats.t.ppf` (the same values), without the
    distribution object's per-call overhead (thousands of cells per build)."""
    return float(special.stdtrit(df, q))


def t_half_width(sd: float, n: int, confidence: float = 0.95) -> float:
    """Half the width of a t interval for a mean, from the standard deviation and n."""
    if n < 2 or math.isnan(sd):
        return math.nan
    return float(t_quantile(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n))


def welch_difference(mean1, sd1, n1, mean2, sd2, n2, confidence: float = 0.95) -> tuple[float, float, float]:
    """(difference, lower, upper) for mean2 - mean1 by Welch's t (unequal variances)."""
    if min(n1, n2) < 2:
        return (mean2 - mean1, math.nan, math.nan)
    v1, v2 = sd1 * sd1 / n1, sd2 * sd2 / n2
    se = math.sqrt(v1 + v2)
    if se == 0:
        # No variation in either wave: Welch's degrees of freedom are 0/0 and there is no interval
        # (a zero-width one would call any change significant).
        return (mean2 - mean1, math.nan, math.nan)
    df = (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    half = float(t_quantile(0.5 + confidence / 2, df)) * se
    diff = mean2 - mean1
    return (diff, diff - half, diff + half)


def newcombe_difference(x1, n1, x2, n2, confidence: float = 0.95) -> tuple[float, float, float]:
    """(difference, lower, upper) for p2 - p1 by Newcombe's hybrid score method (his method 10),
    built from the two Wilson intervals."""
    if n1 <= 0 or n2 <= 0:
        return (math.nan, math.nan, math.nan)
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    diff = p2 - p1
    lower = diff - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    upper = diff + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return (diff, lower, upper)
