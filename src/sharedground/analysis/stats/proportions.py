"""Difference between two proportions: estimate, confidence interval and test."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from .compare import compare_groups
from .result import TestName

#: Two-sided 95% standard normal quantile, qnorm(0.975).
_Z95 = 1.959963984540054


@dataclass(frozen=True)
class ProportionComparison:
    """Comparison of ``x1/n1`` with ``x2/n2``; all figures in percentage points.

    Attributes:
        difference: ``100 * (x1/n1 - x2/n2)``, or None when a denominator is 0.
        ci_low: Lower end of the 95% confidence interval of the difference.
        ci_high: Upper end of that interval.
        p_value: Two-sided p-value of the test of equal proportions, or None when no test
            is possible (a denominator is 0, or everyone gave the same answer).
        test: ``"chi2"`` or ``"fisher"`` (as chosen by ``compare_groups``), or None.
        reason: Plain-language account of the test, or of why figures are missing.
    """

    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    test: TestName | None
    reason: str


def _check(x: int, n: int, which: str) -> None:
    for name, value in ((f"x{which}", x), (f"n{which}", n)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be a whole number; got {value!r}")
    if n < 0 or not 0 <= x <= n:
        raise ValueError(f"need 0 <= x{which} <= n{which}; got x{which}={x}, n{which}={n}")


def _wilson(x: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval for ``x/n`` (no continuity correction)."""
    z2 = z * z
    centre = (x + z2 / 2) / (n + z2)
    half = z * math.sqrt(x * (n - x) / n + z2 / 4) / (n + z2)
    return max(0.0, centre - half), min(1.0, centre + half)


def two_proportions(x1: int, n1: int, x2: int, n2: int) -> ProportionComparison:
    """Compare two proportions, e.g. the share agreeing in two groups.

    The confidence interval is Newcombe's hybrid score interval without continuity
    correction ("method 10" in Newcombe, R. G. (1998), Interval estimation for the
    difference between independent proportions: comparison of eleven methods, Statistics
    in Medicine 17, 873–890): with Wilson 95% intervals ``(l1, u1)`` and ``(l2, u2)`` for
    the two proportions, the difference ``d = p1 - p2`` has limits
    ``d - sqrt((p1 - l1)^2 + (u2 - p2)^2)`` and ``d + sqrt((u1 - p1)^2 + (p2 - l2)^2)``.

    The p-value comes from :func:`compare_groups` on the 2 × 2 table
    ``[[x1, n1 - x1], [x2, n2 - x2]]``: Pearson's chi-squared without continuity
    correction, or Fisher's exact test when an expected count is below 5.

    Args:
        x1: Number with the attribute in group 1.
        n1: Size of group 1.
        x2: Number with the attribute in group 2.
        n2: Size of group 2.

    Returns:
        Difference, 95% interval and p-value in percentage points (all None, with a
        reason, when ``n1`` or ``n2`` is 0).

    Raises:
        ValueError: Counts that are not whole numbers with ``0 <= x <= n``.
    """
    _check(x1, n1, "1")
    _check(x2, n2, "2")
    if n1 == 0 or n2 == 0:
        empty = " and ".join(f"group {k}" for k, n in (("1", n1), ("2", n2)) if n == 0)
        return ProportionComparison(
            None, None, None, None, None, f"No comparison: {empty} has nobody in it."
        )
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = _wilson(x1, n1, _Z95)
    l2, u2 = _wilson(x2, n2, _Z95)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    result = compare_groups([[x1, n1 - x1], [x2, n2 - x2]])
    return ProportionComparison(
        100.0 * d, 100.0 * low, 100.0 * high, result.p_value, result.test, result.reason
    )
