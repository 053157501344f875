"""Pearson's chi-squared test of independence, without continuity correction."""

from __future__ import annotations

import math
from fractions import Fraction


def pearson_statistic(counts: tuple[tuple[int, ...], ...]) -> float:
    """Pearson's ``X^2 = sum (O - E)^2 / E`` for a table with no empty row or column.

    Evaluated in exact rational arithmetic as ``sum (O*N - R*C)^2 / (N*R*C)`` and rounded
    once, so it is correctly rounded even when N is large and ``O - E`` is small.
    """
    rows = [sum(r) for r in counts]
    cols = [sum(c) for c in zip(*counts, strict=True)]
    n = sum(rows)
    total = Fraction(0)
    for i, row in enumerate(counts):
        for j, observed in enumerate(row):
            expected_times_n = rows[i] * cols[j]
            total += Fraction((observed * n - expected_times_n) ** 2, n * expected_times_n)
    return float(total)


def chi2_pvalue(statistic: float, df: int) -> float:
    """Upper tail of the chi-squared distribution, ``P(X >= statistic)``, for whole ``df``.

    The tail is summed directly rather than taken as ``1 - cdf``, so tiny p-values keep their
    relative precision. For a whole number of degrees of freedom the regularised upper
    incomplete gamma function ``Q(df/2, x/2)`` has a closed form (Abramowitz & Stegun 26.4.4
    and 26.4.5): with ``y = x/2``,

    * even ``df``: ``exp(-y) * sum_{k < df/2} y**k / k!``;
    * odd ``df``: ``erfc(sqrt(y)) + exp(-y) * sum_{k=1..(df-1)/2} y**(k-1/2) / Gamma(k+1/2)``.

    Each term is formed in logarithms, so neither ``exp(-y)`` nor ``y**k`` under- or
    overflows on its own. This replaces ``scipy.special.chdtrc``, which it equals to about
    1e-13 (tests/analysis/test_stats.py checks both on a grid): importing ``scipy.special``
    costs 0.25 s of CPU (its array-API layer clones NumPy), more than the whole analysis of
    a wave, and these tests are all the analysis needed it for (issue #16).
    """
    if df < 1 or df != int(df):
        raise ValueError(f"degrees of freedom must be a whole number >= 1; got {df!r}")
    x = float(statistic)
    if math.isnan(x) or x < 0:
        return math.nan
    if x == 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    y = x / 2
    log_y = math.log(y)
    whole = int(df) // 2
    if int(df) % 2 == 0:
        terms = [math.exp(-y + k * log_y - math.lgamma(k + 1)) for k in range(whole)]
        return min(1.0, math.fsum(terms))
    terms = [math.exp(-y + (k - 0.5) * log_y - math.lgamma(k + 0.5)) for k in range(1, whole + 1)]
    return min(1.0, math.fsum([math.erfc(math.sqrt(y)), *terms]))
