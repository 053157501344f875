"""Adjusting p-values for multiple comparisons (Benjamini–Hochberg, Holm)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

_METHODS = {"bh": "bh", "fdr": "bh", "benjamini-hochberg": "bh", "holm": "holm"}


def adjust(p_values: Sequence[float | None], method: str) -> list[float | None]:
    """Adjust p-values for multiple comparisons, as R's ``p.adjust`` does.

    Missing entries (None) stay None and do not count as comparisons, like NA in R
    (whose default ``n`` is the number of non-missing p-values).

    Args:
        p_values: P-values in [0, 1], or None where no test was possible.
        method: ``"bh"`` (Benjamini–Hochberg false discovery rate; ``"fdr"`` is accepted
            too) or ``"holm"`` (Holm's step-down family-wise error rate), any case.

    Returns:
        The adjusted p-values, in the input order.

    Raises:
        ValueError: Unknown method, or a p-value outside [0, 1] or NaN.
    """
    kind = _METHODS.get(method.lower())
    if kind is None:
        raise ValueError(f"unknown adjustment method {method!r}; use 'bh' or 'holm'")
    present = [i for i, p in enumerate(p_values) if p is not None]
    values = []
    for i in present:
        given = p_values[i]
        assert given is not None
        if math.isnan(given) or not 0.0 <= given <= 1.0:
            raise ValueError(f"p-values must lie in [0, 1]; got {given!r} at position {i}")
        values.append(float(given))
    out: list[float | None] = [None] * len(p_values)
    m = len(values)
    if m == 0:
        return out
    p = np.array(values)
    if kind == "holm":
        order = np.argsort(p, kind="stable")
        factor = m - np.arange(m)  # m, m-1, ..., 1 for the smallest to the largest
        adjusted = np.minimum(1.0, np.maximum.accumulate(factor * p[order]))
    else:
        order = np.argsort(-p, kind="stable")  # largest first
        rank = m - np.arange(m)  # m, m-1, ..., 1
        adjusted = np.minimum(1.0, np.minimum.accumulate(m / rank * p[order]))
    result = np.empty(m)
    result[order] = adjusted
    for slot, value in zip(present, result.tolist(), strict=True):
        out[slot] = value
    return out
