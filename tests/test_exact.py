"""Exact, order-independent statistics (stats/exact.py) and the scores, cells and alpha built on them.

Oracles: Python's `statistics` on `Fraction`s (exact), hand computations, and the published
reference value for Cronbach's alpha. Properties (hypothesis): any permutation of the staged rows
gives the same bits.
"""

import itertools
import math
import statistics
from fractions import Fraction

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tipipeline.indicators.cells import aggregate
from tipipeline.indicators.derived import reliability
from tipipeline.indicators.scores import respondent_scores
from tipipeline.stats.exact import Moments, cronbach_alpha_exact, exact_mean, value_denominator
from tipipeline.stats.reliability import cronbach_alpha

# --- the arithmetic --------------------------------------------------------------------------


def _moments(values: list[Fraction]) -> Moments:
    """Moments of arbitrary fractions, grouped by denominator as the warehouse sums arrive."""
    moments = Moments()
    for denominator, group in itertools.groupby(
        sorted(values, key=lambda v: v.denominator), key=lambda v: v.denominator
    ):
        numerators = [v.numerator * (denominator // v.denominator) for v in group]
        moments.add(len(numerators), sum(numerators), sum(a * a for a in numerators), denominator)
    return moments


@given(st.lists(st.fractions(min_value=-10, max_value=10, max_denominator=12), min_size=2, max_size=60))
def test_moments_equal_exact_statistics(values):
    moments = _moments(values)
    assert moments.n == len(values)
    assert moments.mean == float(statistics.mean(values))
    assert moments.variance == float(statistics.variance(values))
    assert moments.sd == math.sqrt(float(statistics.variance(values)))


def test_moments_of_too_few_values_are_nan():
    assert math.isnan(Moments().mean) and math.isnan(Moments().add(1, 4, 16).variance)
    assert math.isnan(Moments().add(1, 4, 16).sd)


def test_exact_alpha_matches_the_reference_value():
    q = [[4, 5, 3, 4, 2, 5], [4, 4, 3, 5, 2, 4], [3, 5, 2, 4, 3, 5], [5, 4, 3, 4, 1, 5]]
    items = [Moments().add(6, sum(x), sum(v * v for v in x)) for x in q]
    totals = [sum(column) for column in zip(*q)]
    alpha = cronbach_alpha_exact(4, items, Moments().add(6, sum(totals), sum(t * t for t in totals)))
    assert alpha == pytest.approx(0.899824, abs=1e-6)
    assert alpha == pytest.approx(cronbach_alpha(np.array(q).T), abs=1e-15)


def test_exact_alpha_is_nan_without_variation():
    same = Moments().add(3, 12, 48)  # 4, 4, 4
    assert math.isnan(cronbach_alpha_exact(2, [same, same], Moments().add(3, 24, 192)))
    assert math.isnan(cronbach_alpha_exact(1, [same], same))


def test_value_denominator_honours_the_decimal_written():
    assert value_denominator([1, 2, 3, 4, 5]) == 1
    assert value_denominator([0, 0.5, 1]) == 2
    assert value_denominator([0.1, 0.25]) == 20


@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=50), st.randoms())
def test_exact_mean_is_independent_of_order(values, rng):
    shuffled = values[:]
    rng.shuffle(shuffled)
    assert exact_mean(values) == exact_mean(shuffled) == float(sum(map(Fraction, values)) / len(values))


# --- scores, cells and alpha from staged rows ------------------------------------------------

DOMAINS = {"d1": ["a", "b", "c"], "d2": ["e", "f", "g"], "d3": ["h", "i", "j"]}
PRINCIPLE = {"a": "p1", "b": "p2", "c": "p1", "e": "p2", "f": "p1", "g": "p2", "h": "p1", "i": "p2", "j": "p1"}


def _staged(answers: dict[str, dict[str, float | None]], wave="w1", sectors=None):
    """stg_responses / stg_respondents frames for {respondent: {item: scored value or None}}."""
    rows = [
        {
            "wave": wave,
            "respondent_id": r,
            "item_id": item,
            "domain": domain,
            "principle": PRINCIPLE[item],
            "scored_value": items.get(item),
        }
        for r, items in answers.items()
        for domain, ids in DOMAINS.items()
        for item in ids
    ]
    responses = pd.DataFrame(rows).astype({"scored_value": "float64"})
    sectors = sectors or {}
    respondents = pd.DataFrame(
        [
            {
                "wave": wave,
                "respondent_id": r,
                "org_id": f"org_{sectors.get(r, 'council')}",
                "sector": sectors.get(r, "council"),
                "borough_code": "E09000001",
                "bcu_code": None,
                "icb_code": None,
                "ti_training_12m": True,
                "willing_to_share": None,
            }
            for r in answers
        ]
    )
    return responses, respondents


