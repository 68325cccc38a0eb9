"""Comparison with London (the Fingertips rule) and the significance of change between waves."""

from __future__ import annotations

import math

SIMILAR, HIGHER, LOWER, BETTER, WORSE, NOT_COMPARED = "similar", "higher", "lower", "better", "worse", "not compared"


def compare_with_london(lower: float, upper: float, london: float, polarity: str) -> str:
    """The area's CI against London's value: inside (inclusive) -> similar; else higher/lower, or
    better/worse when the indicator has a polarity ('higher_is_better' / 'lower_is_better').
    Without a CI (or a London value) the area is not compared."""
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (lower, upper, london)):
        return NOT_COMPARED
    if lower <= london <= upper:
        return SIMILAR
    higher = lower > london
    if polarity == "higher_is_better":
        return BETTER if higher else WORSE
    if polarity == "lower_is_better":
        return WORSE if higher else BETTER
    return HIGHER if higher else LOWER


def change_significance(lower: float, upper: float) -> str:
    """A change is significant when the 95% CI of the difference excludes zero."""
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (lower, upper)):
        return "not tested"
    if lower > 0:
        return "significant increase"
    if upper < 0:
        return "significant decrease"
    return "no significant change"
