"""Inter-rater agreement: Cohen's kappa (unweighted and weighted) and percentage agreement."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def cohen_kappa(
    rater1: Sequence, rater2: Sequence, labels: Sequence | None = None, weights: str | None = None
) -> float:
    """Cohen's kappa for two raters' ratings of the same items.

    weights: None (unweighted), "linear" or "quadratic" (for ordered categories, such as the
    audit's 0/1/2 scale, where a 0-vs-2 disagreement is worse than 0-vs-1). `labels` fixes the
    category order (default: sorted union of both raters' ratings). Returns NaN when chance
    agreement is total (every rating in one category), where kappa is undefined.
    """
    a, b = list(rater1), list(rater2)
    if len(a) != len(b):
        raise ValueError(f"the raters rated different numbers of items ({len(a)} and {len(b)})")
    if not a:
        return float("nan")
    categories = list(labels) if labels is not None else sorted(set(a) | set(b))
    index = {c: i for i, c in enumerate(categories)}
    k = len(categories)
    observed = np.zeros((k, k))
    for x, y in zip(a, b):
        observed[index[x], index[y]] += 1
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    if weights is None:
        disagreement = 1.0 - np.eye(k)
    else:
        distance = np.abs(np.subtract.outer(np.arange(k), np.arange(k))).astype(float)
        if weights == "linear":
            disagreement = distance
        elif weights == "quadratic":
            disagreement = distance**2
        else:
            raise ValueError(f"weights must be None, 'linear' or 'quadratic', not {weights!r}")
    expected_disagreement = (disagreement * expected).sum()
    if expected_disagreement == 0:
        return float("nan")
    return float(1.0 - (disagreement * observed).sum() / expected_disagreement)


def percent_agreement(rater1: Sequence, rater2: Sequence) -> float:
    """The percentage of items both raters rated the same (NaN for no items)."""
    a, b = list(rater1), list(rater2)
    if not a:
        return float("nan")
    return 100.0 * sum(x == y for x, y in zip(a, b)) / len(a)
