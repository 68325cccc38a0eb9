"""Consensus statistics for a Delphi panel's ratings of one statement (issue 15), all exact.

Ratings are whole numbers on the panel's scale (1-9 in the RAND/UCLA tradition, 1-5 for
agreement). Every share is a `Fraction` compared exactly with the rule's threshold, so a statement
at exactly 70% is "in" under a ">= 70%" rule, never lost to rounding. Percentiles are Hyndman and
Fan's type 7 (linear interpolation between order statistics: numpy's default, Excel's
PERCENTILE.INC), the definition the RAND/UCLA worked examples agree with.

The rules (documented in docs/DESIGN.md, "The London definition"):
- `bands`: "in" when the share rating in the top band is at least `in.top_min` and the share in
  the bottom band at most `in.bottom_max`; "out" is the mirror image; otherwise no consensus.
- `ipras` (Fitch et al. 2001, the RAND/UCLA Appropriateness Method User's Manual, ch. 8): the
  interpercentile range (70th - 30th percentile) against the IPR adjusted for symmetry,
  IPRAS = 2.35 + 1.5 x |5 - (30th + 70th percentile) / 2|; disagreement when IPR > IPRAS. "in"
  when the median is in the top band without disagreement, "out" in the bottom band without
  disagreement, otherwise none (a median between bands, such as 6.5, is none).
- Stability between rounds: `percent_change` (the top band's share moved by less than a set number
  of percentage points) or `wilcoxon` (the panellists who rated both rounds: the exact two-sided
  signed-rank test, stable when p >= alpha).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

IN, OUT, NONE = "in", "out", "none"

# The RAND/UCLA manual's constants: the IPR that means disagreement when ratings are symmetric
# about the scale's centre, and the correction for asymmetry.
IPR_SYMMETRIC = Fraction("2.35")
ASYMMETRY_CORRECTION = Fraction("1.5")


@dataclass(frozen=True)
class Band:
    """An inclusive range of ratings, e.g. 7-9."""

    low: int
    high: int

    def __contains__(self, value) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class Scale:
    """The panel's rating scale: its points and the bottom and top bands (the middle is between)."""

    minimum: int
    maximum: int
    bottom: Band
    top: Band

    @property
    def centre(self) -> Fraction:
        return Fraction(self.minimum + self.maximum, 2)


@dataclass(frozen=True)
class Distribution:
    """One statement's ratings in one round (panellists who rated it; 'unable to rate' is not a
    rating), with its exact summaries."""

    ratings: tuple[int, ...]
    scale: Scale

    @classmethod
    def of(cls, ratings: Sequence[int], scale: Scale) -> Distribution:
        values = tuple(sorted(int(r) for r in ratings))
        outside = [r for r in values if not scale.minimum <= r <= scale.maximum]
        if outside:
            raise ValueError(f"rating {outside[0]} is outside the scale {scale.minimum}-{scale.maximum}")
        return cls(values, scale)

    @property
    def n(self) -> int:
        return len(self.ratings)

    def count(self, band: Band) -> int:
        return sum(1 for r in self.ratings if r in band)

    def share(self, band: Band) -> Fraction | None:
        """The share of ratings in `band`, exactly; None when nobody rated."""
        return Fraction(self.count(band), self.n) if self.n else None

    @property
    def share_top(self) -> Fraction | None:
        return self.share(self.scale.top)

    @property
    def share_bottom(self) -> Fraction | None:
        return self.share(self.scale.bottom)

    @property
    def share_middle(self) -> Fraction | None:
        return None if self.n == 0 else 1 - self.share_top - self.share_bottom

    def percentile(self, p: Fraction) -> Fraction | None:
        return percentile(self.ratings, p)

    @property
    def median(self) -> Fraction | None:
        return self.percentile(Fraction(1, 2))

    @property
    def iqr(self) -> Fraction | None:
        if not self.n:
            return None
        return self.percentile(Fraction(3, 4)) - self.percentile(Fraction(1, 4))


def percentile(sorted_values: Sequence[int], p: Fraction) -> Fraction | None:
    """Hyndman and Fan's type 7 percentile of sorted values, exactly (None for no values)."""
    n = len(sorted_values)
    if n == 0:
        return None
    position = Fraction(p) * (n - 1)
    below = math.floor(position)
    fraction = position - below
    lower = Fraction(sorted_values[below])
    if fraction == 0:
        return lower
    return lower + fraction * (sorted_values[below + 1] - lower)