def test_an_index_of_exactly_four_agrees():
    # Domain means 13/3, 5 and 8/3: the index is exactly 4, but adding the rounded floats in this
    # order gives 3.9999999999999996, which a float comparison counts as not agreeing.
    assert (13 / 3 + 5.0 + 8 / 3) / 3 < 4
    answers = {"r1": {"a": 5, "b": 4, "c": 4, "e": 5, "f": 5, "g": 5, "h": 3, "i": 3, "j": 2}}
    responses, respondents = _staged(answers)
    for order in itertools.permutations(range(3)):
        domains = [list(DOMAINS)[i] for i in order]
        shuffled = responses.set_index("domain").loc[domains].reset_index()
        scores = respondent_scores(shuffled, respondents).set_index(["measure_type", "measure_id"])
        assert scores.loc[("index", "index"), "score"] == 4.0
        assert scores.loc[("index", "index"), "agree"] == 1
        assert (
            scores.loc[("index", "index"), "score_numerator"] == 4 * scores.loc[("index", "index"), "score_denominator"]
        )
        assert scores.loc[("domain", "d3"), "agree"] == 0  # 8/3 < 4


def test_scores_on_a_half_point_scale_are_exact():
    answers = {"r1": {"a": 4.5, "b": 3.5, "c": None, "e": 0.5, "f": 1.0, "g": 1.5, "h": 2, "i": 2, "j": 2.5}}
    responses, respondents = _staged(answers)
    scores = respondent_scores(responses, respondents, value_denominator=2).set_index(["measure_type", "measure_id"])
    assert scores.loc[("domain", "d1"), "score"] == 4.0
    index = Fraction(4) + Fraction(3, 3) + Fraction(13, 6)  # d1 4, d2 1, d3 6.5/3
    assert scores.loc[("index", "index"), "score"] == float(index / 3)


def test_a_scored_value_off_the_units_is_an_error():
    responses, respondents = _staged({"r1": {"a": 4.5, "b": 4, "c": 4, "e": 4, "f": 4, "g": 4, "h": 4, "i": 4, "j": 4}})
    with pytest.raises(duckdb.Error, match="not a multiple of 1/1"):
        respondent_scores(responses, respondents)


answer = st.one_of(st.none(), st.integers(min_value=1, max_value=5))
respondent = st.fixed_dictionaries({item: answer for items in DOMAINS.values() for item in items})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(respondent, min_size=2, max_size=40),
    st.randoms(),
    st.lists(st.sampled_from(["council", "police"]), min_size=40, max_size=40),
)
def test_any_order_of_the_staged_rows_gives_the_same_bits(answers, rng, sectors):
    by_id = {f"r{i:03d}": a for i, a in enumerate(answers)}
    responses, respondents = _staged(by_id, sectors={r: sectors[i] for i, r in enumerate(by_id)})
    shuffled_responses = responses.sample(frac=1, random_state=rng.randrange(2**32)).reset_index(drop=True)
    shuffled_respondents = respondents.sample(frac=1, random_state=rng.randrange(2**32)).reset_index(drop=True)

    def build(resp, people):
        scores = respondent_scores(resp, people)
        cells = aggregate(scores, people)
        with duckdb.connect() as conn:
            conn.register("stg_responses", resp)
            alpha = reliability(conn)
        return scores, cells, alpha

    for first, second in zip(build(responses, respondents), build(shuffled_responses, shuffled_respondents)):
        key = [
            c
            for c in (
                "wave",
                "measure_type",
                "measure_id",
                "geography_level",
                "geography_code",
                "respondent_id",
                "domain",
            )
            if c in first.columns
        ]
        a, b = (f.sort_values(key).reset_index(drop=True) for f in (first, second))
        pd.testing.assert_frame_equal(a, b, check_exact=True)


@settings(max_examples=30, deadline=None)
@given(st.lists(respondent, min_size=1, max_size=30))
def test_cells_equal_an_independent_exact_computation(answers):
    """Mean, sd and % agreeing per cell against a separate reader using Fractions and statistics."""
    by_id = {f"r{i:03d}": a for i, a in enumerate(answers)}
    responses, respondents = _staged(by_id)
    cells = aggregate(respondent_scores(responses, respondents), respondents)
    london = cells[cells["geography_level"] == "london"].set_index(["measure_type", "measure_id"])
    for domain, items in DOMAINS.items():
        # At least half the domain's items answered: the documented scoring rule.
        scores = [
            Fraction(sum(v for v in values if v is not None), sum(v is not None for v in values))
            for values in ([a[i] for i in items] for a in answers)
            if 2 * sum(v is not None for v in values) >= len(items)
        ]
        if not scores:
            assert ("domain", domain) not in london.index
            continue
        cell = london.loc[("domain", domain)]
        assert cell["n"] == len(scores)
        assert cell["mean"] == float(statistics.mean(scores))
        assert cell["agrees"] == sum(s >= 4 for s in scores)
        if len(scores) >= 2:
            assert cell["sd"] == math.sqrt(float(statistics.variance(scores)))
        else:
            assert math.isnan(cell["sd"])
