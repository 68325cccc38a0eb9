"""Respondents' scores worked out along the rows of the wide answers (`wide_scores_sql`, issue 14)
equal the scores from the long answers, bit for bit: reverse-coded items, half-point scales, missing answers,
too few answers for a domain, an item id with a quote in it.

The oracle is the long-form SQL, which test_exact.py checks against hand computations."""

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tipipeline.indicators.derived import reliability, wide_reliability_sql
from tipipeline.indicators.scores import respondent_scores_sql, wide_scores_sql

ITEMS = pd.DataFrame(
    [
        # item_id, domain, principle, reverse, scale_min, scale_max
        ("a", "d1", "p1", False, 1.0, 5.0),
        ("b", "d1", "p2", True, 1.0, 5.0),
        ("c", "d1", "p1", False, 1.0, 5.0),
        ("e", "d2", "p2", False, 1.0, 5.0),
        ("f", "d2", "p1", True, 1.0, 5.0),
        ("g's", "d3", "p2", False, 0.0, 10.0),
        ("h", "d3", "p1", False, 0.0, 10.0),
    ],
    columns=["item_id", "domain", "principle", "reverse", "scale_min", "scale_max"],
)


def _frames(values: list[list[float | None]], items: pd.DataFrame, wave="w1"):
    """(wide answers, long answers, respondents) for one row of values per respondent."""
    ids = [f"r{i:03d}" for i in range(len(values))]
    wide = pd.DataFrame({"wave": wave, "respondent_id": ids})
    for j, item in enumerate(items["item_id"]):
        wide[f"v__{item}"] = pd.array([row[j] for row in values], dtype="float64")
    long_rows = []
    for rid, row in zip(ids, values):
        for item, value in zip(items.itertuples(), row):
            scored = None if value is None else (item.scale_min + item.scale_max - value if item.reverse else value)
            long_rows.append((wave, rid, item.item_id, item.domain, item.principle, scored))
    long = pd.DataFrame(
        long_rows, columns=["wave", "respondent_id", "item_id", "domain", "principle", "scored_value"]
    ).astype({"scored_value": "float64"})
    respondents = pd.DataFrame(
        {"wave": wave, "respondent_id": ids, "ti_training_12m": True, "willing_to_share": None}
    ).astype({"willing_to_share": "boolean"})
    return wide, long, respondents


def _both(values, unit=1, share=0.5, domain_share=0.5, items=ITEMS):
    wide, long, respondents = _frames(values, items)
    with duckdb.connect() as conn:
        conn.register("answers_wide", wide)
        conn.register("responses", long)
        conn.register("respondents", respondents)
        order = " ORDER BY wave, respondent_id, measure_type, measure_id"
        from_long = conn.execute(
            respondent_scores_sql(share, domain_share, 4.0, "responses", "respondents", unit) + order
        ).df()
        from_wide = conn.execute(
            wide_scores_sql("answers_wide", items, share, domain_share, 4.0, "respondents", unit) + order
        ).df()
        # Cronbach's alpha both ways too.
        alpha_long = reliability(conn, unit, responses="responses")
        alpha_wide = reliability(conn, unit, sums_sql=wide_reliability_sql("answers_wide", items, unit))
    pd.testing.assert_frame_equal(alpha_long, alpha_wide, check_exact=True)
    return from_long, from_wide


def test_a_hand_made_wave_scores_the_same_both_ways():
    values = [
        [5, 1, 4, 2, 5, 10, 0],  # b and f reverse-coded: 5 and 1
        [None, None, 4, 2, None, 3, None],  # d1 1 of 3 answered: no d1 score
        [None] * 7,  # nothing answered: no scores at all
        [3, 3, 3, 3, 3, 5, 5],
    ]
    from_long, from_wide = _both(values)
    pd.testing.assert_frame_equal(from_long, from_wide, check_exact=True)
    scored = from_wide.set_index(["respondent_id", "measure_type", "measure_id"])
    assert scored.loc[("r000", "domain", "d1"), "score"] == pytest.approx((5 + 5 + 4) / 3)
    assert ("r001", "domain", "d1") not in scored.index
    # By hand: r000's domains are 14/3, (2 + 1)/2 and (10 + 0)/2; over their answered counts' least
    # common multiple 6 the index is (28 + 9 + 30) / (3 x 6) = 67/18.
    index = scored.loc[("r000", "index", "index")]
    assert (index["score_numerator"], index["score_denominator"]) == (67, 18)
    assert index["score"] == 67 / 18
    assert not any(rid == "r002" and mtype != "respondent" for rid, mtype, _ in scored.index)


def test_a_value_off_the_units_is_an_error_naming_the_item():
    with pytest.raises(duckdb.Error, match="of item g's is not a multiple of 1/1"):
        _both([[5, 1, 4, 2, 5, 2.5, 0]])


def test_a_wave_with_one_domain_scores_the_same_both_ways():
    one_domain = ITEMS[ITEMS["domain"] == "d1"].reset_index(drop=True)
    from_long, from_wide = _both([[5, 1, 4], [None, 2, None], [None, None, None]], items=one_domain)
    pd.testing.assert_frame_equal(from_long, from_wide, check_exact=True)
    index = from_wide[from_wide["measure_type"] == "index"].set_index("respondent_id")["score"]
    assert index.to_dict() == {"r000": (5 + 5 + 4) / 3}


answer = st.one_of(st.none(), st.integers(min_value=0, max_value=10).map(lambda v: v / 2))
row = st.lists(answer, min_size=len(ITEMS), max_size=len(ITEMS))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(row, min_size=1, max_size=25), st.sampled_from([0.34, 0.5, 1.0]), st.sampled_from([0.2, 0.34, 0.67, 1.0])
)
def test_random_waves_score_the_same_both_ways(values, share, domain_share):
    # Half-point answers clipped to each item's scale, on a half-point unit.
    clipped = [
        [
            None if v is None else float(np.clip(v, item.scale_min, item.scale_max))
            for v, item in zip(r, ITEMS.itertuples())
        ]
        for r in values
    ]
    from_long, from_wide = _both(clipped, unit=2, share=share, domain_share=domain_share)
    pd.testing.assert_frame_equal(from_long, from_wide, check_exact=True)
