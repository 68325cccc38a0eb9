"""Exact sums: means, variances and Cronbach's alpha from integer sums, rounded once at the end.

Floating-point addition is not associative, so a sum of floats depends on the order the rows
arrive in: a re-run that stores the same rows in another order, or a database that adds them on
several threads, gives different last digits. Every survey value is a rational number (an item
score in units of 1/`value_denominator`; a respondent's domain score a sum of those over a count),
so the warehouse adds integers, which is exact in any order, and the statistics below are computed
with `fractions.Fraction` and rounded to the nearest float once. The same inputs then give the
same bits whatever the history of the warehouse, and a score of exactly 4 is exactly 4.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import reduce


@dataclass
class Moments:
    """n, the sum and the sum of squares of rational values, held exactly.

    Values arrive in groups that share a denominator: `add(n, numerator_sum, square_sum, denominator)`
    adds n values x_i = a_i / denominator with sum(a_i) = numerator_sum and sum(a_i**2) = square_sum.
    """

    n: int = 0
    total: Fraction = field(default_factory=Fraction)
    sum_of_squares: Fraction = field(default_factory=Fraction)

    def add(self, n: int, numerator_sum: int, square_sum: int, denominator: int = 1) -> Moments:
        self.n += int(n)
        self.total += Fraction(int(numerator_sum), int(denominator))
        self.sum_of_squares += Fraction(int(square_sum), int(denominator) ** 2)
        return self

    @property
    def mean(self) -> float:
        return float(self.total / self.n) if self.n else math.nan

    @property
    def sum_of_squared_deviations(self) -> Fraction:
        """sum((x_i - mean)**2), exactly: sum(x**2) - (sum x)**2 / n."""
        return self.sum_of_squares - self.total * self.total / self.n if self.n else Fraction(0)

    @property
    def variance(self) -> float:
        """The sample variance (n - 1 denominator); NaN below 2 values."""
        return float(self.sum_of_squared_deviations / (self.n - 1)) if self.n >= 2 else math.nan

    @property
    def sd(self) -> float:
        return math.sqrt(self.variance) if self.n >= 2 else math.nan


def cronbach_alpha_exact(k: int, item_moments: Iterable[Moments], total_moments: Moments) -> float:
    """Cronbach's alpha = k / (k - 1) * (1 - sum of item variances / variance of the total score).

    All moments are over the same complete respondents, so the (n - 1) denominators cancel and the
    ratio is exact. NaN with fewer than 2 items or 2 respondents, or when the totals do not vary.
    """
    total_spread = total_moments.sum_of_squared_deviations
    if k < 2 or total_moments.n < 2 or total_spread <= 0:
        return math.nan
    item_spread = sum((m.sum_of_squared_deviations for m in item_moments), Fraction(0))
    return float(Fraction(k, k - 1) * (1 - item_spread / total_spread))


def value_denominator(values: Iterable[float]) -> int:
    """The smallest d such that every value, as written in decimal, times d is a whole number.

    Scale values are usually whole (1-5), giving 1; a scale with halves (0.5) gives 2. The decimal
    the user wrote is honoured: 0.1 counts as 1/10, not as the binary float nearest to it.
    """
    denominators = [Fraction(repr(float(v))).denominator for v in values]
    return reduce(math.lcm, denominators, 1)


def exact_mean(values: Iterable[float]) -> float:
    """The mean of floats, each taken exactly and the result rounded once (independent of order)."""
    values = [Fraction(float(v)) for v in values if not math.isnan(float(v))]
    return float(sum(values, Fraction(0)) / len(values)) if values else math.nan
