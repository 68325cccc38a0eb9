"""Consensus statistics for the London definition (issue 15), against hand computations, the
RAND/UCLA method's published worked example, numpy's percentiles and scipy's exact signed-rank test."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tipipeline.consensus.statistics import (
    IN,
    NONE,
    OUT,
    Band,
    BandRule,
    Distribution,
    Scale,
    classify_bands,
    classify_ipras,
    ipras,
    signed_rank_p_value,
    stable_by_percent_change,
    stable_by_wilcoxon,
)

NINE = Scale(1, 9, Band(1, 3), Band(7, 9))
FIVE = Scale(1, 5, Band(1, 2), Band(4, 5))
# The common published rule on a 1-9 scale: in when >= 70% rate 7-9 and <= 15% rate 1-3.
RULE_70_15 = BandRule(Fraction(70), Fraction(15), Fraction(70), Fraction(15))
# On a 5-point agreement scale: >= 75% agree or strongly agree (no condition on the other band).
RULE_75 = BandRule(Fraction(75), None, Fraction(75), None)


def ratings(counts: dict[int, int]) -> list[int]:
    return [value for value, count in counts.items() for _ in range(count)]


# --- bands rule: the 70% / 15% boundaries, by hand -----------------------------------------


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # 20 panellists: 14 of 20 = 70% top, 3 of 20 = 15% bottom: both boundaries met.
        ({9: 4, 8: 5, 7: 5, 5: 3, 2: 3}, IN),
        # 14 top (70%) but 4 bottom (20% > 15%): no consensus.
        ({9: 14, 5: 2, 1: 4}, NONE),
        # 13 top (65% < 70%), nobody in the bottom band: no consensus.
        ({8: 13, 6: 7}, NONE),
        # The mirror image: 14 bottom (70%), 3 top (15%): consensus out.
        ({1: 7, 3: 7, 5: 3, 9: 3}, OUT),
        # 14 bottom but 4 top (20%): no consensus.
        ({2: 14, 5: 2, 7: 4}, NONE),
        # 7 and 3 are band edges: 14 sevens and 3 threes is still in.
        ({7: 14, 4: 3, 3: 3}, IN),
    ],
)
def test_bands_rule_boundaries(counts, expected):
    assert sum(counts.values()) == 20
    assert classify_bands(Distribution.of(ratings(counts), NINE), RULE_70_15) == expected


def test_bands_rule_is_exact_where_floating_point_is_not():
    # 57 of 100 in the top band against a 57% threshold: 57/100 * 100 is 56.99999999999999 in
    # floating point, so a float comparison would miss a consensus that is there.
    assert 57 / 100 * 100 < 57
    rule = BandRule(Fraction(57), None, Fraction(90), None)
    distribution = Distribution.of(ratings({8: 57, 5: 43}), NINE)
    assert distribution.share_top == Fraction(57, 100)
    assert classify_bands(distribution, rule) == IN


def test_five_point_agreement_rule():
    # 15 of 20 agree or strongly agree = 75%: in; 14 of 20 = 70%: none; 15 of 20 disagree: out.
    assert classify_bands(Distribution.of(ratings({5: 6, 4: 9, 3: 5}), FIVE), RULE_75) == IN
    assert classify_bands(Distribution.of(ratings({5: 6, 4: 8, 3: 6}), FIVE), RULE_75) == NONE
    assert classify_bands(Distribution.of(ratings({1: 10, 2: 5, 5: 5}), FIVE), RULE_75) == OUT


def test_no_ratings_is_no_consensus():
    empty = Distribution.of([], NINE)
    assert empty.share_top is None and empty.median is None and empty.iqr is None
    assert classify_bands(empty, RULE_70_15) == NONE
    assert classify_ipras(empty) == NONE


def test_a_rating_off_the_scale_is_refused():
    with pytest.raises(ValueError, match="rating 10 is outside the scale 1-9"):
        Distribution.of([1, 10], NINE)


# --- RAND/UCLA IPRAS ------------------------------------------------------------------------


def test_ipras_published_worked_example():
    # BMJ Open 2012;2:e001431, Table 1 (n = 15: one panellist each at 4, 5 and 6, five at 7,
    # five at 8, two at 9): median 7.0, 30th percentile 7.0, 70th 8.0, IPR 1.0, IPRCP 7.5,
    # AI 2.5, IPRAS 2.35 + 2.5 x 1.5 = 6.1 (the table prints 6.1): no disagreement.
    distribution = Distribution.of(ratings({4: 1, 5: 1, 6: 1, 7: 5, 8: 5, 9: 2}), NINE)
    test = ipras(distribution)
    assert distribution.median == 7
    assert test.ipr == 1
    assert test.ipras == Fraction("6.1")
    assert not test.disagreement
    assert classify_ipras(distribution) == IN


def test_ipras_disagreement_by_hand():
    # Five at 1 and five at 9: 30th percentile (position 2.7) 1, 70th (6.3) 9, IPR 8; IPRCP 5,
    # AI 0, IPRAS 2.35 < 8: disagreement, so none (the median, 5, is in no band anyway).
    split = Distribution.of([1] * 5 + [9] * 5, NINE)
    assert ipras(split).ipr == 8 and ipras(split).ipras == Fraction("2.35")
    assert ipras(split).disagreement
    assert classify_ipras(split) == NONE
    # [2, 5, 7, 7, 8, 8, 8, 9, 9, 9]: 30th percentile at position 2.7 = 7, 70th at 6.3 =
    # 8 + 0.3 x (9 - 8) = 8.3; IPR 1.3; IPRCP 7.65, AI 2.65, IPRAS 2.35 + 3.975 = 6.325: no
    # disagreement; median (8 + 8) / 2 = 8 in 7-9: in.
    wide = Distribution.of([2, 5, 7, 7, 8, 8, 8, 9, 9, 9], NINE)
    assert ipras(wide).ipr == Fraction("1.3")
    assert ipras(wide).ipras == Fraction("6.325")
    assert classify_ipras(wide) == IN
    # A median between bands (6.5) is none, even without disagreement.
    between = Distribution.of([6, 6, 7, 7], NINE)
    assert between.median == Fraction(13, 2)
    assert not ipras(between).disagreement
    assert classify_ipras(between) == NONE
    # Median 2, without disagreement: out.
    assert classify_ipras(Distribution.of([1, 2, 2, 2, 3, 3], NINE)) == OUT


# --- medians, IQRs and percentiles: numpy as the oracle --------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=40), st.integers(0, 100))
def test_percentiles_equal_numpy(values, percent):
    distribution = Distribution.of(values, NINE)
    expected = np.percentile(np.array(values, dtype=float), percent)  # numpy's default is type 7
    assert float(distribution.percentile(Fraction(percent, 100))) == pytest.approx(expected, abs=1e-12)
    assert float(distribution.median) == pytest.approx(np.median(values), abs=1e-12)
    q1, q3 = np.percentile(values, [25, 75])
    assert float(distribution.iqr) == pytest.approx(q3 - q1, abs=1e-12)


# --- stability ------------------------------------------------------------------------------


def test_stability_by_percent_change_boundary():
    before = Distribution.of(ratings({8: 10, 5: 10}), NINE)  # 50% top
    moved_15 = Distribution.of(ratings({8: 13, 5: 7}), NINE)  # 65% top: moved exactly 15 points
    moved_10 = Distribution.of(ratings({8: 12, 5: 8}), NINE)  # 60%: 10 points
    assert stable_by_percent_change(before, moved_15, Fraction(15)) is False  # "less than 15"
    assert stable_by_percent_change(before, moved_10, Fraction(15)) is True
    assert stable_by_percent_change(before, Distribution.of([], NINE), Fraction(15)) is None


def test_signed_rank_by_hand():
    # Differences 1, 2, 3 all positive: T+ = 6 is the largest of 2^3 = 8 equally likely sums,
    # so the upper tail is 1/8 and p = 2/8.
    assert signed_rank_p_value([1, 2, 3]) == 0.25
    # Zeros are dropped; nothing left means no evidence of change.
    assert signed_rank_p_value([0, 0]) == 1.0
    # [1, -1]: tied ranks 1.5 and 1.5; T+ = 1.5 against sums {0, 1.5, 1.5, 3}: both tails 3/4.
    assert signed_rank_p_value([1, -1]) == 1.0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-40, 40).filter(lambda d: d != 0), min_size=1, max_size=14, unique_by=abs))
def test_signed_rank_equals_scipy_exact_without_ties(differences):
    expected = stats.wilcoxon(differences, method="exact").pvalue
    assert signed_rank_p_value(differences) == pytest.approx(expected, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=10))
def test_signed_rank_with_ties_equals_brute_force(differences):
    # The permutation distribution enumerated directly: every sign pattern over scipy's mid-ranks.
    nonzero = [d for d in differences if d != 0]
    if not nonzero:
        assert signed_rank_p_value(differences) == 1.0
        return
    ranks = stats.rankdata([abs(d) for d in nonzero])
    observed = sum(r for r, d in zip(ranks, nonzero, strict=True) if d > 0)
    sums = [
        sum(r for r, s in zip(ranks, signs, strict=True) if s) for signs in itertools.product([0, 1], repeat=len(ranks))
    ]
    lower = sum(s <= observed + 1e-9 for s in sums) / len(sums)
    upper = sum(s >= observed - 1e-9 for s in sums) / len(sums)
    assert signed_rank_p_value(differences) == pytest.approx(min(1.0, 2 * min(lower, upper)), rel=1e-12)


def test_stability_by_wilcoxon():
    # Ten panellists all moved up by 1 to 2 points: p = 2 x 2^-10 on the ties' exact distribution.
    pairs = [(5, 6)] * 5 + [(6, 8)] * 5
    stable, p = stable_by_wilcoxon(pairs, alpha=0.05)
    assert p == pytest.approx(2 / 1024)
    assert stable is False
    stable, p = stable_by_wilcoxon([(5, 5), (6, 7), (7, 6)], alpha=0.05)
    assert stable is True and p == 1.0
    assert stable_by_wilcoxon([], alpha=0.05) == (None, None)
