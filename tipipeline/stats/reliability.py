"""Scale reliability: Cronbach's alpha."""

from __future__ import annotations

import math

import numpy as np


def cronbach_alpha(items) -> float:
    """Cronbach's alpha of a respondents x items matrix (rows with any missing item are dropped).

    NaN with fewer than 2 items or 2 complete respondents, or when total scores do not vary.
    """
    matrix = np.asarray(items, dtype=float)
    if matrix.ndim != 2 or matrix.shape[1] < 2:
        return math.nan
    matrix = matrix[~np.isnan(matrix).any(axis=1)]
    if matrix.shape[0] < 2:
        return math.nan
    k = matrix.shape[1]
    total_variance = matrix.sum(axis=1).var(ddof=1)
    if total_variance == 0:
        return math.nan
    return float(k / (k - 1) * (1 - matrix.var(axis=0, ddof=1).sum() / total_variance))