@dataclass(frozen=True)
class Disagreement:
    """The RAND/UCLA interpercentile-range test for one distribution on a 1-9 scale."""

    ipr: Fraction
    ipras: Fraction

    @property
    def disagreement(self) -> bool:
        return self.ipr > self.ipras

    @property
    def index(self) -> Fraction:
        """The disagreement index IPR / IPRAS (> 1 means disagreement)."""
        return self.ipr / self.ipras


def ipras(distribution: Distribution) -> Disagreement | None:
    """IPR and IPRAS of a distribution (None when nobody rated)."""
    if not distribution.n:
        return None
    p30 = distribution.percentile(Fraction(3, 10))
    p70 = distribution.percentile(Fraction(7, 10))
    central_point = (p30 + p70) / 2
    asymmetry = abs(distribution.scale.centre - central_point)
    return Disagreement(ipr=p70 - p30, ipras=IPR_SYMMETRIC + asymmetry * ASYMMETRY_CORRECTION)


@dataclass(frozen=True)
class BandRule:
    """`bands`: the least share in the agreeing band and the most in the opposite band (percent;
    None for no condition on the opposite band)."""

    in_top_min: Fraction
    in_bottom_max: Fraction | None
    out_bottom_min: Fraction
    out_top_max: Fraction | None


def classify_bands(distribution: Distribution, rule: BandRule) -> str:
    """in, out or none under a `bands` rule (thresholds in percent, compared exactly)."""
    if not distribution.n:
        return NONE
    top = distribution.share_top * 100
    bottom = distribution.share_bottom * 100
    if top >= rule.in_top_min and (rule.in_bottom_max is None or bottom <= rule.in_bottom_max):
        return IN
    if bottom >= rule.out_bottom_min and (rule.out_top_max is None or top <= rule.out_top_max):
        return OUT
    return NONE


def classify_ipras(distribution: Distribution) -> str:
    """in, out or none under the RAND/UCLA rule: the median's band, without disagreement."""
    test = ipras(distribution)
    if test is None or test.disagreement:
        return NONE
    median = distribution.median
    if median in distribution.scale.top:
        return IN
    if median in distribution.scale.bottom:
        return OUT
    return NONE


def stable_by_percent_change(before: Distribution, after: Distribution, max_change_points: Fraction) -> bool | None:
    """Stable when the top band's share moved by less than `max_change_points` percentage points;
    None when either round has no ratings."""
    if not before.n or not after.n:
        return None
    return abs(after.share_top - before.share_top) * 100 < max_change_points


def signed_rank_p_value(differences: Sequence[int]) -> float:
    """The exact two-sided p-value of Wilcoxon's signed-rank test, conditional on the ties.

    Zero differences are dropped (Wilcoxon's own convention); tied absolute differences take their
    mean rank. The null distribution is that of the sum of the positive ranks when each rank's sign
    is a fair coin, enumerated exactly by counting (ranks doubled, so that mean ranks are whole),
    which keeps it exact with ties, where the tables and scipy's exact method do not apply.
    p = 2 x the smaller tail, at most 1; 1 when no difference is left.
    """
    nonzero = [int(d) for d in differences if d != 0]
    if not nonzero:
        return 1.0
    doubled = _doubled_mean_ranks([abs(d) for d in nonzero])
    observed = sum(r for r, d in zip(doubled, nonzero, strict=True) if d > 0)
    ways = [0] * (sum(doubled) + 1)  # ways[s]: sign patterns whose positive ranks sum to s
    ways[0] = 1
    for rank in doubled:
        for total in range(len(ways) - 1, rank - 1, -1):
            ways[total] += ways[total - rank]
    patterns = 2 ** len(doubled)
    lower = Fraction(sum(ways[: observed + 1]), patterns)
    upper = Fraction(sum(ways[observed:]), patterns)
    return float(min(Fraction(1), 2 * min(lower, upper)))


def _doubled_mean_ranks(values: Sequence[int]) -> list[int]:
    """Twice each value's mean rank among `values` (ranks from 1), as whole numbers."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    doubled = [0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        # Ranks start+1 .. end+1 share their mean; doubled, (start + 1) + (end + 1).
        for i in order[start : end + 1]:
            doubled[i] = start + end + 2
        start = end + 1
    return doubled


def stable_by_wilcoxon(pairs: Sequence[tuple[int, int]], alpha: float) -> tuple[bool | None, float | None]:
    """(stable, p) from the ratings of panellists who rated both rounds: stable when the signed-rank
    test finds no shift at `alpha`; (None, None) when nobody rated both rounds."""
    if not pairs:
        return None, None
    p = signed_rank_p_value([after - before for before, after in pairs])
    return p >= alpha, p
