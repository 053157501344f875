"""Pearson's chi-squared test of independence, without continuity correction."""

from __future__ import annotations

from fractions import Fraction

from scipy.special import chdtrc


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
    """Upper tail of the chi-squared distribution, ``P(X >= statistic)``.

    Uses the regularised upper incomplete gamma function directly (``scipy.special.chdtrc``)
    rather than ``1 - cdf``, so tiny p-values keep their relative precision.
    """
    return float(chdtrc(df, statistic))
